//! The inode table: one `O_PATH` descriptor per source file the kernel knows, keyed by the
//! source's (device, inode) pair, with the kernel's lookup count.
//!
//! Every reply that hands the kernel an inode (lookup, the creating operations, readdirplus
//! entries) adds one lookup; `forget` subtracts them, and at zero the entry and its descriptor
//! go away. Holding the descriptor pins the source inode, so its (device, inode) pair cannot be
//! reused by the source while the kernel still knows it.
//!
//! The number the kernel knows a file by (and `stat` reports) is the source's inode number when
//! the file lives on the source's device and the number is free; files on other devices (mounts
//! inside the source) or whose number is taken get one from a separate range.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use fusegen::{BackingFile, Errno, FileType, Inode};
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
    /// The backing file of kernel passthrough, shared by every open of this inode (the kernel
    /// refuses two different backing files for one inode at once).
    pub backing: OnceLock<BackingFile>,
    /// Open file handles of this inode.
    pub opens: AtomicUsize,
}

impl InodeData {
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[derive(Debug)]
struct Entry {
    data: Arc<InodeData>,
    lookups: u64,
}

#[derive(Debug, Default)]
struct Tables {
    by_ino: HashMap<u64, Entry>,
    by_key: HashMap<(u64, u64), u64>,
}

/// Inode numbers to source files, and back.
#[derive(Debug)]
pub struct InodeTable {
    tables: Mutex<Tables>,
    root_dev: u64,
    next_synthetic: AtomicU64,
}

impl InodeTable {
    /// A table holding the source's root directory as [`Inode::ROOT`]; the root is never
    /// forgotten.
    pub fn new(root: OwnedFd, st: &FileStat) -> InodeTable {
        let key = (st.st_dev, st.st_ino);
        let mut tables = Tables::default();
        tables.by_ino.insert(
            Inode::ROOT.0,
            Entry {
                data: Arc::new(InodeData {
                    fd: root,
                    kind: FileType::Directory,
                    key,
                    backing: OnceLock::new(),
                    opens: AtomicUsize::new(0),
                }),
                lookups: 1,
            },
        );
        tables.by_key.insert(key, Inode::ROOT.0);
        InodeTable {
            tables: Mutex::new(tables),
            root_dev: st.st_dev,
            next_synthetic: AtomicU64::new(SYNTHETIC_BASE),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The file behind `ino`. The kernel only names inodes it has not forgotten, so a miss
    /// means the source changed under a stale handle: `ESTALE`.
    pub fn get(&self, ino: Inode) -> Result<Arc<InodeData>, Errno> {
        self.lock()
            .by_ino
            .get(&ino.0)
            .map(|e| e.data.clone())
            .ok_or(Errno::ESTALE)
    }

    /// The inode number of `key` if the kernel knows the file, else the source's number (for
    /// plain `readdir` entries, which take no reference).
    pub fn peek(&self, key: (u64, u64)) -> Inode {
        Inode(self.lock().by_key.get(&key).copied().unwrap_or(key.1))
    }

    fn own_number_usable(&self, t: &Tables, key: (u64, u64)) -> bool {
        key.0 == self.root_dev && key.1 > Inode::ROOT.0 && !t.by_ino.contains_key(&key.1)
    }

    /// Adds one lookup of the file `fd` (whose `stat` is `st`), entering it if new; returns its
    /// inode number. `fd` is dropped when the file is already known.
    pub fn remember(&self, fd: OwnedFd, st: &FileStat) -> Inode {
        let key = (st.st_dev, st.st_ino);
        let mut t = self.lock();
        if let Some(&ino) = t.by_key.get(&key)
            && let Some(e) = t.by_ino.get_mut(&ino)
        {
            e.lookups += 1;
            return Inode(ino);
        }
        let ino = if self.own_number_usable(&t, key) {
            key.1
        } else {
            loop {
                let n = self.next_synthetic.fetch_add(1, Ordering::Relaxed);
                if !t.by_ino.contains_key(&n) {
                    break n;
                }
            }
        };
        let data = InodeData {
            fd,
            kind: FileType::from_mode(st.st_mode).unwrap_or(FileType::RegularFile),
            key,
            backing: OnceLock::new(),
            opens: AtomicUsize::new(0),
        };
        t.by_ino.insert(
            ino,
            Entry {
                data: Arc::new(data),
                lookups: 1,
            },
        );
        t.by_key.insert(key, ino);
        Inode(ino)
    }

    /// Drops `n` lookups of `ino`; at zero the entry goes, and with it (once no request still
    /// uses it) the descriptor.
    pub fn forget(&self, ino: Inode, n: u64) {
        let gone = {
            let mut t = self.lock();
            let Some(e) = t.by_ino.get_mut(&ino.0) else {
                return;
            };
            e.lookups = e.lookups.saturating_sub(n);
            if e.lookups > 0 || ino == Inode::ROOT {
                return;
            }
            let e = t.by_ino.remove(&ino.0).expect("present");
            if t.by_key.get(&e.data.key) == Some(&ino.0) {
                t.by_key.remove(&e.data.key);
            }
            e
        };
        drop(gone); // closes the descriptor outside the lock
    }

    /// Number of inodes known (the root included).
    pub fn len(&self) -> usize {
        self.lock().by_ino.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{open_path, stat_fd};

    fn table() -> (tempfile_dir::Dir, InodeTable) {
        let dir = tempfile_dir::Dir::new();
        let root = nix::fcntl::open(
            dir.path(),
            nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY,
            nix::sys::stat::Mode::empty(),
        )
        .unwrap();
        let st = stat_fd(&root).unwrap();
        (dir, InodeTable::new(root, &st))
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
        t.forget(a, 1);
        assert!(t.get(a).is_ok(), "one lookup left");
        t.forget(a, 1);
        assert_eq!(t.get(a).unwrap_err(), Errno::ESTALE);
        assert_eq!(t.len(), 1);
        t.forget(Inode::ROOT, 10);
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
}
