//! The FUSE handlers: each one a thin call into `namespace.rs` (the tree) or `file.rs`
//! (contents and attributes). Handlers run concurrently; none holds a lock across an
//! `.await` (only the blocking lock calls await at all).

use std::sync::atomic::Ordering;

use fusegen::ConnectionInfo;
use fusegen::abi::FUSE_WRITEBACK_CACHE;
use fusegen::prelude::*;

use crate::MemFs;
use crate::namespace::NewNode;
use crate::node::Content;

#[fusegen::handlers]
impl MemFs {
    async fn init(&self, info: &ConnectionInfo) -> Result<()> {
        let writeback = info.capabilities & FUSE_WRITEBACK_CACHE != 0;
        self.core.kernel_appends.store(writeback, Ordering::Relaxed);
        Ok(())
    }

    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        self.core.lookup(parent, name)
    }

    async fn forget(&self, forgets: &[Forget]) {
        self.core.forget(forgets);
    }

    /// Unmount: the kernel's references are gone (no FORGET is sent for them).
    async fn destroy(&self) {
        self.core.forget_all();
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.core.getattr(ino)
    }

    async fn statx(
        &self,
        ino: Inode,
        _fh: Option<FileHandle>,
        _flags: u32,
        _mask: u32,
    ) -> Result<EntryAttributes> {
        self.core.getattr(ino)
    }

    async fn setattr(
        &self,
        ino: Inode,
        attr: &SetAttr,
        _fh: Option<FileHandle>,
    ) -> Result<EntryAttributes> {
        self.core.setattr(ino, attr)
    }

    async fn readlink(&self, ino: Inode) -> Result<Vec<u8>> {
        self.core.readlink(ino)
    }

    async fn mknod(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        rdev: u32,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let (content, rdev) = match FileType::from_mode(mode) {
            Some(FileType::RegularFile) => (Content::File(Default::default()), 0),
            Some(FileType::CharDevice | FileType::BlockDevice) => (Content::Special, rdev),
            Some(FileType::NamedPipe | FileType::Socket) => (Content::Special, 0),
            Some(FileType::Directory) => return Err(Errno::EPERM),
            Some(FileType::Symlink) | None => return Err(Errno::EINVAL),
        };
        let new = NewNode::new(mode, content);
        self.core
            .create_node(parent, name, NewNode { rdev, ..new }, ctx)
    }

    async fn mkdir(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let new = NewNode::new(
            libc::S_IFDIR | (mode & 0o7777),
            Content::Dir(Default::default()),
        );
        self.core.create_node(parent, name, new, ctx)
    }

    async fn symlink(
        &self,
        parent: Inode,
        name: &OsStr,
        target: &OsStr,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let new = NewNode {
            charge: target.len() as u64,
            ..NewNode::new(
                libc::S_IFLNK | 0o777,
                Content::Symlink(target.to_os_string()),
            )
        };
        // Symlink permissions are always 0777: no umask.
        let ctx = RequestContext { umask: 0, ..*ctx };
        self.core.create_node(parent, name, new, &ctx)
    }

    async fn unlink(&self, parent: Inode, name: &OsStr) -> Result<()> {
        self.core.remove(parent, name, false)
    }

    async fn rmdir(&self, parent: Inode, name: &OsStr) -> Result<()> {
        self.core.remove(parent, name, true)
    }

    async fn rename(
        &self,
        parent: Inode,
        name: &OsStr,
        new_parent: Inode,
        new_name: &OsStr,
        flags: RenameFlags,
        ctx: &RequestContext,
    ) -> Result<()> {
        self.core
            .rename(parent, name, new_parent, new_name, flags, ctx)
    }

    async fn link(
        &self,
        ino: Inode,
        new_parent: Inode,
        new_name: &OsStr,
    ) -> Result<EntryAttributes> {
        self.core.link(ino, new_parent, new_name)
    }

    async fn open(&self, ino: Inode, flags: i32) -> Result<FileInfo> {
        self.core.open(ino, flags)
    }

    async fn create(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        flags: i32,
        ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        self.core.create(parent, name, mode, flags, ctx)
    }

    async fn tmpfile(
        &self,
        parent: Inode,
        mode: u32,
        flags: i32,
        ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        self.core.tmpfile(parent, mode, flags, ctx)
    }

    async fn read(&self, ino: Inode, fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        self.core.read(ino, fh, offset, size)
    }

    async fn write(&self, ino: Inode, fh: FileHandle, offset: u64, data: &[u8]) -> Result<u32> {
        self.core.write(ino, fh, offset, data)
    }

    /// Each `close(2)`: POSIX locks of the closing process go (the kernel sends no unlock of
    /// its own for filesystems that manage locks).
    async fn flush(&self, ino: Inode, _fh: FileHandle, lock_owner: u64) -> Result<()> {
        self.core.locks.flush(ino, lock_owner);
        Ok(())
    }

    async fn release(&self, ino: Inode, fh: FileHandle, _flags: i32) -> Result<()> {
        self.core.release(ino, fh)
    }

    async fn fsync(&self, _ino: Inode, _fh: FileHandle, _datasync: bool) -> Result<()> {
        Ok(())
    }

    async fn fsyncdir(&self, _ino: Inode, _fh: FileHandle, _datasync: bool) -> Result<()> {
        Ok(())
    }

    async fn readdir(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
    ) -> Result<()> {
        self.core.readdir(ino, offset, out)
    }

    async fn statfs(&self, _ino: Inode) -> Result<StatvfsData> {
        Ok(self.core.statfs())
    }

    async fn setxattr(&self, ino: Inode, name: &OsStr, value: &[u8], flags: i32) -> Result<()> {
        self.core.setxattr(ino, name, value, flags)
    }

    async fn getxattr(&self, ino: Inode, name: &OsStr) -> Result<Vec<u8>> {
        self.core.getxattr(ino, name)
    }

    async fn listxattr(&self, ino: Inode) -> Result<Vec<OsString>> {
        self.core.listxattr(ino)
    }

    async fn removexattr(&self, ino: Inode, name: &OsStr) -> Result<()> {
        self.core.removexattr(ino, name)
    }

    async fn access(&self, ino: Inode, mask: i32, ctx: &RequestContext) -> Result<bool> {
        self.core.access(ino, mask, ctx)
    }

    async fn getlk(
        &self,
        ino: Inode,
        fh: FileHandle,
        owner: u64,
        lock: FileLock,
    ) -> Result<FileLock> {
        self.core.open_node(ino, fh)?;
        self.core.locks.getlk(ino, owner, lock)
    }

    async fn setlk(
        &self,
        ino: Inode,
        fh: FileHandle,
        owner: u64,
        lock: FileLock,
        sleep: bool,
    ) -> Result<()> {
        self.core.open_node(ino, fh)?;
        self.core.locks.setlk(ino, fh, owner, lock, sleep).await
    }

    async fn flock(&self, ino: Inode, fh: FileHandle, owner: u64, op: i32) -> Result<()> {
        self.core.open_node(ino, fh)?;
        self.core.locks.flock(ino, fh, owner, op).await
    }

    async fn fallocate(
        &self,
        ino: Inode,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
    ) -> Result<()> {
        self.core.fallocate(ino, fh, offset, length, mode)
    }

    async fn lseek(&self, ino: Inode, fh: FileHandle, offset: u64, whence: i32) -> Result<u64> {
        self.core.lseek(ino, fh, offset, whence)
    }

    #[allow(clippy::too_many_arguments)]
    async fn copy_file_range(
        &self,
        ino_in: Inode,
        fh_in: FileHandle,
        offset_in: u64,
        ino_out: Inode,
        fh_out: FileHandle,
        offset_out: u64,
        len: u64,
        flags: u64,
    ) -> Result<u64> {
        self.core.copy_file_range(
            ino_in, fh_in, offset_in, ino_out, fh_out, offset_out, len, flags,
        )
    }
}
