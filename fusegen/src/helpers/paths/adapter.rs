//! [`PathFs`]: a [`PathOperations`] filesystem served as an inode-level [`Operations`] one.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

use crate::api::read_data::ReadData;

use super::PathOperations;
use super::tree::Tree;
use crate::api::errno::{Errno, Result};
use crate::api::filesystem::Filesystem;
use crate::api::filesystem::Workers;
use crate::api::operations::{ConnectionInfo, Handlers, Operations};
use crate::api::types::{
    EntryAttributes, FileHandle, FileInfo, Forget, Inode, RenameFlags, RequestContext, SetAttr,
    StatvfsData,
};
use crate::mount::MountOptions;
use crate::proto::dir::ReaddirReply;

mod listing;

use listing::OpenDir;

/// Serves a [`PathOperations`] filesystem: mount it with [`mount`](crate::mount()) or
/// [`run`](crate::run) like any other. It keeps one node per inode the kernel knows (names,
/// lookup count) and, per open directory, the listing being read.
pub struct PathFs<T> {
    fs: T,
    tree: Mutex<Tree>,
    dirs: Mutex<HashMap<u64, OpenDir>>,
    next_dir: AtomicU64,
    /// Open handles per inode, so that a request about an unlinked open file that comes
    /// without a handle (`fstat`, `fchmod`) reaches the filesystem with one.
    open_files: Mutex<HashMap<Inode, Vec<FileHandle>>>,
}

impl<T: PathOperations> PathFs<T> {
    /// Wraps a path-level filesystem.
    pub fn new(fs: T) -> PathFs<T> {
        PathFs {
            fs,
            tree: Mutex::new(Tree::new()),
            dirs: Mutex::new(HashMap::new()),
            next_dir: AtomicU64::new(1),
            open_files: Mutex::new(HashMap::new()),
        }
    }

    /// The wrapped filesystem.
    pub fn get_ref(&self) -> &T {
        &self.fs
    }

    /// How many inodes the kernel holds (the root included): what the runtime keeps in
    /// memory for this filesystem.
    pub fn inodes(&self) -> usize {
        self.tree().len()
    }

    fn tree(&self) -> MutexGuard<'_, Tree> {
        self.tree.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn dirs(&self) -> MutexGuard<'_, HashMap<u64, OpenDir>> {
        self.dirs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The path of an inode the kernel holds, for a request that carries no handle. An
    /// unknown inode is stale (the kernel only sends inodes it looked up and has not
    /// forgotten); one without a name any more is gone: its last path may name another file
    /// by now, so the filesystem is not asked about it.
    fn path(&self, ino: Inode) -> Result<PathBuf> {
        live_path(&self.tree(), ino)
    }

    /// The path of an inode for a request that carries an open handle: also the last path of
    /// a file unlinked while open, which the filesystem finds by its handle.
    fn handle_path(&self, ino: Inode) -> Result<PathBuf> {
        self.tree().path(ino).ok_or(Errno::ESTALE)
    }

    /// The path of `ino` and the handle to pass with it: `fh` if the kernel sent one, else,
    /// for a file that no longer has a name, one of its open handles (its path is gone, so
    /// the handle is the only way the filesystem can still find it).
    fn path_and_handle(
        &self,
        ino: Inode,
        fh: Option<FileHandle>,
    ) -> Result<(PathBuf, Option<FileHandle>)> {
        let (path, gone) = {
            let tree = self.tree();
            (tree.path(ino).ok_or(Errno::ESTALE)?, tree.is_gone(ino))
        };
        let fh = match fh {
            Some(fh) => Some(fh),
            None if gone => Some(
                self.open_files()
                    .get(&ino)
                    .and_then(|f| f.first().copied())
                    .ok_or(Errno::ENOENT)?,
            ),
            None => None,
        };
        Ok((path, fh))
    }

