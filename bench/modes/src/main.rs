//! modebench: the same flat in-memory filesystem (files in its root, no data) with
//! path-level handlers written twice, once as `async fn` and once as plain `fn` under
//! `#[fusegen::handlers(paths, blocking)]`, so that metabench can time what running a handler
//! on tokio's blocking pool costs per request.
//!
//! ```text
//! MODEBENCH=async|blocking modebench [fusegen CLI options] MOUNTPOINT
//! ```
//!
//! Both variants are expanded from one `macro_rules!` body, so they cannot drift apart: the
//! only difference is the `blocking` marker and the `async` keyword.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Mutex, MutexGuard};

use fusegen::paths::DirEntry;
use fusegen::prelude::*;

/// The files of the root directory by name, with their sizes.
type Files = Mutex<BTreeMap<OsString, u64>>;

fn lock(files: &Files) -> MutexGuard<'_, BTreeMap<OsString, u64>> {
    files.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The name of a file of the root directory: `/a` → `a`.
fn name(path: &Path) -> Result<&OsStr> {
    match path.parent() {
        Some(parent) if parent == Path::new("/") => path.file_name().ok_or(Errno::ENOENT),
        _ => Err(Errno::ENOENT),
    }
}

fn attributes(owner: &Owner, size: Option<u64>) -> EntryAttributes {
    let mut attr = match size {
        None => EntryAttributes::new(Inode(0), FileType::Directory, 0o755),
        Some(size) => EntryAttributes::new(Inode(0), FileType::RegularFile, 0o644).with_size(size),
    };
    (attr.uid, attr.gid) = (owner.uid, owner.gid);
    attr
}

/// One filesystem type and its handlers block; `$($marker)*` is `blocking` or nothing and
/// `$($kw)*` is `async` or nothing.
macro_rules! flat_filesystem {
    ($ty:ident, [$($marker:tt)*], [$($kw:tt)*]) => {
        #[derive(Filesystem)]
        #[fuse(fsname = "modebench", subtype = "modebench")]
        struct $ty {
            files: Files,
            owner: Owner,
        }

        #[fusegen::handlers(paths $(, $marker)*)]
        impl $ty {
            $($kw)* fn getattr(&self, path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
                if path == Path::new("/") {
                    return Ok(attributes(&self.owner, None));
                }
                let size = *lock(&self.files).get(name(path)?).ok_or(Errno::ENOENT)?;
                Ok(attributes(&self.owner, Some(size)))
            }

            $($kw)* fn readdir(&self, _path: &Path, _fh: FileHandle) -> Result<Vec<DirEntry>> {
                let files = lock(&self.files);
                let entries = files.iter().map(|(name, size)| {
                    DirEntry::with_attributes(name.clone(), attributes(&self.owner, Some(*size)))
                });
                Ok(entries.collect())
            }

            $($kw)* fn create(&self, path: &Path, _mode: u32, _flags: i32) -> Result<(FileInfo, EntryAttributes)> {
                let name = name(path).map_err(|_| Errno::ENOTDIR)?;
                let mut files = lock(&self.files);
                if files.contains_key(name) {
                    return Err(Errno::EEXIST);
                }
                files.insert(name.to_owned(), 0);
                Ok((FileInfo::new(0), attributes(&self.owner, Some(0))))
            }

            $($kw)* fn unlink(&self, path: &Path) -> Result<()> {
                lock(&self.files).remove(name(path)?).map(drop).ok_or(Errno::ENOENT)
            }
        }

        impl $ty {
            fn new() -> $ty {
                $ty { files: Files::default(), owner: Owner::of_process() }
            }
        }
    };
}

flat_filesystem!(AsyncFlat, [], [async]);
flat_filesystem!(BlockingFlat, [blocking], []);

fn main() -> ExitCode {
    match std::env::var("MODEBENCH").as_deref() {
        Ok("async") => fusegen::cli::run(AsyncFlat::new()),
        Ok("blocking") => fusegen::cli::run(BlockingFlat::new()),
        _ => {
            eprintln!("modebench: set MODEBENCH=async or MODEBENCH=blocking");
            ExitCode::FAILURE
        }
    }
}
