//! The `#[fusegen::handlers]` block: each FUSE operation as a short call into the [`Tree`],
//! plus when to save: on `fsync`, on `fsyncdir`, when a file is closed (if anything changed),
//! and when the filesystem is unmounted (`destroy`).

use fusegen::prelude::*;

use crate::JsonFs;
use crate::tree::{Kind, ROOT};

fn name(name: &OsStr) -> Result<&str> {
    // JSON keys are text: names that are not UTF-8 cannot be stored.
    name.to_str().ok_or(Errno::EINVAL)
}

#[fusegen::handlers]
impl JsonFs {
    async fn lookup(&self, parent: Inode, name_os: &OsStr) -> Result<EntryAttributes> {
        let mut tree = self.tree.lock();
        let ino = tree.lookup(parent.0, name(name_os)?)?;
        self.attributes(&tree, ino)
    }

    async fn forget(&self, forgets: &[Forget]) {
        let mut tree = self.tree.lock();
        for f in forgets {
            tree.forget(f.ino.0, f.nlookup);
        }
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.attributes(&self.tree.lock(), ino.0)
    }

    /// Truncation and times; modes and owners are fixed (the document has no place for them).
    async fn setattr(
        &self,
        ino: Inode,
        attr: &SetAttr,
        _fh: Option<FileHandle>,
    ) -> Result<EntryAttributes> {
        let mut tree = self.tree.lock();
        let current = self.attributes(&tree, ino.0)?;
        let changes_owner = attr.uid.is_some_and(|u| u != current.uid)
            || attr.gid.is_some_and(|g| g != current.gid);
        if changes_owner
            || attr
                .mode
                .is_some_and(|m| m & 0o7777 != current.mode & 0o7777)
        {
            return Err(Errno::EPERM);
        }
        if let Some(size) = attr.size {
            let size = usize::try_from(size).map_err(|_| Errno::EFBIG)?;
            tree.content_mut(ino.0)?.resize(size, 0);
        }
        if let Some(mtime) = attr.mtime {
            tree.set_mtime(ino.0, mtime)?;
        }
        self.attributes(&tree, ino.0)
    }

    async fn readdir(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
    ) -> Result<()> {
        let mut tree = self.tree.lock();
        let this = self.attributes(&tree, ino.0)?;
        let parent = self.attributes(&tree, tree.parent(ino.0))?;
        if offset < 1 && !out.add(OsStr::new("."), &this, 1) {
            return Ok(());
        }
        if offset < 2 && !out.add(OsStr::new(".."), &parent, 2) {
            return Ok(());
        }
        let entries: Vec<(u64, String, u64)> = tree
            .dir(ino.0)?
            .entries_after(offset)
            .map(|(next, name, ino)| (next, name.to_string(), ino))
            .collect();
        for (next, entry_name, child) in entries {
            let attr = self.attributes(&tree, child)?;
            if !out.add(OsStr::new(&entry_name), &attr, next) {
                break;
            }
            if out.is_plus() {
                // READDIRPLUS entries count as lookups, to be forgotten like any other.
                tree.count_lookup(child);
            }
        }
        Ok(())
    }

    async fn open(&self, ino: Inode, _flags: i32) -> Result<FileInfo> {
        let mut tree = self.tree.lock();
        if matches!(tree.node(ino.0)?.kind, Kind::Dir(_)) {
            return Err(Errno::EISDIR);
        }
        tree.open(ino.0)?;
        Ok(FileInfo::new(ino.0))
    }

    async fn read(&self, ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        let tree = self.tree.lock();
        let Kind::File(content) = &tree.node(ino.0)?.kind else {
            return Err(Errno::EISDIR);
        };
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(content.len());
        let end = start.saturating_add(size as usize).min(content.len());
        Ok(Bytes::copy_from_slice(&content[start..end]))
    }

    async fn write(&self, ino: Inode, _fh: FileHandle, offset: u64, data: &[u8]) -> Result<u32> {
        let mut tree = self.tree.lock();
        let content = tree.content_mut(ino.0)?;
        let start = usize::try_from(offset).map_err(|_| Errno::EFBIG)?;
        let end = start.checked_add(data.len()).ok_or(Errno::EFBIG)?;
        if content.len() < end {
            content.resize(end, 0);
        }
        content[start..end].copy_from_slice(data);
        Ok(data.len() as u32)
    }

    async fn release(&self, ino: Inode, _fh: FileHandle, _flags: i32) -> Result<()> {
        self.tree.lock().release(ino.0);
        self.save_if_dirty()
    }

    async fn fsync(&self, _ino: Inode, _fh: FileHandle, _datasync: bool) -> Result<()> {
        self.save_if_dirty()
    }

    async fn fsyncdir(&self, _ino: Inode, _fh: FileHandle, _datasync: bool) -> Result<()> {
        self.save_if_dirty()
    }

    async fn create(
        &self,
        parent: Inode,
        name_os: &OsStr,
        _mode: u32,
        _flags: i32,
    ) -> Result<(FileInfo, EntryAttributes)> {
        let mut tree = self.tree.lock();
        let ino = tree.create(parent.0, name(name_os)?, false)?;
        tree.open(ino)?;
        Ok((FileInfo::new(ino), self.attributes(&tree, ino)?))
    }

    async fn mkdir(&self, parent: Inode, name_os: &OsStr, _mode: u32) -> Result<EntryAttributes> {
        let mut tree = self.tree.lock();
        let ino = tree.create(parent.0, name(name_os)?, true)?;
        self.attributes(&tree, ino)
    }

    async fn unlink(&self, parent: Inode, name_os: &OsStr) -> Result<()> {
        self.tree.lock().remove(parent.0, name(name_os)?, false)
    }

    async fn rmdir(&self, parent: Inode, name_os: &OsStr) -> Result<()> {
        self.tree.lock().remove(parent.0, name(name_os)?, true)
    }

    async fn rename(
        &self,
        parent: Inode,
        name_os: &OsStr,
        new_parent: Inode,
        new_name: &OsStr,
        flags: RenameFlags,
    ) -> Result<()> {
        if flags.contains(RenameFlags::EXCHANGE) || flags.contains(RenameFlags::WHITEOUT) {
            return Err(Errno::EINVAL);
        }
        self.tree.lock().rename(
            parent.0,
            name(name_os)?,
            new_parent.0,
            name(new_name)?,
            flags.contains(RenameFlags::NOREPLACE),
        )
    }

    /// Unmounted (or stopped): the last chance to save.
    async fn destroy(&self) {
        if let Err(e) = self.save_if_dirty() {
            tracing::error!("saving {} at unmount failed: {e}", self.path.display());
        }
    }

    fn attributes(&self, tree: &crate::tree::Tree, ino: u64) -> Result<EntryAttributes> {
        let node = tree.node(ino)?;
        let mut attr = match &node.kind {
            Kind::File(content) => EntryAttributes::new(Inode(ino), FileType::RegularFile, 0o644)
                .with_size(content.len() as u64),
            Kind::Dir(_) => EntryAttributes::new(Inode(ino), FileType::Directory, 0o755),
        };
        attr.uid = self.owner.0;
        attr.gid = self.owner.1;
        attr.mtime = node.mtime;
        attr.ctime = node.mtime;
        attr.atime = node.mtime;
        if ino == ROOT {
            attr.ino = Inode::ROOT;
        }
        Ok(attr)
    }
}
