//! Inode contents and attributes: open handles, read, write, setattr, extended attributes,
//! fallocate, SEEK_DATA/SEEK_HOLE, copy_file_range, statfs and access checks.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use fusegen::prelude::*;
use parking_lot::Mutex;

use crate::Core;
use crate::data::PAGE;
use crate::namespace::{NAME_MAX, NewNode, check_name};
use crate::node::{Content, Node, State, pin, unpin_if_unused};

/// An open file.
#[derive(Debug, Clone)]
pub struct Handle {
    pub node: Arc<Node>,
    pub append: bool,
}

const SHARDS: usize = 16;

/// Open file handles by number.
pub struct Handles {
    shards: Box<[Mutex<HashMap<u64, Handle>>]>,
}

impl Handles {
    pub fn new() -> Handles {
        Handles {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard(&self, fh: u64) -> &Mutex<HashMap<u64, Handle>> {
        &self.shards[(fh % SHARDS as u64) as usize]
    }

    fn get(&self, fh: u64) -> Option<Handle> {
        self.shard(fh).lock().get(&fh).cloned()
    }
}

/// relatime: the access time is updated when it is older than the last change, or a day old.
pub fn atime_is_stale(st: &State) -> bool {
    st.atime <= st.mtime
        || st.atime <= st.ctime
        || st
            .atime
            .elapsed()
            .is_ok_and(|age| age >= Duration::from_secs(24 * 3600))
}

const FALLOC_FL_KEEP_SIZE: i32 = 0x01;
const FALLOC_FL_PUNCH_HOLE: i32 = 0x02;
const FALLOC_FL_ZERO_RANGE: i32 = 0x10;

impl Core {
    /// The node of an open file: through its handle when there is one.
    pub fn open_node(&self, ino: Inode, fh: FileHandle) -> Result<(Arc<Node>, bool)> {
        match self.handles.get(fh.0) {
            Some(h) if h.node.ino == ino.0 => Ok((h.node, h.append)),
            _ => Ok((self.node(ino)?, false)),
        }
    }

    /// Registers an open of `node` (its `opens` already counted) and returns the handle.
    fn new_handle(&self, node: Arc<Node>, flags: i32) -> FileInfo {
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        let append = flags & libc::O_APPEND != 0 && !self.kernel_appends.load(Ordering::Relaxed);
        self.handles
            .shard(fh)
            .lock()
            .insert(fh, Handle { node, append });
        FileInfo::new(fh)
    }

    /// `O_TRUNC`: empty the file and, as `open(2)` does, update mtime and ctime. The kernel
    /// passes `O_TRUNC` to `open` only under `-o atomic_o_trunc`, and to `create` when the
    /// file turned out to exist already.
    fn truncate_on_open(&self, st: &mut State, flags: i32) -> Result<()> {
        if flags & libc::O_TRUNC != 0
            && let Content::File(f) = &mut st.content
        {
            f.set_size(0, &self.space);
            st.touch_modified(SystemTime::now());
        }
        Ok(())
    }

    pub fn open(&self, ino: Inode, flags: i32) -> Result<FileInfo> {
        let node = self.node(ino)?;
        let mut st = node.state.write();
        pin(&self.table, &node, &mut st)?;
        self.truncate_on_open(&mut st, flags)?;
        st.opens += 1;
        drop(st);
        Ok(self.new_handle(node, flags))
    }

    /// Create and open `name`; an existing file is opened instead unless `O_EXCL`.
    pub fn create(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        flags: i32,
        ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        check_name(name)?;
        let p = self.node(parent)?;
        let mut pst = p.state.write();
        let existing = pst.alive_dir_mut()?.get(name).cloned();
        let node = match existing {
            Some(_) if flags & libc::O_EXCL != 0 => return Err(Errno::EEXIST),
            Some(e) if e.kind == FileType::Directory => return Err(Errno::EISDIR),
            Some(e) => {
                // Another create won the race: open what it made.
                let node = self.child(&e)?;
                let mut st = node.state.write();
                self.truncate_on_open(&mut st, flags)?;
                self.counted(&node, &st)?; // linked, so pinned: cannot fail
                st.opens += 1;
                drop(st);
                node
            }
            None => {
                let new = NewNode {
                    opens: 1,
                    ..NewNode::new(
                        libc::S_IFREG | (mode & 0o7777),
                        Content::File(Default::default()),
                    )
                };
                self.add_child(&p, &mut pst, name, new, ctx)?.0
            }
        };
        drop(pst);
        let attrs = node.attributes(&node.state.read());
        Ok((self.new_handle(node, flags), attrs))
    }

    pub fn tmpfile(
        &self,
        parent: Inode,
        mode: u32,
        flags: i32,
        ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        let new = NewNode {
            opens: 1,
            nlink: Some(0),
            ..NewNode::new(
                libc::S_IFREG | (mode & 0o7777),
                Content::File(Default::default()),
            )
        };
        let (node, attrs) = self.create_unnamed(parent, new, ctx)?;
        Ok((self.new_handle(node, flags), attrs))
    }

    /// The last close of an open file: its flock and OFD locks go, and the node may be freed.
    pub fn release(&self, ino: Inode, fh: FileHandle) -> Result<()> {
        let handle = self.handles.shard(fh.0).lock().remove(&fh.0);
        let node = match handle {
            Some(h) => h.node,
            None => self.node(ino)?,
        };
        self.locks.release(ino, fh);
        let mut st = node.state.write();
        st.opens = st.opens.saturating_sub(1);
        // The last close of a file that stays: its room for appends goes back.
        if st.opens == 0
            && st.nlink > 0
            && let Content::File(file) = &mut st.content
        {
            file.trim();
        }
        let freed = unpin_if_unused(&self.table, &node, &mut st);
        drop(st);
        self.freed(freed);
        Ok(())
    }

    pub fn read(&self, ino: Inode, fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        let (node, _) = self.open_node(ino, fh)?;
        let st = node.state.read();
        let data = st.file()?.read(offset, u64::from(size));
        let stale = atime_is_stale(&st);
        drop(st);
        if stale {
            node.state.write().atime = SystemTime::now();
        }
        Ok(data)
    }

    pub fn write(&self, ino: Inode, fh: FileHandle, offset: u64, data: &[u8]) -> Result<u32> {
        let (node, append) = self.open_node(ino, fh)?;
        let mut st = node.state.write();
        let file = st.file_mut()?;
        let offset = if append { file.size() } else { offset };
        let n = file.write(offset, data, &self.space)?;
        st.touch_modified(SystemTime::now());
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    pub fn getattr(&self, ino: Inode) -> Result<EntryAttributes> {
        let node = self.node(ino)?;
        let st = node.state.read();
        Ok(node.attributes(&st))
    }

    /// chmod, chown, truncate, utimens. ctime follows any change (tmpfs's rule: a truncate
    /// to the same size alone changes nothing); mtime follows a size change.
    pub fn setattr(&self, ino: Inode, set: &SetAttr) -> Result<EntryAttributes> {
        let node = self.node(ino)?;
        let mut st = node.state.write();
        let now = SystemTime::now();
        let mut changed = set.mode.is_some()
            || set.uid.is_some()
            || set.gid.is_some()
            || set.atime.is_some()
            || set.mtime.is_some()
            || set.kill_suidgid;
        if let Some(size) = set.size {
            let file = st.file_mut()?;
            if size != file.size() {
                file.set_size(size, &self.space);
                st.mtime = now;
                changed = true;
            }
        }
        if let Some(mode) = set.mode {
            st.mode = (st.mode & libc::S_IFMT) | (mode & 0o7777);
        }
        if let Some(uid) = set.uid {
            st.uid = uid;
        }
        if let Some(gid) = set.gid {
            st.gid = gid;
        }
        if set.kill_suidgid {
            st.mode &= !libc::S_ISUID;
            if st.mode & libc::S_IXGRP != 0 {
                st.mode &= !libc::S_ISGID;
            }
        }
        if let Some(t) = set.atime {
            st.atime = t;
        }
        if let Some(t) = set.mtime {
            st.mtime = t;
        }
        match set.ctime {
            Some(t) => st.ctime = t,
            None if changed => st.ctime = now,
            None => {}
        }
        Ok(node.attributes(&st))
    }

    pub fn readlink(&self, ino: Inode) -> Result<Vec<u8>> {
        let node = self.node(ino)?;
        let st = node.state.read();
        match &st.content {
            Content::Symlink(target) => {
                Ok(std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str()).to_vec())
            }
            _ => Err(Errno::EINVAL),
        }
    }

    pub fn setxattr(&self, ino: Inode, name: &OsStr, value: &[u8], flags: i32) -> Result<()> {
        if name.is_empty() || name.len() > NAME_MAX {
            return Err(Errno::ERANGE);
        }
        // Without FUSE_POSIX_ACL the kernel hands ACLs over as plain xattrs and leaves it to
        // the filesystem to apply them to the mode. memfs has no ACLs; saying so makes tools
        // (`cp -a`, `tar --acls`) fall back to chmod instead of storing an ACL that would
        // silently not take effect.
        if name.as_bytes().starts_with(b"system.posix_acl_") {
            return Err(Errno::EOPNOTSUPP);
        }
        let node = self.node(ino)?;
        let mut st = node.state.write();
        let old = st.xattrs.get(name).map(|v| name.len() + v.len());
        match old {
            Some(_) if flags & libc::XATTR_CREATE != 0 => return Err(Errno::EEXIST),
            None if flags & libc::XATTR_REPLACE != 0 => return Err(Errno::ENODATA),
            _ => {}
        }
        let (new, old) = ((name.len() + value.len()) as u64, old.unwrap_or(0) as u64);
        if new > old {
            self.space.reserve(new - old)?;
        } else {
            self.space.release(old - new);
        }
        st.xattrs.insert(name.to_os_string(), value.to_vec());
        st.ctime = SystemTime::now();
        Ok(())
    }

    pub fn getxattr(&self, ino: Inode, name: &OsStr) -> Result<Vec<u8>> {
        let node = self.node(ino)?;
        let st = node.state.read();
        st.xattrs.get(name).cloned().ok_or(Errno::ENODATA)
    }

    pub fn listxattr(&self, ino: Inode) -> Result<Vec<OsString>> {
        let node = self.node(ino)?;
        let st = node.state.read();
        Ok(st.xattrs.keys().cloned().collect())
    }

    pub fn removexattr(&self, ino: Inode, name: &OsStr) -> Result<()> {
        let node = self.node(ino)?;
        let mut st = node.state.write();
        let value = st.xattrs.remove(name).ok_or(Errno::ENODATA)?;
        self.space.release((name.len() + value.len()) as u64);
        st.ctime = SystemTime::now();
        Ok(())
    }

    /// `access(2)` from the mode bits (the kernel checks itself under `default_permissions`,
    /// the default, and then never asks). Only the caller's primary group is known here.
    pub fn access(&self, ino: Inode, mask: i32, ctx: &RequestContext) -> Result<bool> {
        let node = self.node(ino)?;
        let st = node.state.read();
        let mask = (mask & 0o7) as u32;
        if ctx.uid == 0 {
            // Root may do anything, except execute a file without any execute bit.
            let exec_ok = node.kind == FileType::Directory || st.mode & 0o111 != 0;
            return Ok(mask & libc::X_OK as u32 == 0 || exec_ok);
        }
        let bits = if ctx.uid == st.uid {
            (st.mode >> 6) & 0o7
        } else if ctx.gid == st.gid {
            (st.mode >> 3) & 0o7
        } else {
            st.mode & 0o7
        };
        Ok(bits & mask == mask)
    }

    pub fn fallocate(
        &self,
        ino: Inode,
        fh: FileHandle,
        offset: u64,
        len: u64,
        mode: i32,
    ) -> Result<()> {
        let (node, _) = self.open_node(ino, fh)?;
        let mut st = node.state.write();
        let file = st.file_mut()?;
        let keep_size = mode & FALLOC_FL_KEEP_SIZE != 0;
        match mode & !FALLOC_FL_KEEP_SIZE {
            0 => file.allocate(offset, len, keep_size, &self.space)?,
            // Linux requires KEEP_SIZE with PUNCH_HOLE.
            FALLOC_FL_PUNCH_HOLE if keep_size => file.punch_hole(offset, len, &self.space),
            FALLOC_FL_ZERO_RANGE => file.zero_range(offset, len, keep_size, &self.space)?,
            _ => return Err(Errno::EOPNOTSUPP),
        }
        st.touch_modified(SystemTime::now());
        Ok(())
    }

    pub fn lseek(&self, ino: Inode, fh: FileHandle, offset: u64, whence: i32) -> Result<u64> {
        let (node, _) = self.open_node(ino, fh)?;
        let st = node.state.read();
        let file = st.file()?;
        match whence {
            libc::SEEK_DATA => file.seek(offset, true),
            libc::SEEK_HOLE => file.seek(offset, false),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Copies in 1 MiB steps with both files locked (in inode order); a copy cut short by the
    /// space limit returns what was copied, or `ENOSPC` if nothing was.
    #[allow(clippy::too_many_arguments)]
    pub fn copy_file_range(
        &self,
        ino_in: Inode,
        fh_in: FileHandle,
        off_in: u64,
        ino_out: Inode,
        fh_out: FileHandle,
        off_out: u64,
        len: u64,
        flags: u64,
    ) -> Result<u64> {
        if flags != 0 {
            return Err(Errno::EINVAL);
        }
        let (src, _) = self.open_node(ino_in, fh_in)?;
        let (dst, _) = self.open_node(ino_out, fh_out)?;
        const STEP: u64 = 1 << 20;
        let copy = |src: &State, dst: &mut State| -> Result<u64> {
            let mut done = 0u64;
            while done < len {
                let chunk = src.file()?.read(off_in + done, (len - done).min(STEP));
                if chunk.is_empty() {
                    break;
                }
                let n = match dst.file_mut()?.write(off_out + done, &chunk, &self.space) {
                    Ok(n) => n as u64,
                    Err(e) if done == 0 => return Err(e),
                    Err(_) => break,
                };
                done += n;
                if n < chunk.len() as u64 {
                    break;
                }
            }
            if done > 0 {
                dst.touch_modified(SystemTime::now());
            }
            Ok(done)
        };
        if src.ino == dst.ino {
            let mut st = src.state.write();
            // Reading the chunk first makes overlapping ranges safe; a copy within one file
            // moves at most one step per call (a short copy, which callers repeat).
            let data = st.file()?.read(off_in, len.min(STEP));
            if data.is_empty() {
                return Ok(0);
            }
            let n = st.file_mut()?.write(off_out, &data, &self.space)? as u64;
            st.touch_modified(SystemTime::now());
            return Ok(n);
        }
        if src.ino < dst.ino {
            let s = src.state.read();
            let mut d = dst.state.write();
            copy(&s, &mut d)
        } else {
            let mut d = dst.state.write();
            let s = src.state.read();
            copy(&s, &mut d)
        }
    }

    pub fn statfs(&self) -> StatvfsData {
        let (total, used) = (
            self.space.limit_bytes() / PAGE,
            self.space.used_bytes().div_ceil(PAGE),
        );
        let free = total.saturating_sub(used);
        let files = self.space.limit_inodes();
        // The inode table's entries (what the tree, open files and the kernel still refer
        // to); the budget counts the same nodes, and the two agree whenever no node is being
        // created or freed at this instant.
        let ffree = files.saturating_sub(self.table.len() as u64);
        StatvfsData {
            bsize: PAGE as u32,
            frsize: PAGE as u32,
            blocks: total,
            bfree: free,
            bavail: free,
            files,
            ffree,
            favail: ffree,
            namemax: NAME_MAX as u32,
        }
    }
}
