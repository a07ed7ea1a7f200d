//! Every operation of `fusegen-macros/src/ops.rs` as a blocking handler (a plain `fn`, run on
//! tokio's blocking pool), each with its documented signature: the generated
//! `BlockingOperations` implementation, and `Blocking`'s bridge from it to `Operations`, only
//! compile if the macro's table and the runtime's traits agree on every parameter and return
//! type. (Copied from `all-handlers.rs`, without `async`.)

use fusegen::prelude::*;
use fusegen::{Blocking, BlockingOperations, ConnectionInfo, Handlers, IntoOperations, IoctlReply};

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(blocking)]
impl Fs {
    fn init(&self, _info: &ConnectionInfo) -> Result<()> {
        Ok(())
    }

    fn destroy(&self) {}

    fn lookup(
        &self,
        _parent: Inode,
        _name: &OsStr,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(
            Inode::ROOT,
            FileType::Directory,
            0o755,
        ))
    }

    fn forget(&self, _forgets: &[Forget]) {}

    fn getattr(&self, _ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(
            Inode::ROOT,
            FileType::Directory,
            0o755,
        ))
    }

    fn setattr(
        &self,
        _ino: Inode,
        _attr: &SetAttr,
        _fh: Option<FileHandle>,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(
            Inode::ROOT,
            FileType::Directory,
            0o755,
        ))
    }

    fn readlink(&self, _ino: Inode) -> Result<Bytes> {
        Ok(Bytes::new())
    }

    fn mknod(
        &self,
        _parent: Inode,
        _name: &OsStr,
        _mode: u32,
        _rdev: u32,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(
            Inode::ROOT,
            FileType::Directory,
            0o755,
        ))
    }

    fn mkdir(&self, _parent: Inode, _name: &OsStr, _mode: u32) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(
            Inode::ROOT,
            FileType::Directory,
            0o755,
        ))
    }

    fn unlink(&self, _parent: Inode, _name: &OsStr, _ctx: &RequestContext) -> Result<()> {
        Ok(())
    }

    fn rmdir(&self, _parent: Inode, _name: &OsStr) -> Result<()> {
        Ok(())
    }

    fn symlink(
        &self,
        _parent: Inode,
        _name: &OsStr,
        _target: &OsStr,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(
            Inode::ROOT,
            FileType::Directory,
            0o755,
        ))
    }

    fn rename(
        &self,
        _parent: Inode,
        _name: &OsStr,
        _new_parent: Inode,
        _new_name: &OsStr,
        _flags: RenameFlags,
    ) -> Result<()> {
        Ok(())
    }

    fn link(
        &self,
        _ino: Inode,
        _new_parent: Inode,
        _new_name: &OsStr,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(
            Inode::ROOT,
            FileType::Directory,
            0o755,
        ))
    }

    fn open(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        Ok(FileInfo::new(1))
    }

    fn read(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _offset: u64,
        _size: u32,
        _ctx: &RequestContext,
    ) -> Result<Bytes> {
        Ok(Bytes::new())
    }

    fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, _data: &[u8]) -> Result<u32> {
        Ok(0)
    }

    fn flush(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _lock_owner: u64,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    fn release(&self, _ino: Inode, _fh: FileHandle, _flags: i32) -> Result<()> {
        Ok(())
    }

    fn fsync(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _datasync: bool,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    fn opendir(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        Ok(FileInfo::new(1))
    }

    fn readdir(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _offset: u64,
        _out: &mut ReaddirReply<'_>,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    fn releasedir(&self, _ino: Inode, _fh: FileHandle) -> Result<()> {
        Ok(())
    }

    fn fsyncdir(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _datasync: bool,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    fn statfs(&self, _ino: Inode) -> Result<StatvfsData> {
        Ok(StatvfsData::default())
    }

    fn setxattr(
        &self,
        _ino: Inode,
        _name: &OsStr,
        _value: &[u8],
        _flags: i32,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    fn getxattr(&self, _ino: Inode, _name: &OsStr) -> Result<Bytes> {
        Ok(Bytes::new())
    }

    fn listxattr(&self, _ino: Inode, _ctx: &RequestContext) -> Result<Vec<OsString>> {
        Ok(Vec::new())
    }

    fn removexattr(&self, _ino: Inode, _name: &OsStr) -> Result<()> {
        Ok(())
    }

    fn access(&self, _ino: Inode, _mask: i32, _ctx: &RequestContext) -> Result<bool> {
        Ok(true)
    }

    fn create(
        &self,
        _parent: Inode,
        _name: &OsStr,
        _mode: u32,
        _flags: i32,
    ) -> Result<(FileInfo, EntryAttributes)> {
        Ok((
            FileInfo::new(1),
            EntryAttributes::new(Inode(2), FileType::RegularFile, 0o644),
        ))
    }

    fn getlk(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _owner: u64,
        _lock: FileLock,
        _ctx: &RequestContext,
    ) -> Result<FileLock> {
        Ok(_lock)
    }

    fn setlk(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _owner: u64,
        _lock: FileLock,
        _sleep: bool,
    ) -> Result<()> {
        Ok(())
    }

    fn flock(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _owner: u64,
        _op: i32,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    fn bmap(&self, _ino: Inode, _blocksize: u32, _block: u64) -> Result<u64> {
        Ok(0)
    }

    fn ioctl(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _cmd: u32,
        _arg: u64,
        _input: &[u8],
        _out_size: u32,
        _ctx: &RequestContext,
    ) -> Result<IoctlReply> {
        Ok(IoctlReply::default())
    }

    fn poll(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _kh: Option<u64>,
        _events: u32,
    ) -> Result<u32> {
        Ok(0)
    }

    fn fallocate(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _offset: u64,
        _length: u64,
        _mode: i32,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    fn lseek(&self, _ino: Inode, _fh: FileHandle, _offset: u64, _whence: i32) -> Result<u64> {
        Ok(0)
    }

    fn copy_file_range(
        &self,
        _ino_in: Inode,
        _fh_in: FileHandle,
        _offset_in: u64,
        _ino_out: Inode,
        _fh_out: FileHandle,
        _offset_out: u64,
        _len: u64,
        _flags: u64,
        _ctx: &RequestContext,
    ) -> Result<u64> {
        Ok(0)
    }

    fn syncfs(&self, _ino: Inode) -> Result<()> {
        Ok(())
    }

    fn tmpfile(
        &self,
        _parent: Inode,
        _mode: u32,
        _flags: i32,
        _ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        Ok((
            FileInfo::new(1),
            EntryAttributes::new(Inode(2), FileType::RegularFile, 0o644),
        ))
    }

    fn statx(
        &self,
        _ino: Inode,
        _fh: Option<FileHandle>,
        _flags: u32,
        _mask: u32,
    ) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(
            Inode::ROOT,
            FileType::Directory,
            0o755,
        ))
    }
}

fn main() {
    // Every handler; blocking `write`s take `&[u8]`, so not `WRITE_DATA`.
    let every = Handlers::all().difference(Handlers::WRITE_DATA);
    assert_eq!(<Fs as BlockingOperations>::HANDLERS, every);
    assert_eq!(<Blocking<Fs> as Operations>::HANDLERS, every);

    // The blocking pool needs a multi-threaded runtime's `spawn_blocking`, which a
    // current-thread runtime also provides.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fs: Blocking<Fs> = Fs.into_operations();
        let ctx = RequestContext::default();
        let attr = fs.getattr(Inode::ROOT, None, &ctx).await.unwrap();
        assert_eq!(
            attr,
            EntryAttributes::new(Inode::ROOT, FileType::Directory, 0o755)
        );
        let name = OsStr::new("x");
        assert!(fs.lookup(Inode::ROOT, name, &ctx).await.is_ok());
        let written = fs.write(Inode(2), FileHandle(1), 0, b"abc", &ctx).await;
        assert_eq!(written, Ok(0));
        assert_eq!(fs.access(Inode::ROOT, 0, &ctx).await, Ok(true));
        fs.destroy().await;
    });
}
