//! A key-value map as files, written with path-level handlers
//! (`#[fusegen::handlers(paths)]`): keys are paths, values are file contents, and directories
//! are key prefixes. No inode numbers, lookup counts or FORGET: the runtime keeps those.
//!
//! ```text
//! mkdir -p /tmp/kv && cargo run --example kvfs -- -f /tmp/kv
//! mkdir /tmp/kv/users && echo alice > /tmp/kv/users/1 && mv /tmp/kv/users /tmp/kv/people
//! cat /tmp/kv/people/1                      # alice
//! ```
//!
//! Open files are kept by handle, so a file stays readable and writable through its open
//! descriptors after it is unlinked or replaced, as on a native filesystem.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use fusegen::paths::DirEntry;
use fusegen::prelude::*;
use parking_lot::Mutex;

/// A file or directory: its identity, attributes and, for a file, its bytes.
struct Node {
    attr: Mutex<EntryAttributes>,
    data: Mutex<Vec<u8>>,
}

type Shared = Arc<Node>;

#[derive(Filesystem)]
#[fuse(fsname = "kvfs", default_permissions)]
struct KvFs {
    /// Every key (path) and what it holds; a directory's entries are the keys under it.
    keys: Mutex<BTreeMap<PathBuf, Shared>>,
    /// Open files by handle: they outlive their key.
    open: Mutex<HashMap<u64, Shared>>,
    next_id: AtomicU64,
}

impl KvFs {
    fn new() -> KvFs {
        let fs = KvFs {
            keys: Mutex::new(BTreeMap::new()),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        };
        let root = fs.node(FileType::Directory, 0o755, &RequestContext::default());
        fs.keys.lock().insert(PathBuf::from("/"), root);
        fs
    }

    fn node(&self, kind: FileType, mode: u32, ctx: &RequestContext) -> Shared {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let now = SystemTime::now();
        let mut attr = EntryAttributes::new(Inode(id), kind, mode);
        (attr.uid, attr.gid) = (ctx.uid, ctx.gid);
        (attr.atime, attr.mtime, attr.ctime) = (now, now, now);
        Arc::new(Node {
            attr: Mutex::new(attr),
            data: Mutex::new(Vec::new()),
        })
    }

    fn get(&self, path: &Path) -> Result<Shared> {
        self.keys.lock().get(path).cloned().ok_or(Errno::ENOENT)
    }

    fn file(&self, fh: FileHandle) -> Result<Shared> {
        self.open.lock().get(&fh.0).cloned().ok_or(Errno::EBADF)
    }

    /// Adds `path` holding `node`, if its parent is a directory and the name is free.
    fn insert(&self, path: &Path, node: Shared) -> Result<EntryAttributes> {
        let mut keys = self.keys.lock();
        let parent = path
            .parent()
            .and_then(|p| keys.get(p))
            .ok_or(Errno::ENOENT)?;
        if parent.attr.lock().kind() != Some(FileType::Directory) {
            return Err(Errno::ENOTDIR);
        }
        if keys.contains_key(path) {
            return Err(Errno::EEXIST);
        }
        let attr = *node.attr.lock();
        keys.insert(path.to_path_buf(), node);
        Ok(attr)
    }

