//! The directory tree: lookup, creating nodes, unlink, rmdir, link, rename, readdir and
//! lookup counting (`forget`).
//!
//! Every reply that gives the kernel an inode (lookup, the creating operations, link,
//! READDIRPLUS entries) counts one lookup on it in the table; `forget` gives them back.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;
use std::time::SystemTime;

use fusegen::inodes::Refs;
use fusegen::prelude::*;
use fusegen::{Dots, Forget};
use parking_lot::RwLockWriteGuard;

use crate::Core;
use crate::node::{Content, Entry, Node, State, fresh_state, new_node, pin, unpin_if_unused};

/// Longest file name (`NAME_MAX`); the kernel lets FUSE names reach 1024 bytes.
pub const NAME_MAX: usize = 255;

pub fn check_name(name: &OsStr) -> Result<()> {
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.is_empty() || name.as_bytes().contains(&b'/') {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// What a new node is made of.
pub struct NewNode {
    /// Full mode; the permission bits are masked with the caller's umask.
    pub mode: u32,
    pub rdev: u32,
    pub content: Content,
    /// Bytes charged to the budget besides the inode (a symlink's target).
    pub charge: u64,
    /// Open handles the node starts with (`create`, `tmpfile`).
    pub opens: u32,
    /// Links the node starts with: 0 for `tmpfile`.
    pub nlink: Option<u32>,
}

impl NewNode {
    /// A node with no device number, charge, opens or link override.
    pub fn new(mode: u32, content: Content) -> NewNode {
        NewNode {
            mode,
            rdev: 0,
            content,
            charge: 0,
            opens: 0,
            nlink: None,
        }
    }
}

/// The two parent directories of a rename, locked; `b` is `None` when both are the same.
struct Parents<'g> {
    a: &'g mut State,
    b: Option<&'g mut State>,
}

impl Parents<'_> {
    fn b(&mut self) -> &mut State {
        match &mut self.b {
            Some(b) => b,
            None => self.a,
        }
    }
}

/// Order in which children are locked: directories first, then by inode number.
fn lock_key(n: &Node) -> (bool, u64) {
    (n.kind != FileType::Directory, n.ino)
}

impl Core {
    pub fn node(&self, ino: Inode) -> Result<Arc<Node>> {
        self.table.get(ino).ok_or(Errno::ENOENT)
    }

    /// The node a directory entry names (a linked node is always in the table).
    pub fn child(&self, e: &Entry) -> Result<Arc<Node>> {
        self.table.get(Inode(e.ino)).ok_or(Errno::EIO)
    }

    /// Attributes of `node`, counting one lookup for the kernel.
    pub fn counted(&self, node: &Node, st: &State) -> Result<EntryAttributes> {
        self.table.lookup(Inode(node.ino)).ok_or(Errno::ENOENT)?;
        Ok(node.attributes(st))
    }

    /// Returns the memory of a node that left the table to the budget. Called without any
    /// node lock held.
    pub fn freed(&self, node: Option<Arc<Node>>) {
        if let Some(node) = node {
            let mut st = node.state.write();
            self.space.release(st.charged());
            // Requests still holding the node see an empty one; the memory goes now.
            st.content = Content::Special;
            st.xattrs.clear();
            drop(st);
            self.space.release_inode();
        }
    }

