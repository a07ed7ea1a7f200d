//! The inodes the kernel knows: fusegen's [`InodeTable`] of source files, each an `O_PATH`
//! descriptor, plus the index from the source's (device, inode) pair to the number the
//! kernel knows the file by.
//!
//! The table counts the kernel's lookups (every reply that hands it an inode) and drops an
//! entry, and with it (once no request still uses it) the descriptor, when `forget` gives the
//! last one back. Holding the descriptor pins the source inode, so its (device, inode) pair
//! cannot be reused by the source while the kernel still knows it. Entries prepared for a
//! READDIRPLUS reply are held by the table until the reply is filled, which counts the
//! lookups of the entries it took (`ReaddirReply::add_counted`) before the holds go.
//!
//! The number the kernel knows a file by (and `stat` reports) is the source's inode number when
//! the file lives on the source's device and the number is free; files on other devices (mounts
//! inside the source) or whose number is taken get one from a separate range.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};

use fusegen::inodes::{InodeTable, Refs};
use fusegen::{Errno, FileType, Forget, Inode};
use nix::sys::stat::FileStat;

/// Where inode numbers of files that cannot use their own start.
const SYNTHETIC_BASE: u64 = 1 << 56;

/// A source file the kernel holds references to.
#[derive(Debug)]
pub struct InodeData {
    /// `O_PATH | O_NOFOLLOW` descriptor: every operation on the file starts from it.
    pub fd: OwnedFd,
    /// The file's type, fixed for its lifetime.
    pub kind: FileType,
    /// (device, inode) in the source.
    pub key: (u64, u64),
}

impl InodeData {
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn new(fd: OwnedFd, st: &FileStat) -> InodeData {
        InodeData {
            fd,
            kind: FileType::from_mode(st.st_mode).unwrap_or(FileType::RegularFile),
            key: (st.st_dev, st.st_ino),
        }
    }
}

/// Inode numbers to source files, and back.
#[derive(Debug)]
pub struct Inodes {
    table: InodeTable<InodeData>,
    /// (device, inode) to the number of its entry. Entering and leaving the table happen under
    /// this lock, so the index and the table agree; reading the table needs no lock.
    keys: Mutex<HashMap<(u64, u64), Inode>>,
    root_dev: u64,
}

impl Inodes {
    /// A table holding the source's root directory as [`Inode::ROOT`] (held for good: the
    /// kernel never forgets the root).
    pub fn new(root: OwnedFd, st: &FileStat) -> Inodes {
        let table = InodeTable::new().numbers_from(SYNTHETIC_BASE);
        let data = InodeData {
            kind: FileType::Directory,
            ..InodeData::new(root, st)
        };
        let key = data.key;
        // The table is empty: the root's number is free.
        let _ = table.insert(Inode::ROOT, data, Refs::HOLD);
        Inodes {
            table,
            keys: Mutex::new(HashMap::from([(key, Inode::ROOT)])),
            root_dev: st.st_dev,
        }
    }

    fn keys(&self) -> MutexGuard<'_, HashMap<(u64, u64), Inode>> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The table itself, to count the lookups of READDIRPLUS entries.
    pub fn table(&self) -> &InodeTable<InodeData> {
        &self.table
    }

    /// The file behind `ino`. The kernel only names inodes it has not forgotten, so a miss
    /// means the source changed under a stale handle: `ESTALE`.
    pub fn get(&self, ino: Inode) -> Result<Arc<InodeData>, Errno> {
        self.table.get(ino).ok_or(Errno::ESTALE)
    }

    /// The inode number of `key` if the kernel knows the file, else the source's number (for
    /// plain `readdir` entries, which take no reference).
    pub fn peek(&self, key: (u64, u64)) -> Inode {
        self.keys().get(&key).copied().unwrap_or(Inode(key.1))
    }

    /// Adds one lookup of the file `fd` (whose `stat` is `st`), entering it if new; returns its
    /// inode number. `fd` is dropped when the file is already known.
    pub fn remember(&self, fd: OwnedFd, st: &FileStat) -> Inode {
        self.enter(fd, st, Refs::LOOKUP)
    }

    /// Like [`remember`](Self::remember), but holds the entry instead of counting a lookup:
    /// for a READDIRPLUS entry that may not fit the reply. [`release`](Self::release) undoes
    /// it once the reply is filled.
    pub fn remember_held(&self, fd: OwnedFd, st: &FileStat) -> Inode {
        self.enter(fd, st, Refs::HOLD)
    }

    fn enter(&self, fd: OwnedFd, st: &FileStat, refs: Refs) -> Inode {
        let key = (st.st_dev, st.st_ino);
        let mut keys = self.keys();
        if let Some(&ino) = keys.get(&key) {
            let counted = if refs.lookups > 0 {
                self.table.lookup(ino)
            } else {
                self.table.hold(ino)
            };
            if counted.is_some() {
                return ino;
            }
        }
        let mut data = InodeData::new(fd, st);
        // The source's own number if it is on the source's device (else numbers could
        // collide across devices) and free; else the next synthetic one.
        let mut ino = if key.0 == self.root_dev && key.1 > Inode::ROOT.0 {
            Inode(key.1)
        } else {
            self.table.allocate()
        };
        while let Err(back) = self.table.insert(ino, data, refs) {
            data = back;
            ino = self.table.allocate();
        }
        keys.insert(key, ino);
        ino
    }

