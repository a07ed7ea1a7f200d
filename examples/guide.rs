//! The finished filesystem of docs/guide.md, step 5 (a flat directory of files in memory,
//! read and write): `cargo run --example guide -- -f DIR`, Ctrl-C unmounts.
//!
//! Generated from the guide's code blocks by tests/docs.rs: edit docs/guide.md, then run
//! `FUSEGEN_BLESS=1 cargo test -p fusegen-tests --test docs`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use fusegen::prelude::*;

/// One file of the root directory.
struct File {
    name: OsString,
    data: Vec<u8>,
    mtime: SystemTime,
}

/// Everything that changes, behind one lock.
struct State {
    /// Files by inode number; inode numbers are never reused.
    files: BTreeMap<u64, File>,
    /// The root directory: name → inode number.
    names: HashMap<OsString, u64>,
    next_ino: u64,
}

impl Notes {
    fn new() -> Notes {
        let me = Owner::of_process(); // who runs (and so mounted) the filesystem
        let mut state = State {
            files: BTreeMap::new(),
            names: HashMap::new(),
            next_ino: 2, // 1 is the root directory, Inode::ROOT
        };
        state.add(
            "README".into(),
            b"Notes: a small FUSE filesystem.\n".to_vec(),
        );
        Notes {
            state: Mutex::new(state),
            uid: me.uid,
            gid: me.gid,
        }
    }

    /// The lock; a handler that panicked while holding it leaves usable data behind.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn root_attributes(&self) -> EntryAttributes {
        let mut attr = EntryAttributes::new(Inode::ROOT, FileType::Directory, 0o755);
        (attr.uid, attr.gid) = (self.uid, self.gid);
        attr
    }

    fn file_attributes(&self, ino: u64, file: &File) -> EntryAttributes {
        let mut attr = EntryAttributes::new(Inode(ino), FileType::RegularFile, 0o644)
            .with_size(file.data.len() as u64);
        (attr.uid, attr.gid) = (self.uid, self.gid);
        (attr.mtime, attr.ctime, attr.atime) = (file.mtime, file.mtime, file.mtime);
        attr
    }

    /// Attributes of any inode, or `ENOENT`.
    fn attributes(&self, ino: Inode) -> Result<EntryAttributes> {
        if ino == Inode::ROOT {
            return Ok(self.root_attributes());
        }
        let state = self.state();
        let file = state.files.get(&ino.0).ok_or(Errno::ENOENT)?;
        Ok(self.file_attributes(ino.0, file))
    }
}

impl State {
    /// Adds a file to the root directory and returns its inode number.
    fn add(&mut self, name: OsString, data: Vec<u8>) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.names.insert(name.clone(), ino);
        let mtime = SystemTime::now();
        self.files.insert(ino, File { name, data, mtime });
        ino
    }
}

// A plain `fn main`, not `#[tokio::main]`: without `-f` the program first detaches into the
// background, which must happen before the runtime starts its threads.
fn main() -> std::process::ExitCode {
    fusegen::cli::run(Notes::new())
}

#[derive(Filesystem)]
#[fuse(fsname = "notes", subtype = "notes")]
struct Notes {
    state: Mutex<State>,
    /// Owner of every file: whoever runs the filesystem.
    uid: u32,
    gid: u32,
}

/// Largest file: a write or truncation beyond it fails with `EFBIG`.
const MAX_SIZE: u64 = 64 << 20;

