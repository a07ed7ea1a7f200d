//! Every operation of `fusegen-macros/src/ops.rs`, each with its documented signature: the
//! operations that take a trailing `ctx: &RequestContext` alternate between writing it and
//! leaving it out. The generated `Operations` implementation only compiles if the macro's
//! table and the runtime's trait agree on every parameter and return type.

use fusegen::prelude::*;
use fusegen::{ConnectionInfo, Handlers, IoctlReply};

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn init(&self, _info: &ConnectionInfo) -> Result<()> {
        Ok(())
    }

    async fn destroy(&self) {}

    async fn lookup(
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

    async fn forget(&self, _forgets: &[Forget]) {}

    async fn getattr(&self, _ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(
            Inode::ROOT,
            FileType::Directory,
            0o755,
        ))
    }

    async fn setattr(
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

    async fn readlink(&self, _ino: Inode) -> Result<Bytes> {
        Ok(Bytes::new())
    }

    async fn mknod(
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

    async fn mkdir(&self, _parent: Inode, _name: &OsStr, _mode: u32) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(
            Inode::ROOT,
            FileType::Directory,
            0o755,
        ))
    }

    async fn unlink(&self, _parent: Inode, _name: &OsStr, _ctx: &RequestContext) -> Result<()> {
        Ok(())
    }

    async fn rmdir(&self, _parent: Inode, _name: &OsStr) -> Result<()> {
        Ok(())
    }

    async fn symlink(
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

    async fn rename(
        &self,
        _parent: Inode,
        _name: &OsStr,
        _new_parent: Inode,
        _new_name: &OsStr,
        _flags: RenameFlags,
    ) -> Result<()> {
        Ok(())
    }

    async fn link(
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

    async fn open(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        Ok(FileInfo::new(1))
    }

    async fn read(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _offset: u64,
        _size: u32,
        _ctx: &RequestContext,
    ) -> Result<Bytes> {
        Ok(Bytes::new())
    }

    async fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, _data: &[u8]) -> Result<u32> {
        Ok(0)
    }

    async fn flush(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _lock_owner: u64,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    async fn release(&self, _ino: Inode, _fh: FileHandle, _flags: i32) -> Result<()> {
        Ok(())
    }

    async fn fsync(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _datasync: bool,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    async fn opendir(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        Ok(FileInfo::new(1))
    }

    async fn readdir(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _offset: u64,
        _out: &mut ReaddirReply<'_>,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    async fn releasedir(&self, _ino: Inode, _fh: FileHandle) -> Result<()> {
        Ok(())
    }

    async fn fsyncdir(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _datasync: bool,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    async fn statfs(&self, _ino: Inode) -> Result<StatvfsData> {
        Ok(StatvfsData::default())
    }

    async fn setxattr(
        &self,
        _ino: Inode,
        _name: &OsStr,
        _value: &[u8],
        _flags: i32,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    async fn getxattr(&self, _ino: Inode, _name: &OsStr) -> Result<Bytes> {
        Ok(Bytes::new())
    }

    async fn listxattr(&self, _ino: Inode, _ctx: &RequestContext) -> Result<Vec<OsString>> {
        Ok(Vec::new())
    }

    async fn removexattr(&self, _ino: Inode, _name: &OsStr) -> Result<()> {
        Ok(())
    }

    async fn access(&self, _ino: Inode, _mask: i32, _ctx: &RequestContext) -> Result<bool> {
        Ok(true)
    }

    async fn create(
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

    async fn getlk(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _owner: u64,
        _lock: FileLock,
        _ctx: &RequestContext,
    ) -> Result<FileLock> {
        Ok(_lock)
    }

    async fn setlk(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _owner: u64,
        _lock: FileLock,
        _sleep: bool,
    ) -> Result<()> {
        Ok(())
    }

    async fn flock(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _owner: u64,
        _op: i32,
        _ctx: &RequestContext,
    ) -> Result<()> {
        Ok(())
    }

    async fn bmap(&self, _ino: Inode, _blocksize: u32, _block: u64) -> Result<u64> {
        Ok(0)
    }

    async fn ioctl(
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

    async fn poll(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _kh: Option<u64>,
        _events: u32,
    ) -> Result<u32> {
        Ok(0)
    }

    async fn fallocate(
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

    async fn lseek(&self, _ino: Inode, _fh: FileHandle, _offset: u64, _whence: i32) -> Result<u64> {
        Ok(0)
    }

    async fn copy_file_range(
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

    async fn syncfs(&self, _ino: Inode) -> Result<()> {
        Ok(())
    }

    async fn tmpfile(
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

    async fn statx(
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
    // Every handler; `write` takes `&[u8]`, so not `WRITE_DATA` (`write-data.rs`).
    let every = Handlers::all().difference(Handlers::WRITE_DATA);
    assert_eq!(<Fs as Operations>::HANDLERS, every);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fs = Fs;
        let ctx = RequestContext::default();
        let attr = Operations::getattr(&fs, Inode::ROOT, None, &ctx)
            .await
            .unwrap();
        assert_eq!(
            attr,
            EntryAttributes::new(Inode::ROOT, FileType::Directory, 0o755)
        );
        let name = OsStr::new("x");
        assert!(
            Operations::lookup(&fs, Inode::ROOT, name, &ctx)
                .await
                .is_ok()
        );
        let written = Operations::write(&fs, Inode(2), FileHandle(1), 0, b"abc", &ctx).await;
        assert_eq!(written, Ok(0));
        assert_eq!(
            Operations::access(&fs, Inode::ROOT, 0, &ctx).await,
            Ok(true)
        );
        Operations::destroy(&fs).await;
    });
}