    fn open_files(&self) -> MutexGuard<'_, HashMap<Inode, Vec<FileHandle>>> {
        self.open_files.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn opened(&self, ino: Inode, info: &FileInfo) {
        self.open_files().entry(ino).or_default().push(info.fh);
    }

    fn child_path(&self, parent: Inode, name: &OsStr) -> Result<PathBuf> {
        let mut path = self.path(parent)?;
        path.push(name);
        Ok(path)
    }

    /// Records a new name's inode (one lookup) and puts its number in `attr`.
    fn entry(&self, parent: Inode, name: &OsStr, mut attr: EntryAttributes) -> EntryAttributes {
        attr.ino = self.tree().remember(parent, name, attr.ino.0);
        attr
    }
}

/// The inode-level handlers a path filesystem with `path` handlers needs.
const fn inode_handlers(path: Handlers) -> Handlers {
    let mapped = Handlers::INIT
        .union(Handlers::DESTROY)
        .union(Handlers::GETATTR)
        .union(Handlers::SETATTR)
        .union(Handlers::READLINK)
        .union(Handlers::MKNOD)
        .union(Handlers::MKDIR)
        .union(Handlers::UNLINK)
        .union(Handlers::RMDIR)
        .union(Handlers::SYMLINK)
        .union(Handlers::RENAME)
        .union(Handlers::LINK)
        .union(Handlers::OPEN)
        .union(Handlers::READ)
        .union(Handlers::WRITE)
        .union(Handlers::FLUSH)
        .union(Handlers::RELEASE)
        .union(Handlers::FSYNC)
        .union(Handlers::READDIR)
        .union(Handlers::FSYNCDIR)
        .union(Handlers::STATFS)
        .union(Handlers::SETXATTR)
        .union(Handlers::GETXATTR)
        .union(Handlers::LISTXATTR)
        .union(Handlers::REMOVEXATTR)
        .union(Handlers::ACCESS)
        .union(Handlers::CREATE)
        .union(Handlers::FALLOCATE);
    let mut h = path.intersection(mapped);
    if path.contains(Handlers::GETATTR) {
        h = h.union(Handlers::LOOKUP).union(Handlers::FORGET);
    }
    if path.contains(Handlers::READDIR) {
        // The runtime keeps each open directory's listing.
        h = h.union(Handlers::OPENDIR).union(Handlers::RELEASEDIR);
    }
    h
}

// Not suggested in errors about other types: a user who forgot `#[derive(Filesystem)]` or
// `#[fusegen::handlers]` needs that fix, not a wrapper.
#[diagnostic::do_not_recommend]
impl<T: PathOperations> Filesystem for PathFs<T> {
    fn mount_options() -> MountOptions {
        T::mount_options()
    }

    fn workers() -> Workers {
        T::workers()
    }
}

#[diagnostic::do_not_recommend]
impl<T: PathOperations> Operations for PathFs<T> {
    const HANDLERS: Handlers = inode_handlers(T::HANDLERS);

    async fn init(&self, info: &ConnectionInfo) -> Result<()> {
        self.fs.init(info).await
    }

    async fn destroy(&self) {
        self.fs.destroy().await
    }

    async fn lookup(
        &self,
        parent: Inode,
        name: &OsStr,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let path = self.child_path(parent, name)?;
        let attr = self.fs.getattr(&path, None, ctx).await?;
        Ok(self.entry(parent, name, attr))
    }

    async fn forget(&self, forgets: &[Forget]) {
        self.tree().forget(forgets);
    }

    async fn getattr(
        &self,
        ino: Inode,
        fh: Option<FileHandle>,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let (path, fh) = self.path_and_handle(ino, fh)?;
        let mut attr = self.fs.getattr(&path, fh, ctx).await?;
        attr.ino = ino;
        Ok(attr)
    }

    async fn setattr(
        &self,
        ino: Inode,
        attr: &SetAttr,
        fh: Option<FileHandle>,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let (path, fh) = self.path_and_handle(ino, fh)?;
        let mut out = self.fs.setattr(&path, attr, fh, ctx).await?;
        out.ino = ino;
        Ok(out)
    }