#[fusegen::handlers]
impl Notes {
    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        if parent != Inode::ROOT {
            return Err(Errno::ENOTDIR);
        }
        let state = self.state();
        let ino = *state.names.get(name).ok_or(Errno::ENOENT)?;
        let file = state.files.get(&ino).ok_or(Errno::ENOENT)?;
        Ok(self.file_attributes(ino, file))
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.attributes(ino)
    }

    async fn readdir(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
    ) -> Result<()> {
        if ino != Inode::ROOT {
            return Err(Errno::ENOTDIR);
        }
        let root = self.root_attributes();
        if offset < 1 && !out.add(OsStr::new("."), &root, 1) {
            return Ok(());
        }
        if offset < 2 && !out.add(OsStr::new(".."), &root, 2) {
            return Ok(());
        }
        // A file's offset is its inode number + 2: it stays valid while files come and go.
        let state = self.state();
        for (&file_ino, file) in state.files.range(offset.saturating_sub(1)..) {
            let attr = self.file_attributes(file_ino, file);
            if !out.add(&file.name, &attr, file_ino + 2) {
                break; // the kernel's buffer is full; it asks again from the last offset
            }
        }
        Ok(())
    }

    async fn open(&self, ino: Inode, _flags: i32) -> Result<FileInfo> {
        if ino == Inode::ROOT {
            return Err(Errno::EISDIR);
        }
        if !self.state().files.contains_key(&ino.0) {
            return Err(Errno::ENOENT);
        }
        // Nothing to remember per open file: the handle is just the inode number.
        Ok(FileInfo::new(ino.0))
    }

    async fn read(&self, ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        let state = self.state();
        let file = state.files.get(&ino.0).ok_or(Errno::ENOENT)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(file.data.len());
        let end = start.saturating_add(size as usize).min(file.data.len());
        Ok(Bytes::copy_from_slice(&file.data[start..end]))
    }

    async fn write(&self, ino: Inode, _fh: FileHandle, offset: u64, data: &[u8]) -> Result<u32> {
        let mut state = self.state();
        let file = state.files.get_mut(&ino.0).ok_or(Errno::ENOENT)?;
        let end = offset.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        if end > MAX_SIZE {
            return Err(Errno::EFBIG);
        }
        let (start, end) = (offset as usize, end as usize);
        if file.data.len() < end {
            file.data.resize(end, 0);
        }
        file.data[start..end].copy_from_slice(data);
        file.mtime = SystemTime::now();
        Ok(data.len() as u32)
    }

    async fn create(
        &self,
        parent: Inode,
        name: &OsStr,
        _mode: u32,
        _flags: i32,
    ) -> Result<(FileInfo, EntryAttributes)> {
        if parent != Inode::ROOT {
            return Err(Errno::ENOTDIR);
        }
        let mut state = self.state();
        if state.names.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = state.add(name.to_owned(), Vec::new());
        let file = state.files.get(&ino).ok_or(Errno::EIO)?;
        Ok((FileInfo::new(ino), self.file_attributes(ino, file)))
    }

    async fn setattr(
        &self,
        ino: Inode,
        attr: &SetAttr,
        _fh: Option<FileHandle>,
    ) -> Result<EntryAttributes> {
        // Modes and owners are fixed in this filesystem.
        if attr.mode.is_some() || attr.uid.is_some() || attr.gid.is_some() {
            return Err(Errno::EPERM);
        }
        if ino == Inode::ROOT {
            return Ok(self.root_attributes()); // `touch` on the mountpoint: nothing to keep
        }
        let mut state = self.state();
        let file = state.files.get_mut(&ino.0).ok_or(Errno::ENOENT)?;
        if let Some(size) = attr.size {
            if size > MAX_SIZE {
                return Err(Errno::EFBIG);
            }
            file.data.resize(size as usize, 0);
            file.mtime = SystemTime::now();
        }
        if let Some(mtime) = attr.mtime {
            file.mtime = mtime;
        }
        Ok(self.file_attributes(ino.0, file))
    }

    async fn unlink(&self, parent: Inode, name: &OsStr) -> Result<()> {
        if parent != Inode::ROOT {
            return Err(Errno::ENOTDIR);
        }
        let mut state = self.state();
        let ino = state.names.remove(name).ok_or(Errno::ENOENT)?;
        state.files.remove(&ino);
        Ok(())
    }
}
