//! [`DirEntries`]: a directory's entries with readdir offsets that stay valid while entries
//! come and go (`docs/inodes.md`).
//!
//! Each entry gets a *cookie* when it is inserted, from a counter that only grows; the offset
//! the kernel passes back to continue after an entry is that entry's cookie. Listing from an
//! offset returns the entries with larger cookies, so a listing resumed after inserts and
//! deletes neither repeats nor skips an entry that existed throughout, an offset whose entry
//! was deleted meanwhile resumes with the entries after it, and an offset past the end lists
//! nothing. Offsets 1 and 2 belong to `.` and `..`; the first cookie is 3.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};

use crate::api::types::{EntryAttributes, FileType, Inode};
use crate::helpers::inodes::InodeTable;
use crate::proto::dir::{Outcome, ReaddirReply};

/// The offset after `.`.
const DOT: u64 = 1;
/// The offset after `..`.
const DOTDOT: u64 = 2;
/// The first entry's cookie.
const FIRST_COOKIE: u64 = 3;

/// The entries of one directory by name, each with a stable readdir offset (its cookie), and
/// [`fill`](Self::fill) to list them into a [`ReaddirReply`] from any offset.
///
/// `V` is what the filesystem keeps per entry, typically the inode number and file type.
/// The type is not synchronized itself: keep it under the directory's lock.
///
/// ```
/// use fusegen::{DirEntries, Inode};
/// use std::ffi::OsStr;
///
/// let mut dir = DirEntries::new();
/// dir.insert(OsStr::new("a"), Inode(2)).unwrap();
/// dir.insert(OsStr::new("b"), Inode(3)).unwrap();
/// let after_a: Vec<_> = dir.after(3).map(|(_, name, _)| name.to_owned()).collect();
/// assert_eq!(after_a, ["b"]);
/// dir.remove(OsStr::new("a"));
/// // The offset of the deleted `a` still resumes right after it.
/// assert_eq!(dir.after(3).count(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct DirEntries<V> {
    by_cookie: BTreeMap<u64, (OsString, V)>,
    by_name: HashMap<OsString, u64>,
    next_cookie: u64,
}

impl<V> Default for DirEntries<V> {
    fn default() -> DirEntries<V> {
        DirEntries::new()
    }
}

/// The inode numbers of `.` and `..` for [`DirEntries::fill`].
///
/// ```
/// use fusegen::{Dots, Inode};
/// // The root directory is its own parent.
/// let dots = Dots { dir: Inode::ROOT, parent: Inode::ROOT };
/// # let _ = dots;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dots {
    /// The directory itself (`.`).
    pub dir: Inode,
    /// Its parent (`..`).
    pub parent: Inode,
}

impl<V> DirEntries<V> {
    /// An empty directory.
    ///
    /// ```
    /// let dir: fusegen::DirEntries<()> = fusegen::DirEntries::new();
    /// assert!(dir.is_empty());
    /// ```
    pub fn new() -> DirEntries<V> {
        DirEntries {
            by_cookie: BTreeMap::new(),
            by_name: HashMap::new(),
            next_cookie: FIRST_COOKIE,
        }
    }

    /// The entry `name`.
    ///
    /// ```
    /// # use std::ffi::OsStr;
    /// let mut dir = fusegen::DirEntries::new();
    /// dir.insert(OsStr::new("x"), 5).unwrap();
    /// assert_eq!(dir.get(OsStr::new("x")), Some(&5));
    /// ```
    pub fn get(&self, name: &OsStr) -> Option<&V> {
        let cookie = self.by_name.get(name)?;
        self.by_cookie.get(cookie).map(|(_, v)| v)
    }

    /// The entry `name`, to change in place; its offset stays (e.g. `RENAME_EXCHANGE`).
    ///
    /// ```
    /// # use std::ffi::OsStr;
    /// let mut dir = fusegen::DirEntries::new();
    /// dir.insert(OsStr::new("x"), 5).unwrap();
    /// *dir.get_mut(OsStr::new("x")).unwrap() = 6;
    /// assert_eq!(dir.get(OsStr::new("x")), Some(&6));
    /// ```
    pub fn get_mut(&mut self, name: &OsStr) -> Option<&mut V> {
        let cookie = self.by_name.get(name)?;
        self.by_cookie.get_mut(cookie).map(|(_, v)| v)
    }

    /// Adds `name` at the end of the listing; returns its cookie (the offset that resumes
    /// after it). Gives `value` back if `name` exists (or, after 2^64 insertions, when the
    /// directory has run out of cookies).
    ///
    /// ```
    /// # use std::ffi::OsStr;
    /// let mut dir = fusegen::DirEntries::new();
    /// assert_eq!(dir.insert(OsStr::new("x"), 1), Ok(3));
    /// assert_eq!(dir.insert(OsStr::new("x"), 2), Err(2));
    /// ```
    pub fn insert(&mut self, name: &OsStr, value: V) -> Result<u64, V> {
        if self.by_name.contains_key(name) || self.next_cookie == u64::MAX {
            return Err(value);
        }
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        self.by_name.insert(name.to_owned(), cookie);
        self.by_cookie.insert(cookie, (name.to_owned(), value));
        Ok(cookie)
    }