    async fn readlink(&self, ino: Inode, ctx: &RequestContext) -> Result<Bytes> {
        self.fs.readlink(&self.path(ino)?, ctx).await
    }

    async fn mknod(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        rdev: u32,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let path = self.child_path(parent, name)?;
        let attr = self.fs.mknod(&path, mode, rdev, ctx).await?;
        Ok(self.entry(parent, name, attr))
    }

    async fn mkdir(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let path = self.child_path(parent, name)?;
        let attr = self.fs.mkdir(&path, mode, ctx).await?;
        Ok(self.entry(parent, name, attr))
    }

    async fn unlink(&self, parent: Inode, name: &OsStr, ctx: &RequestContext) -> Result<()> {
        let path = self.child_path(parent, name)?;
        self.fs.unlink(&path, ctx).await?;
        self.tree().unlink(parent, name);
        Ok(())
    }

    async fn rmdir(&self, parent: Inode, name: &OsStr, ctx: &RequestContext) -> Result<()> {
        let path = self.child_path(parent, name)?;
        self.fs.rmdir(&path, ctx).await?;
        self.tree().unlink(parent, name);
        Ok(())
    }

    async fn symlink(
        &self,
        parent: Inode,
        name: &OsStr,
        target: &OsStr,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let path = self.child_path(parent, name)?;
        let attr = self.fs.symlink(&path, target, ctx).await?;
        Ok(self.entry(parent, name, attr))
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
        let from = self.child_path(parent, name)?;
        let to = self.child_path(new_parent, new_name)?;
        self.fs.rename(&from, &to, flags, ctx).await?;
        self.tree().rename(
            parent,
            name,
            new_parent,
            new_name,
            flags.contains(RenameFlags::EXCHANGE),
        );
        Ok(())
    }

    async fn link(
        &self,
        ino: Inode,
        new_parent: Inode,
        new_name: &OsStr,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let existing = self.path(ino)?;
        let new = self.child_path(new_parent, new_name)?;
        let mut attr = self.fs.link(&existing, &new, ctx).await?;
        // The kernel expects the new name to be the same inode.
        attr.ino = self.tree().remember_link(ino, new_parent, new_name);
        Ok(attr)
    }

    async fn open(&self, ino: Inode, flags: i32, ctx: &RequestContext) -> Result<FileInfo> {
        let info = self.fs.open(&self.path(ino)?, flags, ctx).await?;
        self.opened(ino, &info);
        Ok(info)
    }

    async fn read(
        &self,
        ino: Inode,
        fh: FileHandle,
        offset: u64,
        size: u32,
        ctx: &RequestContext,
    ) -> Result<ReadData> {
        self.fs
            .read(&self.handle_path(ino)?, fh, offset, size, ctx)
            .await
    }

    async fn write(
        &self,
        ino: Inode,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        ctx: &RequestContext,
    ) -> Result<u32> {
        self.fs
            .write(&self.handle_path(ino)?, fh, offset, data, ctx)
            .await
    }

    async fn flush(
        &self,
        ino: Inode,
        fh: FileHandle,
        lock_owner: u64,
        ctx: &RequestContext,
    ) -> Result<()> {
        self.fs
            .flush(&self.handle_path(ino)?, fh, lock_owner, ctx)
            .await
    }

    async fn release(
        &self,
        ino: Inode,
        fh: FileHandle,
        flags: i32,
        ctx: &RequestContext,
    ) -> Result<()> {
        {
            let mut open = self.open_files();
            if let Some(handles) = open.get_mut(&ino) {
                handles.retain(|h| *h != fh);
                if handles.is_empty() {
                    open.remove(&ino);
                }
            }
        }
        self.fs
            .release(&self.handle_path(ino)?, fh, flags, ctx)
            .await
    }

