//! Every path-level handler with the signature `docs/paths.md` gives it: proves that the
//! macro's table of path operations and `fusegen::paths::PathOperations` agree.

use std::path::Path;

use fusegen::paths::{DirEntry, PathOperations};
use fusegen::prelude::*;
use fusegen::{ConnectionInfo, Handlers};

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    async fn init(&self, _info: &ConnectionInfo) -> Result<()> { Ok(()) }
    async fn destroy(&self) {}
    async fn getattr(&self, _path: &Path, _fh: Option<FileHandle>, _ctx: &RequestContext) -> Result<EntryAttributes> { Err(Errno::ENOENT) }
    async fn setattr(&self, _path: &Path, _attr: &SetAttr, _fh: Option<FileHandle>, _ctx: &RequestContext) -> Result<EntryAttributes> { Err(Errno::ENOENT) }
    async fn readlink(&self, _path: &Path, _ctx: &RequestContext) -> Result<Bytes> { Err(Errno::ENOENT) }
    async fn mknod(&self, _path: &Path, _mode: u32, _rdev: u32, _ctx: &RequestContext) -> Result<EntryAttributes> { Err(Errno::ENOENT) }
    async fn mkdir(&self, _path: &Path, _mode: u32, _ctx: &RequestContext) -> Result<EntryAttributes> { Err(Errno::ENOENT) }
    async fn unlink(&self, _path: &Path, _ctx: &RequestContext) -> Result<()> { Err(Errno::ENOENT) }
    async fn rmdir(&self, _path: &Path, _ctx: &RequestContext) -> Result<()> { Err(Errno::ENOENT) }
    async fn symlink(&self, _path: &Path, _target: &OsStr, _ctx: &RequestContext) -> Result<EntryAttributes> { Err(Errno::ENOENT) }
    async fn rename(&self, _from: &Path, _to: &Path, _flags: RenameFlags, _ctx: &RequestContext) -> Result<()> { Err(Errno::ENOENT) }
    async fn link(&self, _existing: &Path, _new: &Path, _ctx: &RequestContext) -> Result<EntryAttributes> { Err(Errno::ENOENT) }
    async fn open(&self, _path: &Path, _flags: i32, _ctx: &RequestContext) -> Result<FileInfo> { Err(Errno::ENOENT) }
    async fn read(&self, _path: &Path, _fh: FileHandle, _offset: u64, _size: u32, _ctx: &RequestContext) -> Result<Bytes> { Err(Errno::ENOENT) }
    async fn write(&self, _path: &Path, _fh: FileHandle, _offset: u64, _data: &[u8], _ctx: &RequestContext) -> Result<u32> { Err(Errno::ENOENT) }
    async fn flush(&self, _path: &Path, _fh: FileHandle, _lock_owner: u64, _ctx: &RequestContext) -> Result<()> { Err(Errno::ENOENT) }
    async fn release(&self, _path: &Path, _fh: FileHandle, _flags: i32, _ctx: &RequestContext) -> Result<()> { Ok(()) }
    async fn fsync(&self, _path: &Path, _fh: FileHandle, _datasync: bool, _ctx: &RequestContext) -> Result<()> { Ok(()) }
    async fn opendir(&self, _path: &Path, _flags: i32, _ctx: &RequestContext) -> Result<FileInfo> { Err(Errno::ENOENT) }
    async fn readdir(&self, _path: &Path, _fh: FileHandle, _ctx: &RequestContext) -> Result<Vec<DirEntry>> { Ok(Vec::new()) }
    async fn releasedir(&self, _path: &Path, _fh: FileHandle, _ctx: &RequestContext) -> Result<()> { Ok(()) }
    async fn fsyncdir(&self, _path: &Path, _fh: FileHandle, _datasync: bool, _ctx: &RequestContext) -> Result<()> { Ok(()) }
    async fn statfs(&self, _path: &Path, _ctx: &RequestContext) -> Result<StatvfsData> { Ok(StatvfsData::default()) }
    async fn setxattr(&self, _path: &Path, _name: &OsStr, _value: &[u8], _flags: i32, _ctx: &RequestContext) -> Result<()> { Err(Errno::ENOTSUP) }
    async fn getxattr(&self, _path: &Path, _name: &OsStr, _ctx: &RequestContext) -> Result<Bytes> { Err(Errno::ENODATA) }
    async fn listxattr(&self, _path: &Path, _ctx: &RequestContext) -> Result<Vec<OsString>> { Ok(Vec::new()) }
    async fn removexattr(&self, _path: &Path, _name: &OsStr, _ctx: &RequestContext) -> Result<()> { Err(Errno::ENODATA) }
    async fn access(&self, _path: &Path, _mask: i32, _ctx: &RequestContext) -> Result<bool> { Ok(true) }
    async fn create(&self, _path: &Path, _mode: u32, _flags: i32, _ctx: &RequestContext) -> Result<(FileInfo, EntryAttributes)> { Err(Errno::ENOENT) }
    async fn fallocate(&self, _path: &Path, _fh: FileHandle, _offset: u64, _length: u64, _mode: i32, _ctx: &RequestContext) -> Result<()> { Err(Errno::ENOTSUP) }
}

fn main() {
    let expected = [
        Handlers::INIT, Handlers::DESTROY, Handlers::GETATTR, Handlers::SETATTR,
        Handlers::READLINK, Handlers::MKNOD, Handlers::MKDIR, Handlers::UNLINK, Handlers::RMDIR,
        Handlers::SYMLINK, Handlers::RENAME, Handlers::LINK, Handlers::OPEN, Handlers::READ,
        Handlers::WRITE, Handlers::FLUSH, Handlers::RELEASE, Handlers::FSYNC, Handlers::OPENDIR,
        Handlers::READDIR, Handlers::RELEASEDIR, Handlers::FSYNCDIR, Handlers::STATFS,
        Handlers::SETXATTR, Handlers::GETXATTR, Handlers::LISTXATTR, Handlers::REMOVEXATTR,
        Handlers::ACCESS, Handlers::CREATE, Handlers::FALLOCATE,
    ]
    .into_iter()
    .fold(Handlers::empty(), Handlers::union);
    assert_eq!(<Fs as PathOperations>::HANDLERS, expected);
}
