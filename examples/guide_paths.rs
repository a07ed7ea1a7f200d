//! Step 5's filesystem with path-level handlers, from docs/guide.md step 6:
//! `cargo run --example guide_paths -- -f DIR`, Ctrl-C unmounts.
//!
//! Generated from the guide's code blocks by tests/docs.rs: edit docs/guide.md, then run
//! `FUSEGEN_BLESS=1 cargo test -p fusegen-tests --test docs`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use fusegen::paths::DirEntry;
use fusegen::prelude::*;

/// Largest file: a write or truncation beyond it fails with `EFBIG`.
const MAX_SIZE: u64 = 64 << 20;

struct File {
    data: Vec<u8>,
    mtime: SystemTime,
}

#[derive(Filesystem)]
#[fuse(fsname = "notes", subtype = "notes")]
struct Notes {
    /// The root directory's files by name.
    files: Mutex<BTreeMap<OsString, File>>,
    owner: Owner,
}

impl Notes {
    fn new() -> Notes {
        let readme = File {
            data: b"Notes: a small FUSE filesystem.\n".to_vec(),
            mtime: SystemTime::now(),
        };
        Notes {
            files: Mutex::new(BTreeMap::from([("README".into(), readme)])),
            owner: Owner::of_process(),
        }
    }

    fn files(&self) -> MutexGuard<'_, BTreeMap<OsString, File>> {
        self.files
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The name of a file of the root directory: `/todo` → `todo`.
    fn name(path: &Path) -> Result<&OsStr> {
        match path.parent() {
            Some(parent) if parent == Path::new("/") => path.file_name().ok_or(Errno::ENOENT),
            _ => Err(Errno::ENOENT),
        }
    }

    fn attributes(&self, file: Option<&File>) -> EntryAttributes {
        // `Inode(0)`: the runtime numbers the files.
        let mut attr = match file {
            None => EntryAttributes::new(Inode(0), FileType::Directory, 0o755),
            Some(file) => {
                let mut attr = EntryAttributes::new(Inode(0), FileType::RegularFile, 0o644)
                    .with_size(file.data.len() as u64);
                (attr.mtime, attr.ctime, attr.atime) = (file.mtime, file.mtime, file.mtime);
                attr
            }
        };
        (attr.uid, attr.gid) = (self.owner.uid, self.owner.gid);
        attr
    }
}

#[fusegen::handlers(paths)]
impl Notes {
    async fn getattr(&self, path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        if path == Path::new("/") {
            return Ok(self.attributes(None));
        }
        let files = self.files();
        let file = files.get(Notes::name(path)?).ok_or(Errno::ENOENT)?;
        Ok(self.attributes(Some(file)))
    }

    async fn readdir(&self, _path: &Path, _fh: FileHandle) -> Result<Vec<DirEntry>> {
        let files = self.files();
        let entries = files.iter().map(|(name, file)| {
            DirEntry::with_attributes(name.clone(), self.attributes(Some(file)))
        });
        Ok(entries.collect())
    }

    async fn read(&self, path: &Path, _fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        let files = self.files();
        let file = files.get(Notes::name(path)?).ok_or(Errno::ENOENT)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(file.data.len());
        let end = start.saturating_add(size as usize).min(file.data.len());
        Ok(Bytes::copy_from_slice(&file.data[start..end]))
    }

    async fn write(&self, path: &Path, _fh: FileHandle, offset: u64, data: &[u8]) -> Result<u32> {
        let mut files = self.files();
        let file = files.get_mut(Notes::name(path)?).ok_or(Errno::ENOENT)?;
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
        path: &Path,
        _mode: u32,
        _flags: i32,
    ) -> Result<(FileInfo, EntryAttributes)> {
        let name = Notes::name(path).map_err(|_| Errno::ENOTDIR)?;
        let mut files = self.files();
        if files.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let file = File {
            data: Vec::new(),
            mtime: SystemTime::now(),
        };
        let attr = self.attributes(Some(&file));
        files.insert(name.to_owned(), file);
        Ok((FileInfo::new(0), attr))
    }

    async fn setattr(
        &self,
        path: &Path,
        attr: &SetAttr,
        _fh: Option<FileHandle>,
    ) -> Result<EntryAttributes> {
        // Modes and owners are fixed in this filesystem.
        if attr.mode.is_some() || attr.uid.is_some() || attr.gid.is_some() {
            return Err(Errno::EPERM);
        }
        if path == Path::new("/") {
            return Ok(self.attributes(None)); // `touch` on the mountpoint: nothing to keep
        }
        let mut files = self.files();
        let file = files.get_mut(Notes::name(path)?).ok_or(Errno::ENOENT)?;
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
        Ok(self.attributes(Some(file)))
    }

    async fn unlink(&self, path: &Path) -> Result<()> {
        let mut files = self.files();
        files
            .remove(Notes::name(path)?)
            .map(drop)
            .ok_or(Errno::ENOENT)
    }
}

fn main() -> std::process::ExitCode {
    fusegen::cli::run(Notes::new())
}