    /// Removes `name`; its offset stays a valid place to resume a listing.
    ///
    /// ```
    /// # use std::ffi::OsStr;
    /// let mut dir = fusegen::DirEntries::new();
    /// dir.insert(OsStr::new("x"), 1).unwrap();
    /// assert_eq!(dir.remove(OsStr::new("x")), Some(1));
    /// assert_eq!(dir.remove(OsStr::new("x")), None);
    /// ```
    pub fn remove(&mut self, name: &OsStr) -> Option<V> {
        let cookie = self.by_name.remove(name)?;
        self.by_cookie.remove(&cookie).map(|(_, v)| v)
    }

    /// Number of entries (`.` and `..` not included).
    ///
    /// ```
    /// # use std::ffi::OsStr;
    /// let mut dir = fusegen::DirEntries::new();
    /// dir.insert(OsStr::new("x"), ()).unwrap();
    /// assert_eq!(dir.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.by_cookie.len()
    }

    /// Whether the directory has no entry besides `.` and `..`.
    ///
    /// ```
    /// assert!(fusegen::DirEntries::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.by_cookie.is_empty()
    }

    /// The entries a listing resumed at readdir offset `offset` continues with, in order,
    /// as (cookie, name, value); offsets 0 to 2 start at the first entry.
    ///
    /// ```
    /// # use std::ffi::OsStr;
    /// let mut dir = fusegen::DirEntries::new();
    /// let a = dir.insert(OsStr::new("a"), ()).unwrap();
    /// dir.insert(OsStr::new("b"), ()).unwrap();
    /// assert_eq!(dir.after(0).count(), 2);
    /// assert_eq!(dir.after(a).count(), 1);
    /// assert_eq!(dir.after(u64::MAX).count(), 0);
    /// ```
    pub fn after(&self, offset: u64) -> impl Iterator<Item = (u64, &OsStr, &V)> {
        self.by_cookie
            .range(offset.saturating_add(1).max(FIRST_COOKIE)..)
            .map(|(&cookie, (name, v))| (cookie, name.as_os_str(), v))
    }

    /// Lists the directory into `out` from `offset` (what the kernel passed to `readdir`):
    /// `.` and `..` first when `dots` is given, then the entries in cookie order, until the
    /// buffer is full. `attrs` gives each entry's attributes, or `None` to leave it out.
    /// Returns how many entries were added.
    ///
    /// Lookups are counted in `table` exactly as the kernel counts them: for a READDIRPLUS
    /// reply, one per added entry other than `.` and `..` with a non-zero inode; none for
    /// plain READDIR (`docs/inodes.md`). A READDIRPLUS entry whose inode has no entry in
    /// `table` is left out. If an entry turns out invalid, the reply becomes `EIO` and the
    /// lookups it counted are given back.
    ///
    /// ```
    /// use fusegen::inodes::InodeTable;
    /// use fusegen::{DirEntries, Dots, EntryAttributes, FileType, Inode, ReaddirReply};
    ///
    /// struct Node { kind: FileType }
    ///
    /// fn readdir(
    ///     dir: Inode,
    ///     parent: Inode,
    ///     entries: &DirEntries<Inode>,
    ///     table: &InodeTable<Node>,
    ///     offset: u64,
    ///     out: &mut ReaddirReply<'_>,
    /// ) {
    ///     entries.fill(out, offset, Some(Dots { dir, parent }), table, |_name, &ino| {
    ///         let node = table.get(ino)?;
    ///         Some(EntryAttributes::new(ino, node.kind, 0o644))
    ///     });
    /// }
    /// ```
    pub fn fill<T>(
        &self,
        out: &mut ReaddirReply<'_>,
        offset: u64,
        dots: Option<Dots>,
        table: &InodeTable<T>,
        mut attrs: impl FnMut(&OsStr, &V) -> Option<EntryAttributes>,
    ) -> usize {
        let before = out.len();
        if let Some(dots) = dots {
            // The kernel takes no reference for the dots and ignores their attributes beyond
            // number and type.
            for (name, ino, next) in [(".", dots.dir, DOT), ("..", dots.parent, DOTDOT)] {
                let attr = EntryAttributes::new(ino, FileType::Directory, 0o755);
                if offset < next && !out.add(OsStr::new(name), &attr, next) {
                    return out.len() - before;
                }
            }
        }
        for (cookie, name, value) in self.after(offset) {
            let Some(attr) = attrs(name, value) else {
                continue;
            };
            if out.add_counting(name, &attr, cookie, table) == Outcome::Stop {
                break;
            }
        }
        out.len() - before
    }
}

#[cfg(test)]
#[path = "dir_entries_tests.rs"]
pub(crate) mod tests;
