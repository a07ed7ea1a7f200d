//! [`ReaddirReply`]: packs directory entries into the kernel's READDIR / READDIRPLUS format.
//!
//! Records are a fixed header, the name, and zero padding to 8 bytes. An entry that does not
//! fit the kernel's buffer is refused whole, and the handler stops (pyfuse3's `readdir_reply`
//! returning `False`).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use zerocopy::IntoBytes;

use crate::api::types::{EntryAttributes, Inode};
use crate::proto::abi;
use crate::proto::reply::{ReplyPolicy, entry_out};

/// The buffer a `readdir` handler fills, one [`add`](ReaddirReply::add) per entry.
///
/// ```
/// # use fusegen::{EntryAttributes, FileType, Inode, ReaddirReply, Result};
/// # use std::ffi::OsStr;
/// fn list(entries: &[(&str, EntryAttributes)], start: u64, out: &mut ReaddirReply<'_>) -> Result<()> {
///     for (i, (name, attr)) in entries.iter().enumerate().skip(start as usize) {
///         // The offset passed back to the next readdir call is the index of the next entry.
///         if !out.add(OsStr::new(name), attr, i as u64 + 1) {
///             break; // buffer full: the kernel will call again from that offset
///         }
///     }
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct ReaddirReply<'a> {
    buf: Vec<u8>,
    max: usize,
    plus: bool,
    policy: &'a ReplyPolicy,
    entries: usize,
    invalid: Option<&'static str>,
    /// Inodes whose lookup [`add_counted`](Self::add_counted) counted, to give them back if
    /// the reply turns out invalid (then the kernel sees none of its entries).
    counted: Vec<Inode>,
}

/// Lookup counts that [`ReaddirReply::add_counting`] keeps for READDIRPLUS entries: the
/// inode table of `helpers/inodes.rs`, named here by what the packing needs of it so the
/// protocol layer does not depend on the helpers.
pub(crate) trait LookupCounts {
    /// Counts one lookup of `ino`; `false`, counting nothing, when `ino` is not in the table.
    fn count_one(&self, ino: Inode) -> bool;
    /// Gives back one lookup of `ino`.
    fn forget_one(&self, ino: Inode);
}

/// What [`ReaddirReply::add_counting`] did with one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Added,
    /// Buffer full or invalid entry: the listing stops here.
    Stop,
    /// A READDIRPLUS entry whose inode has left the table: left out, the listing goes on.
    Vanished,
}

const DIRENT: usize = size_of::<abi::fuse_dirent>();
const DIRENTPLUS: usize = size_of::<abi::fuse_direntplus>();

fn padded(len: usize) -> usize {
    len.div_ceil(8) * 8
}

