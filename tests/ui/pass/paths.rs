//! A path-level filesystem with the macros: `#[derive(Filesystem)]` options, handlers with and
//! without `ctx`, `HANDLERS` from the methods written, and `run` taking it like an inode-level
//! one.

use std::path::Path;

use fusegen::paths::{DirEntry, PathFs, PathOperations};
use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(fsname = "paths", default_permissions, max_tasks = 4)]
struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    async fn getattr(&self, path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        let kind = if path == Path::new("/") {
            FileType::Directory
        } else {
            FileType::RegularFile
        };
        Ok(EntryAttributes::new(Inode(0), kind, 0o755))
    }

    async fn readdir(
        &self,
        _path: &Path,
        _fh: FileHandle,
        _ctx: &RequestContext,
    ) -> Result<Vec<DirEntry>> {
        Ok(vec![DirEntry::new("a", FileType::RegularFile)])
    }

    // Any error type that converts into `Errno`, and `Vec<u8>` for `Bytes`.
    async fn read(
        &self,
        _path: &Path,
        _fh: FileHandle,
        _offset: u64,
        _size: u32,
    ) -> std::result::Result<Vec<u8>, std::io::Error> {
        Ok(b"a".to_vec())
    }

    /// Not a handler: a helper with a name of its own.
    async fn describe(&self) -> &'static str {
        "paths"
    }
}

fn served(_: PathFs<Fs>) {}

fn main() {
    assert_eq!(<Fs as Filesystem>::mount_options().fsname.as_deref(), Some("paths"));
    assert!(<Fs as Filesystem>::mount_options().default_permissions);
    assert_eq!(<Fs as Filesystem>::workers().max, 4);
    assert_eq!(
        <Fs as PathOperations>::HANDLERS,
        fusegen::Handlers::GETATTR
            .union(fusegen::Handlers::READDIR)
            .union(fusegen::Handlers::READ)
    );
    // The runtime serves it through the adapter that keeps the inodes.
    served(fusegen::IntoOperations::into_operations(Fs));
    // `run` takes it as it is (the future is only built here, not run).
    drop(fusegen::run(Fs, "/nonexistent"));
    let _ = Fs.describe();
    // Wrapped by hand, it mounts with the derive's options too.
    assert_eq!(<PathFs<Fs> as Filesystem>::mount_options(), <Fs as Filesystem>::mount_options());
    assert_eq!(<PathFs<Fs> as Filesystem>::workers().max, 4);
}