    async fn fsync(
        &self,
        ino: Inode,
        fh: FileHandle,
        datasync: bool,
        ctx: &RequestContext,
    ) -> Result<()> {
        self.fs
            .fsync(&self.handle_path(ino)?, fh, datasync, ctx)
            .await
    }

    async fn opendir(&self, ino: Inode, flags: i32, ctx: &RequestContext) -> Result<FileInfo> {
        // Directories are always opened here (the listing lives with the handle); the
        // filesystem's own `opendir`, when it has one, gives the handle it gets back.
        let mut info = match self.fs.opendir(&self.path(ino)?, flags, ctx).await {
            Err(e) if e == Errno::ENOSYS => FileInfo::new(0),
            other => other?,
        };
        let id = self.next_dir.fetch_add(1, Ordering::Relaxed);
        self.dirs().insert(
            id,
            OpenDir {
                fh: info.fh,
                listing: None,
            },
        );
        info.fh = FileHandle(id);
        Ok(info)
    }

    async fn readdir(
        &self,
        ino: Inode,
        fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
        ctx: &RequestContext,
    ) -> Result<()> {
        self.fill(ino, fh, offset, out, ctx).await
    }

    async fn releasedir(&self, ino: Inode, fh: FileHandle, ctx: &RequestContext) -> Result<()> {
        let open = self.dirs().remove(&fh.0);
        match open {
            Some(open) => {
                self.fs
                    .releasedir(&self.handle_path(ino)?, open.fh, ctx)
                    .await
            }
            None => Ok(()),
        }
    }

    async fn fsyncdir(
        &self,
        ino: Inode,
        fh: FileHandle,
        datasync: bool,
        ctx: &RequestContext,
    ) -> Result<()> {
        let user_fh = self.dirs().get(&fh.0).map(|d| d.fh).ok_or(Errno::EBADF)?;
        self.fs
            .fsyncdir(&self.handle_path(ino)?, user_fh, datasync, ctx)
            .await
    }

    async fn statfs(&self, ino: Inode, ctx: &RequestContext) -> Result<StatvfsData> {
        self.fs.statfs(&self.path(ino)?, ctx).await
    }

    async fn setxattr(
        &self,
        ino: Inode,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        ctx: &RequestContext,
    ) -> Result<()> {
        self.fs
            .setxattr(&self.path(ino)?, name, value, flags, ctx)
            .await
    }

    async fn getxattr(&self, ino: Inode, name: &OsStr, ctx: &RequestContext) -> Result<Bytes> {
        self.fs.getxattr(&self.path(ino)?, name, ctx).await
    }

    async fn listxattr(&self, ino: Inode, ctx: &RequestContext) -> Result<Vec<OsString>> {
        self.fs.listxattr(&self.path(ino)?, ctx).await
    }

    async fn removexattr(&self, ino: Inode, name: &OsStr, ctx: &RequestContext) -> Result<()> {
        self.fs.removexattr(&self.path(ino)?, name, ctx).await
    }

    async fn access(&self, ino: Inode, mask: i32, ctx: &RequestContext) -> Result<bool> {
        self.fs.access(&self.path(ino)?, mask, ctx).await
    }

    async fn create(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        flags: i32,
        ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        let path = self.child_path(parent, name)?;
        let (info, attr) = self.fs.create(&path, mode, flags, ctx).await?;
        let attr = self.entry(parent, name, attr);
        self.opened(attr.ino, &info);
        Ok((info, attr))
    }

    async fn fallocate(
        &self,
        ino: Inode,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        ctx: &RequestContext,
    ) -> Result<()> {
        self.fs
            .fallocate(&self.handle_path(ino)?, fh, offset, length, mode, ctx)
            .await
    }
}

/// The path of an inode the kernel holds, for a request that carries no handle (see
/// [`PathFs::path`]).
fn live_path(tree: &Tree, ino: Inode) -> Result<PathBuf> {
    if tree.is_gone(ino) {
        return Err(Errno::ENOENT);
    }
    tree.path(ino).ok_or(Errno::ESTALE)
}