impl<'a> ReaddirReply<'a> {
    pub(crate) fn new(max: usize, plus: bool, policy: &'a ReplyPolicy) -> ReaddirReply<'a> {
        ReaddirReply {
            buf: Vec::with_capacity(max.min(64 * 1024)),
            max,
            plus,
            policy,
            entries: 0,
            invalid: None,
            counted: Vec::new(),
        }
    }

    /// Adds one entry; returns `false`, adding nothing, when the kernel's buffer is full.
    ///
    /// `next_offset` is the value the kernel passes back as `offset` to continue *after* this
    /// entry; it must be non-zero and stable for the directory's lifetime as far as the
    /// filesystem can make it so (0 means "from the start").
    ///
    /// Entries carry full attributes (READDIRPLUS) whenever the kernel asked for them: then
    /// each added entry other than `.` and `..` with a non-zero inode counts as one lookup, and
    /// the filesystem must expect a matching `forget`.
    ///
    /// A name that is empty, longer than 255 bytes or contains `/` or NUL, or attributes
    /// without a file type, are refused (`false`) and the whole reply becomes `EIO`.
    ///
    /// Filesystems that keep their inodes in an [`InodeTable`](crate::inodes::InodeTable) use
    /// [`add_counted`](Self::add_counted) (or [`DirEntries::fill`](crate::DirEntries::fill))
    /// instead, which counts those lookups for them.
    pub fn add(&mut self, name: &OsStr, attr: &EntryAttributes, next_offset: u64) -> bool {
        let bytes = name.as_bytes();
        if let Some(problem) = check_entry(bytes, attr, self.plus) {
            self.invalid = Some(problem);
            if !self.counted.is_empty() {
                tracing::error!(
                    counted = self.counted.len(),
                    "invalid readdir entry after counted ones: their lookups stay counted \
                     (use add_counted for every entry)"
                );
            }
            return false;
        }
        if !self.fits(name) {
            return false;
        }
        let name = bytes;
        let header = if self.plus { DIRENTPLUS } else { DIRENT };
        let record = padded(header + name.len());
        let dirent = abi::fuse_dirent {
            ino: attr.ino.0,
            off: next_offset,
            namelen: u32::try_from(name.len()).unwrap_or(u32::MAX),
            r#type: attr.kind().map_or(0, |k| k.dirent_type()),
        };
        if self.plus {
            let entry = abi::fuse_direntplus {
                entry_out: entry_out(attr, self.policy),
                dirent,
            };
            self.buf.extend_from_slice(entry.as_bytes());
        } else {
            self.buf.extend_from_slice(dirent.as_bytes());
        }
        self.buf.extend_from_slice(name);
        self.buf
            .resize(self.buf.len() + (record - header - name.len()), 0);
        self.entries += 1;
        true
    }

    /// [`add_counted`](Self::add_counted), telling a full buffer from a vanished inode.
    /// (`add_counted` itself is defined next to the table, in `helpers/inodes.rs`.)
    pub(crate) fn add_counting(
        &mut self,
        name: &OsStr,
        attr: &EntryAttributes,
        next_offset: u64,
        table: &impl LookupCounts,
    ) -> Outcome {
        let counts = self.plus && attr.ino.0 != 0 && !is_dot_or_dotdot(name);
        if let Some(problem) = check_entry(name.as_bytes(), attr, self.plus) {
            self.invalid = Some(problem);
            for ino in self.counted.drain(..) {
                table.forget_one(ino);
            }
            return Outcome::Stop;
        }
        if !self.fits(name) {
            return Outcome::Stop;
        }
        // Counted before it is added, so that no entry reaches the kernel uncounted; it
        // fits and is valid, so `add` cannot refuse it.
        if counts && !table.count_one(attr.ino) {
            tracing::debug!(
                ino = attr.ino.0,
                ?name,
                "readdirplus entry left out: no inode"
            );
            return Outcome::Vanished;
        }
        if !self.add(name, attr, next_offset) {
            return Outcome::Stop;
        }
        if counts {
            self.counted.push(attr.ino);
        }
        Outcome::Added
    }

    /// Whether a record for `name` still fits the kernel's buffer.
    fn fits(&self, name: &OsStr) -> bool {
        let header = if self.plus { DIRENTPLUS } else { DIRENT };
        self.buf.len() + padded(header + name.len()) <= self.max
    }

    /// Adds a whole listing from `offset` on, for directories whose entries have stable
    /// positions (a fixed list, or one only ever appended to): entry `i` is continued from
    /// offset `i + 1`, and a call with `offset` resumes after the first `offset` entries.
    /// Stops when the buffer is full; returns how many entries were added.
    ///
    /// ```
    /// # use fusegen::{EntryAttributes, FileType, Inode, ReaddirReply};
    /// fn list(out: &mut ReaddirReply<'_>, offset: u64) {
    ///     let dir = EntryAttributes::new(Inode::ROOT, FileType::Directory, 0o755);
    ///     let file = EntryAttributes::new(Inode(2), FileType::RegularFile, 0o644);
    ///     out.add_listing(offset, [(".", dir), ("..", dir), ("hello", file)]);
    /// }
    /// ```
    pub fn add_listing<N: AsRef<OsStr>>(
        &mut self,
        offset: u64,
        entries: impl IntoIterator<Item = (N, EntryAttributes)>,
    ) -> usize {
        let before = self.entries;
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        for (i, (name, attr)) in entries.into_iter().enumerate().skip(skip) {
            if !self.add(name.as_ref(), &attr, i as u64 + 1) {
                break;
            }
        }
        self.entries - before
    }

    /// Number of entries added so far.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Whether no entry has been added.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Whether the kernel asked for attributes (READDIRPLUS).
    pub fn is_plus(&self) -> bool {
        self.plus
    }

    /// Why an entry was refused, if one was.
    pub(crate) fn invalid(&self) -> Option<&'static str> {
        self.invalid
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// What a reply filled elsewhere needs to behave as this one would: the room left, whether
    /// it is READDIRPLUS, and a copy of the policy. For a blocking handler's thread
    /// (`helpers/blocking.rs`), which cannot borrow this reply.
    pub(crate) fn spare(&self) -> (usize, bool, ReplyPolicy) {
        (
            self.max.saturating_sub(self.buf.len()),
            self.plus,
            self.policy.clone(),
        )
    }

    /// The entries added, apart from the reply (see [`spare`](Self::spare)).
    pub(crate) fn into_filled(self) -> Filled {
        Filled {
            buf: self.buf,
            entries: self.entries,
            invalid: self.invalid,
            counted: self.counted,
        }
    }

    /// Appends the entries of a reply made from [`spare`](Self::spare).
    pub(crate) fn absorb(&mut self, filled: Filled) {
        self.buf.extend_from_slice(&filled.buf);
        self.entries += filled.entries;
        self.invalid = self.invalid.or(filled.invalid);
        self.counted.extend(filled.counted);
    }
}

/// The entries of a [`ReaddirReply`] filled on another thread, on their way back.
#[derive(Debug)]
pub(crate) struct Filled {
    buf: Vec<u8>,
    entries: usize,
    invalid: Option<&'static str>,
    counted: Vec<Inode>,
}

fn is_dot_or_dotdot(name: &OsStr) -> bool {
    matches!(name.as_bytes(), b"." | b"..")
}

/// Plain READDIR records may leave the type unknown (`DT_UNKNOWN`); READDIRPLUS records carry
/// full attributes, which need one.
fn check_entry(name: &[u8], attr: &EntryAttributes, plus: bool) -> Option<&'static str> {
    if name.is_empty() {
        Some("empty name")
    } else if name.len() > 255 {
        Some("name longer than 255 bytes")
    } else if name.contains(&b'/') || name.contains(&0) {
        Some("name contains `/` or NUL")
    } else if plus && attr.kind().is_none() {
        Some("attributes without a file type in `mode`")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::{FileType, Inode};

    fn attr(ino: u64, kind: FileType) -> EntryAttributes {
        EntryAttributes::new(Inode(ino), kind, 0o755)
    }

    #[test]
    fn dirent_records_are_padded_to_8_bytes() {
        let policy = ReplyPolicy::default();
        let mut r = ReaddirReply::new(4096, false, &policy);
        assert!(r.add(OsStr::new("a"), &attr(5, FileType::RegularFile), 1));
        assert!(r.add(OsStr::new("dir12345"), &attr(6, FileType::Directory), 2));
        let b = r.into_bytes();
        assert_eq!(b.len(), 32 + 32);
        assert_eq!(&b[0..8], &5u64.to_ne_bytes()); // ino
        assert_eq!(&b[8..16], &1u64.to_ne_bytes()); // off
        assert_eq!(&b[16..20], &1u32.to_ne_bytes()); // namelen
        assert_eq!(&b[20..24], &u32::from(libc::DT_REG).to_ne_bytes()); // type
        assert_eq!(&b[24..32], b"a\0\0\0\0\0\0\0"); // name + zero padding
        assert_eq!(&b[32 + 24..64], b"dir12345"); // exactly 8: no padding
    }

    #[test]
    fn full_buffer_refuses_whole_entry() {
        let policy = ReplyPolicy::default();
        let mut r = ReaddirReply::new(40, false, &policy);
        assert!(r.add(OsStr::new("first"), &attr(2, FileType::RegularFile), 1));
        assert!(!r.add(OsStr::new("second"), &attr(3, FileType::RegularFile), 2));
        assert_eq!(r.len(), 1);
        assert_eq!(r.into_bytes().len(), 32);
    }

    #[test]
    fn exact_fit_is_accepted() {
        let policy = ReplyPolicy::default();
        let mut r = ReaddirReply::new(64, false, &policy);
        assert!(r.add(OsStr::new("12345678"), &attr(2, FileType::RegularFile), 1));
        assert!(r.add(OsStr::new("abcdefgh"), &attr(3, FileType::RegularFile), 2));
        assert!(!r.add(OsStr::new("x"), &attr(4, FileType::RegularFile), 3));
    }

    #[test]
    fn invalid_names_and_attributes_are_refused() {
        let policy = ReplyPolicy::default();
        let good = attr(2, FileType::RegularFile);
        for bad in ["", "a/b", "nul\0", &"x".repeat(256)] {
            let mut r = ReaddirReply::new(4096, false, &policy);
            assert!(!r.add(OsStr::new(bad), &good, 1), "{bad:?} accepted");
            assert!(r.invalid().is_some());
        }
        let mut untyped = good;
        untyped.mode = 0o644;
        let mut r = ReaddirReply::new(4096, true, &policy);
        assert!(!r.add(OsStr::new("f"), &untyped, 1));
        assert_eq!(
            r.invalid(),
            Some("attributes without a file type in `mode`")
        );
        let mut r = ReaddirReply::new(4096, false, &policy);
        assert!(
            r.add(OsStr::new("f"), &untyped, 1),
            "plain READDIR may say DT_UNKNOWN"
        );
        let mut r = ReaddirReply::new(4096, false, &policy);
        assert!(r.add(OsStr::new(&"y".repeat(255)), &good, 1));
        assert_eq!(r.invalid(), None);
    }

    #[test]
    fn add_listing_resumes_at_the_offset_it_handed_out() {
        let policy = ReplyPolicy::default();
        let listing = || (0..5u64).map(|i| (format!("e{i}"), attr(i + 2, FileType::RegularFile)));
        // A buffer that holds two 32-byte records.
        let mut first = ReaddirReply::new(64, false, &policy);
        assert_eq!(first.add_listing(0, listing()), 2);
        let bytes = first.into_bytes();
        let next_offset = u64::from_ne_bytes(bytes[32 + 8..32 + 16].try_into().unwrap());
        assert_eq!(next_offset, 2, "the second entry continues at offset 2");
        let mut rest = ReaddirReply::new(4096, false, &policy);
        assert_eq!(rest.add_listing(next_offset, listing()), 3);
        assert_eq!(
            &rest.into_bytes()[0..8],
            &4u64.to_ne_bytes(),
            "resumes with e2 (inode 4)"
        );
    }

    #[test]
    fn direntplus_carries_entry_out() {
        let policy = ReplyPolicy::default();
        let mut r = ReaddirReply::new(4096, true, &policy);
        assert!(r.add(OsStr::new("f"), &attr(9, FileType::Symlink).with_size(3), 7));
        let b = r.into_bytes();
        assert_eq!(b.len(), padded(DIRENTPLUS + 1));
        assert_eq!(&b[0..8], &9u64.to_ne_bytes()); // entry_out.nodeid
        let attr_size_at = 40 + 8; // entry_out header (40) + fuse_attr.ino (8)
        assert_eq!(&b[attr_size_at..attr_size_at + 8], &3u64.to_ne_bytes());
        assert_eq!(&b[128..136], &9u64.to_ne_bytes()); // dirent.ino
        assert_eq!(&b[136..144], &7u64.to_ne_bytes()); // dirent.off
        assert_eq!(b[152], b'f');
    }
}