    pub fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let p = self.node(parent)?;
        let pst = p.state.read();
        let ino = match name.as_bytes() {
            b"." => return self.counted(&p, &pst),
            // The parent is locked after this one is released (parents before children).
            b".." => {
                pst.dir()?;
                drop(pst);
                let up = self.node(Inode(p.parent()))?;
                let st = up.state.read();
                return self.counted(&up, &st);
            }
            _ => match pst.dir()?.get(name) {
                Some(e) => e.ino,
                // Cached for the mount's `negative_timeout` (see `MemFs`), which overrides
                // the timeout given here.
                None => return Ok(EntryAttributes::negative(fusegen::DEFAULT_TIMEOUT)),
            },
        };
        let child = self.table.get(Inode(ino)).ok_or(Errno::EIO)?;
        let st = child.state.read();
        self.counted(&child, &st)
    }

    /// Makes a node owned by the caller, in the group of the parent if the parent is
    /// setgid (then new directories are setgid too), with the caller's umask applied. It
    /// enters the table with `lookups` (the reply's) and its hold.
    fn make_node(
        &self,
        parent: &Node,
        pst: &State,
        new: NewNode,
        lookups: u64,
        ctx: &RequestContext,
    ) -> Result<Arc<Node>> {
        let kind = FileType::from_mode(new.mode).ok_or(Errno::EINVAL)?;
        let mut perm = new.mode & 0o7777 & !(ctx.umask & 0o777);
        let gid = if pst.mode & libc::S_ISGID != 0 {
            if kind == FileType::Directory {
                perm |= libc::S_ISGID;
            }
            pst.gid
        } else {
            ctx.gid
        };
        self.space.take_inode()?;
        if let Err(e) = self.space.reserve(new.charge) {
            self.space.release_inode();
            return Err(e);
        }
        let mut st = fresh_state(kind.mode_bits() | perm, ctx.uid, gid, new.rdev, new.content);
        st.opens = new.opens;
        if let Some(nlink) = new.nlink {
            st.nlink = nlink;
        }
        st.held = true;
        let ino = self.table.allocate();
        let refs = Refs { lookups, holds: 1 };
        // Allocated numbers are free: memfs never chooses one itself.
        self.table
            .insert(ino, new_node(ino.0, parent.ino, st), refs)
            .map_err(|_| {
                self.space.release(new.charge);
                self.space.release_inode();
                Errno::EIO
            })
    }

    /// Creates `name` in the locked directory `pst`; returns the node and its (counted)
    /// attributes.
    pub fn add_child(
        &self,
        parent: &Node,
        pst: &mut State,
        name: &OsStr,
        new: NewNode,
        ctx: &RequestContext,
    ) -> Result<(Arc<Node>, EntryAttributes)> {
        check_name(name)?;
        if pst.alive_dir_mut()?.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let node = self.make_node(parent, pst, new, 1, ctx)?;
        let entry = Entry {
            ino: node.ino,
            kind: node.kind,
        };
        // The name was checked absent under the same lock.
        let _ = pst.dir_mut()?.insert(name, entry);
        if node.kind == FileType::Directory {
            pst.nlink += 1;
        }
        pst.touch_modified(SystemTime::now());
        let attrs = node.attributes(&node.state.read());
        Ok((node, attrs))
    }

    /// mknod, mkdir, symlink: a new node in `parent`.
    pub fn create_node(
        &self,
        parent: Inode,
        name: &OsStr,
        new: NewNode,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        check_name(name)?;
        let p = self.node(parent)?;
        let mut pst = p.state.write();
        self.add_child(&p, &mut pst, name, new, ctx)
            .map(|(_, attrs)| attrs)
    }

    /// `O_TMPFILE`: a node in no directory, open once, with no links.
    pub fn create_unnamed(
        &self,
        parent: Inode,
        new: NewNode,
        ctx: &RequestContext,
    ) -> Result<(Arc<Node>, EntryAttributes)> {
        let p = self.node(parent)?;
        let mut pst = p.state.write();
        pst.alive_dir_mut()?;
        let node = self.make_node(&p, &pst, new, 1, ctx)?;
        let attrs = node.attributes(&node.state.read());
        Ok((node, attrs))
    }

    /// unlink (`dir == false`) and rmdir (`dir == true`).
    pub fn remove(&self, parent: Inode, name: &OsStr, dir: bool) -> Result<()> {
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if dir && name.as_bytes() == b"." {
            return Err(Errno::EINVAL);
        }
        let p = self.node(parent)?;
        let mut pst = p.state.write();
        let entry = pst.dir()?.get(name).cloned().ok_or(Errno::ENOENT)?;
        match (dir, entry.kind == FileType::Directory) {
            (false, true) => return Err(Errno::EISDIR),
            (true, false) => return Err(Errno::ENOTDIR),
            _ => {}
        }
        let child = self.child(&entry)?;
        let mut cst = child.state.write();
        if dir && !cst.dir()?.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        let now = SystemTime::now();
        pst.dir_mut()?.remove(name);
        if dir {
            cst.nlink = 0;
            pst.nlink -= 1;
        } else {
            cst.nlink -= 1;
        }
        cst.ctime = now;
        pst.touch_modified(now);
        let freed = unpin_if_unused(&self.table, &child, &mut cst);
        drop(cst);
        drop(pst);
        self.freed(freed);
        Ok(())
    }

    pub fn link(&self, ino: Inode, new_parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        check_name(name)?;
        let node = self.node(ino)?;
        if node.kind == FileType::Directory {
            return Err(Errno::EPERM);
        }
        let p = self.node(new_parent)?;
        let mut pst = p.state.write();
        if pst.alive_dir_mut()?.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let mut st = node.state.write();
        if st.nlink >= u32::MAX - 1 {
            return Err(Errno::EMLINK);
        }
        pin(&self.table, &node, &mut st)?;
        let now = SystemTime::now();
        st.nlink += 1;
        st.ctime = now;
        let entry = Entry {
            ino: node.ino,
            kind: node.kind,
        };
        let _ = pst.dir_mut()?.insert(name, entry); // checked absent above
        pst.touch_modified(now);
        self.counted(&node, &st) // cannot fail: pinned
    }

    /// The kernel gives back lookups; nodes nothing refers to any more are freed.
    pub fn forget(&self, forgets: &[Forget]) {
        for node in self.table.forget_batch(forgets) {
            self.freed(Some(node));
        }
    }

    /// Unmount: the kernel's lookups are all gone; unlinked nodes it still knew are freed.
    pub fn forget_all(&self) {
        for node in self.table.forget_all() {
            self.freed(Some(node));
        }
    }

    /// Whether directory `ancestor` is `ino` or above it. Parent pointers change only under
    /// the rename mutex, which the caller holds.
    fn is_ancestor_or_self(&self, ancestor: u64, mut ino: u64) -> bool {
        // The depth bound only guards against a corrupted tree.
        for _ in 0..1_000_000 {
            if ino == ancestor {
                return true;
            }
            if ino == Inode::ROOT.0 {
                return false;
            }
            match self.table.get(Inode(ino)) {
                Some(n) => ino = n.parent(),
                None => return false,
            }
        }
        false
    }

    pub fn rename(
        &self,
        pa: Inode,
        na: &OsStr,
        pb: Inode,
        nb: &OsStr,
        flags: RenameFlags,
        ctx: &RequestContext,
    ) -> Result<()> {
        check_name(na)?;
        check_name(nb)?;
        let exchange = flags.contains(RenameFlags::EXCHANGE);
        if !RenameFlags::all().contains(flags)
            || (exchange && flags.intersects(RenameFlags::NOREPLACE | RenameFlags::WHITEOUT))
        {
            return Err(Errno::EINVAL);
        }
        let a = self.node(pa)?;
        if pa == pb {
            let mut ast = a.state.write();
            let x = ast.dir()?.get(na).cloned().ok_or(Errno::ENOENT)?;
            let y = ast.dir()?.get(nb).cloned();
            return self.rename_locked(
                Parents {
                    a: &mut ast,
                    b: None,
                },
                &a,
                &a,
                na,
                nb,
                x,
                y,
                flags,
                ctx,
            );
        }
        let b = self.node(pb)?;
        let _serial = self.rename_lock.lock();
        loop {
            let x = a
                .state
                .read()
                .dir()?
                .get(na)
                .cloned()
                .ok_or(Errno::ENOENT)?;
            let y = b.state.read().dir()?.get(nb).cloned();
            // Moving a directory below itself, or replacing a directory above the source.
            if x.kind == FileType::Directory && self.is_ancestor_or_self(x.ino, b.ino) {
                return Err(Errno::EINVAL);
            }
            if let Some(y) = &y
                && y.kind == FileType::Directory
                && self.is_ancestor_or_self(y.ino, a.ino)
            {
                return Err(if exchange {
                    Errno::EINVAL
                } else {
                    Errno::ENOTEMPTY
                });
            }
            // Ancestor first; unrelated directories by inode number.
            let a_first = !self.is_ancestor_or_self(b.ino, a.ino)
                && (self.is_ancestor_or_self(a.ino, b.ino) || a.ino < b.ino);
            let (mut ast, mut bst): (RwLockWriteGuard<State>, RwLockWriteGuard<State>) = if a_first
            {
                let ga = a.state.write();
                (ga, b.state.write())
            } else {
                let gb = b.state.write();
                (a.state.write(), gb)
            };
            // Same-directory operations run without the rename mutex: re-check the names.
            let same = |st: &State, name: &OsStr, want: Option<u64>| -> Result<bool> {
                Ok(st.dir()?.get(name).map(|e| e.ino) == want)
            };
            if !same(&ast, na, Some(x.ino))? || !same(&bst, nb, y.as_ref().map(|e| e.ino))? {
                continue;
            }
            bst.alive_dir_mut()?;
            return self.rename_locked(
                Parents {
                    a: &mut ast,
                    b: Some(&mut bst),
                },
                &a,
                &b,
                na,
                nb,
                x,
                y,
                flags,
                ctx,
            );
        }
    }

    /// The rename itself, with both parents locked and the names checked: `x` is the
    /// source entry, `y` the target's if it exists.
    #[allow(clippy::too_many_arguments)]
    fn rename_locked(
        &self,
        mut p: Parents<'_>,
        a: &Node,
        b: &Node,
        na: &OsStr,
        nb: &OsStr,
        x: Entry,
        y: Option<Entry>,
        flags: RenameFlags,
        ctx: &RequestContext,
    ) -> Result<()> {
        let exchange = flags.contains(RenameFlags::EXCHANGE);
        let is_dir = |e: &Entry| e.kind == FileType::Directory;
        match &y {
            Some(y) if y.ino == x.ino => return Ok(()), // two links to one inode: nothing to do
            Some(_) if flags.contains(RenameFlags::NOREPLACE) => return Err(Errno::EEXIST),
            Some(y) if !exchange && is_dir(&x) && !is_dir(y) => return Err(Errno::ENOTDIR),
            Some(y) if !exchange && !is_dir(&x) && is_dir(y) => return Err(Errno::EISDIR),
            None if exchange => return Err(Errno::ENOENT),
            _ => {}
        }
        let xnode = self.child(&x)?;
        let ynode = match &y {
            Some(y) => Some(self.child(y)?),
            None => None,
        };
        let (mut xst, mut yst) = match &ynode {
            None => (xnode.state.write(), None),
            Some(yn) if lock_key(&xnode) < lock_key(yn) => {
                let xg = xnode.state.write();
                (xg, Some(yn.state.write()))
            }
            Some(yn) => {
                let yg = yn.state.write();
                (xnode.state.write(), Some(yg))
            }
        };
        if let (Some(yst), Some(y)) = (&yst, &y)
            && !exchange
            && is_dir(y)
            && !yst.dir()?.is_empty()
        {
            return Err(Errno::ENOTEMPTY);
        }
        let whiteout = if flags.contains(RenameFlags::WHITEOUT) {
            let new = NewNode::new(libc::S_IFCHR, Content::Special);
            Some(self.make_node(a, p.a, new, 0, ctx)?)
        } else {
            None
        };
        // From here on nothing fails.
        let now = SystemTime::now();
        let moved = a.ino != b.ino;
        let mut freed = None;
        if exchange {
            let y = y.expect("checked above");
            let yst = yst.as_mut().expect("locked above");
            if let Some(e) = p.a.dir_mut()?.get_mut(na) {
                *e = y;
            }
            if let Some(e) = p.b().dir_mut()?.get_mut(nb) {
                *e = x;
            }
            if moved {
                let ynode = ynode.as_ref().expect("looked up above");
                match (is_dir(&x), is_dir(&y)) {
                    (true, false) => {
                        p.a.nlink -= 1;
                        p.b().nlink += 1;
                    }
                    (false, true) => {
                        p.b().nlink -= 1;
                        p.a.nlink += 1;
                    }
                    _ => {}
                }
                if is_dir(&x) {
                    xnode.set_parent(b.ino);
                }
                if is_dir(&y) {
                    ynode.set_parent(a.ino);
                }
            }
            yst.ctime = now;
        } else {
            if let (Some(y), Some(yst)) = (&y, yst.as_mut()) {
                p.b().dir_mut()?.remove(nb);
                if is_dir(y) {
                    yst.nlink = 0;
                    p.b().nlink -= 1;
                } else {
                    yst.nlink -= 1;
                }
                yst.ctime = now;
                let ynode = ynode.as_ref().expect("looked up above");
                freed = unpin_if_unused(&self.table, ynode, yst);
            }
            p.a.dir_mut()?.remove(na);
            let _ = p.b().dir_mut()?.insert(nb, x); // `nb` is free: removed or absent
            if is_dir(&x) && moved {
                p.a.nlink -= 1;
                p.b().nlink += 1;
                xnode.set_parent(b.ino);
            }
            if let Some(w) = whiteout {
                let whiteout = Entry {
                    ino: w.ino,
                    kind: w.kind,
                };
                let _ = p.a.dir_mut()?.insert(na, whiteout); // just removed
            }
        }
        xst.ctime = now;
        p.a.touch_modified(now);
        p.b().touch_modified(now);
        drop(xst);
        drop(yst);
        self.freed(freed);
        Ok(())
    }

    /// READDIR(PLUS) from `offset`: `.` (offset 1), `..` (2), then entries by cookie;
    /// `DirEntries::fill` counts the READDIRPLUS lookups.
    pub fn readdir(&self, ino: Inode, offset: u64, out: &mut ReaddirReply<'_>) -> Result<()> {
        let node = self.node(ino)?;
        let st = node.state.read();
        let dots = Dots {
            dir: ino,
            parent: Inode(node.parent()),
        };
        // Children are locked after their directory (parents before children).
        st.dir()?
            .fill(out, offset, Some(dots), &self.table, |_, e| {
                let child = self.table.get(Inode(e.ino))?;
                let cst = child.state.read();
                Some(child.attributes(&cst))
            });
        let stale = crate::file::atime_is_stale(&st);
        drop(st);
        if stale {
            node.state.write().atime = SystemTime::now();
        }
        Ok(())
    }
}