    /// The kernel gives back lookups (FORGET, BATCH_FORGET); entries with none left go, and
    /// their descriptors are closed once no request uses them.
    pub fn forget(&self, forgets: &[Forget]) {
        let gone = {
            let mut keys = self.keys();
            let gone = self.table.forget_batch(forgets);
            self.unindex(&mut keys, &gone);
            gone
        };
        drop(gone); // closes the descriptors outside the lock
    }

    /// Drops the holds [`remember_held`](Self::remember_held) took.
    pub fn release(&self, inos: &[Inode]) {
        let gone = {
            let mut keys = self.keys();
            let gone: Vec<_> = inos.iter().filter_map(|&i| self.table.release(i)).collect();
            self.unindex(&mut keys, &gone);
            gone
        };
        drop(gone);
    }

    /// Unmount: every lookup is gone; only the root stays.
    pub fn forget_all(&self) {
        let gone = {
            let mut keys = self.keys();
            let gone = self.table.forget_all();
            self.unindex(&mut keys, &gone);
            gone
        };
        drop(gone);
    }

    /// Removes the keys of entries that left the table.
    fn unindex(&self, keys: &mut HashMap<(u64, u64), Inode>, gone: &[Arc<InodeData>]) {
        for data in gone {
            if let Some(&ino) = keys.get(&data.key)
                && !self.table.contains(ino)
            {
                keys.remove(&data.key);
            }
        }
    }

    /// Number of inodes known (the root included).
    pub fn len(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{open_path, stat_fd};

    fn table() -> (tempfile_dir::Dir, Inodes) {
        let dir = tempfile_dir::Dir::new();
        let root = nix::fcntl::open(
            dir.path(),
            nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY,
            nix::sys::stat::Mode::empty(),
        )
        .unwrap();
        let st = stat_fd(&root).unwrap();
        (dir, Inodes::new(root, &st))
    }

    /// A directory removed at the end of the test (no dev-dependency needed).
    mod tempfile_dir {
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let p = std::env::temp_dir().join(format!(
                    "passthrough-unit-{}-{:?}",
                    std::process::id(),
                    std::thread::current().id()
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn lookups_share_one_entry_until_all_are_forgotten() {
        let (dir, t) = table();
        std::fs::write(dir.path().join("f"), b"").unwrap();
        let root = t.get(Inode::ROOT).unwrap();
        let name = std::ffi::OsStr::new("f");
        let fd = open_path(root.fd(), name).unwrap();
        let st = stat_fd(&fd).unwrap();
        let a = t.remember(fd, &st);
        assert_eq!(a, Inode(st.st_ino), "the source's inode number");
        let b = t.remember(open_path(root.fd(), name).unwrap(), &st);
        assert_eq!(a, b);
        assert_eq!(t.len(), 2);
        t.forget(&[Forget { ino: a, nlookup: 1 }]);
        assert!(t.get(a).is_ok(), "one lookup left");
        t.forget(&[Forget { ino: a, nlookup: 1 }]);
        assert_eq!(t.get(a).unwrap_err(), Errno::ESTALE);
        assert_eq!(t.len(), 1);
        t.forget(&[Forget {
            ino: Inode::ROOT,
            nlookup: 10,
        }]);
        assert!(t.get(Inode::ROOT).is_ok(), "the root stays");
    }

    #[test]
    fn other_devices_and_taken_numbers_get_synthetic_numbers() {
        let (dir, t) = table();
        std::fs::write(dir.path().join("f"), b"").unwrap();
        let root = t.get(Inode::ROOT).unwrap();
        let fd = open_path(root.fd(), std::ffi::OsStr::new("f")).unwrap();
        let mut st = stat_fd(&fd).unwrap();
        st.st_dev ^= 1; // as if a filesystem were mounted inside the source
        let other = t.remember(fd, &st);
        assert!(other.0 >= SYNTHETIC_BASE);
        assert_eq!(t.peek((st.st_dev, st.st_ino)), other);
    }

    #[test]
    fn held_entries_go_on_release_unless_a_lookup_was_counted() {
        let (dir, t) = table();
        std::fs::write(dir.path().join("a"), b"").unwrap();
        std::fs::write(dir.path().join("b"), b"").unwrap();
        let root = t.get(Inode::ROOT).unwrap();
        let enter = |name: &str| {
            let fd = open_path(root.fd(), std::ffi::OsStr::new(name)).unwrap();
            let st = stat_fd(&fd).unwrap();
            t.remember_held(fd, &st)
        };
        let (a, b) = (enter("a"), enter("b"));
        assert_eq!(t.table().lookups(a), Some(0));
        // As a READDIRPLUS reply that took `a` only.
        t.table().lookup(a).unwrap();
        t.release(&[a, b]);
        assert!(t.get(a).is_ok(), "the kernel knows a");
        assert_eq!(t.get(b).unwrap_err(), Errno::ESTALE);
        let b_key = (dir_dev(&dir), b.0);
        assert_eq!(t.peek(b_key), b, "b's key left the index with it");
        t.forget_all();
        assert_eq!(t.len(), 1, "only the root stays");
    }

    fn dir_dev(dir: &tempfile_dir::Dir) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(dir.path()).unwrap().dev()
    }
}