    /// The keys directly under directory `dir`.
    fn children(keys: &BTreeMap<PathBuf, Shared>, dir: &Path) -> Vec<(PathBuf, Shared)> {
        keys.range(dir.to_path_buf()..)
            .skip(1)
            .take_while(|(k, _)| k.starts_with(dir))
            .filter(|(k, _)| k.parent() == Some(dir))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[fusegen::handlers(paths)]
impl KvFs {
    async fn getattr(&self, path: &Path, fh: Option<FileHandle>) -> Result<EntryAttributes> {
        let node = match fh {
            Some(fh) => self.file(fh).or_else(|_| self.get(path))?,
            None => self.get(path)?,
        };
        let attr = *node.attr.lock();
        Ok(attr)
    }

    async fn setattr(
        &self,
        path: &Path,
        set: &SetAttr,
        fh: Option<FileHandle>,
    ) -> Result<EntryAttributes> {
        let node = match fh {
            Some(fh) => self.file(fh)?,
            None => self.get(path)?,
        };
        let mut attr = node.attr.lock();
        let mut resized = false;
        if let Some(size) = set.size {
            let size = usize::try_from(size).map_err(|_| Errno::EFBIG)?;
            let mut data = node.data.lock();
            resized = data.len() != size;
            data.resize(size, 0);
            attr.size = size as u64;
        }
        set.apply_metadata(&mut attr, resized, SystemTime::now());
        Ok(*attr)
    }

    async fn readdir(&self, path: &Path, _fh: FileHandle) -> Result<Vec<DirEntry>> {
        let keys = self.keys.lock();
        let entries = KvFs::children(&keys, path)
            .into_iter()
            .filter_map(|(key, node)| {
                let name = key.file_name()?.to_os_string();
                Some(DirEntry::with_attributes(name, *node.attr.lock()))
            });
        Ok(entries.collect())
    }

    async fn mkdir(&self, path: &Path, mode: u32, ctx: &RequestContext) -> Result<EntryAttributes> {
        self.insert(path, self.node(FileType::Directory, mode, ctx))
    }

    async fn rmdir(&self, path: &Path) -> Result<()> {
        let mut keys = self.keys.lock();
        if !KvFs::children(&keys, path).is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        keys.remove(path).map(drop).ok_or(Errno::ENOENT)
    }

    async fn create(
        &self,
        path: &Path,
        mode: u32,
        _flags: i32,
        ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        let node = self.node(FileType::RegularFile, mode, ctx);
        let attr = self.insert(path, node.clone())?;
        let fh = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.open.lock().insert(fh, node);
        Ok((FileInfo::new(fh), attr))
    }

    async fn open(&self, path: &Path, flags: i32) -> Result<FileInfo> {
        let node = self.get(path)?;
        if flags & libc::O_TRUNC != 0 {
            node.data.lock().clear();
            node.attr.lock().size = 0;
        }
        let fh = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.open.lock().insert(fh, node);
        Ok(FileInfo::new(fh))
    }

    async fn read(&self, _path: &Path, fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        let node = self.file(fh)?;
        let data = node.data.lock();
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = start.saturating_add(size as usize).min(data.len());
        Ok(Bytes::copy_from_slice(&data[start..end]))
    }

    async fn write(&self, _path: &Path, fh: FileHandle, offset: u64, bytes: &[u8]) -> Result<u32> {
        let node = self.file(fh)?;
        let start = usize::try_from(offset).map_err(|_| Errno::EFBIG)?;
        let end = start.checked_add(bytes.len()).ok_or(Errno::EFBIG)?;
        let mut data = node.data.lock();
        if data.len() < end {
            data.resize(end, 0);
        }
        data[start..end].copy_from_slice(bytes);
        let mut attr = node.attr.lock();
        attr.size = data.len() as u64;
        attr.mtime = SystemTime::now();
        Ok(bytes.len() as u32)
    }

    async fn release(&self, _path: &Path, fh: FileHandle, _flags: i32) -> Result<()> {
        self.open.lock().remove(&fh.0);
        Ok(())
    }

    async fn unlink(&self, path: &Path) -> Result<()> {
        let node = self.keys.lock().remove(path).ok_or(Errno::ENOENT)?;
        node.attr.lock().nlink -= 1;
        Ok(())
    }

    async fn rename(&self, from: &Path, to: &Path, flags: RenameFlags) -> Result<()> {
        if !flags.is_empty() {
            return Err(Errno::EINVAL);
        }
        let mut keys = self.keys.lock();
        let node = keys.get(from).cloned().ok_or(Errno::ENOENT)?;
        let is_dir = node.attr.lock().kind() == Some(FileType::Directory);
        if is_dir && to.starts_with(from) {
            return Err(Errno::EINVAL);
        }
        if let Some(old) = keys.get(to) {
            let old_is_dir = old.attr.lock().kind() == Some(FileType::Directory);
            match (is_dir, old_is_dir) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !KvFs::children(&keys, to).is_empty() => {
                    return Err(Errno::ENOTEMPTY);
                }
                _ => {}
            }
        }
        // The key and every key under it move.
        let moved: Vec<PathBuf> = keys
            .range(from.to_path_buf()..)
            .take_while(|(k, _)| k.starts_with(from))
            .map(|(k, _)| k.clone())
            .collect();
        for key in moved {
            if let (Some(node), Ok(rest)) = (keys.remove(&key), key.strip_prefix(from)) {
                let new_key = if rest.as_os_str().is_empty() {
                    to.to_path_buf()
                } else {
                    to.join(rest)
                };
                keys.insert(new_key, node);
            }
        }
        Ok(())
    }

    async fn link(&self, existing: &Path, new: &Path) -> Result<EntryAttributes> {
        let node = self.get(existing)?;
        if node.attr.lock().kind() == Some(FileType::Directory) {
            return Err(Errno::EPERM);
        }
        self.insert(new, node.clone())?;
        let mut attr = node.attr.lock();
        attr.nlink += 1;
        Ok(*attr)
    }
}

fn main() -> ExitCode {
    fusegen::cli::run(KvFs::new())
}
