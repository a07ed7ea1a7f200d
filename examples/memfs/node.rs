//! Inodes and the table that holds them.
//!
//! Each [`Node`] has its own `RwLock`; the table is fusegen's [`InodeTable`], which counts
//! the kernel's lookups (given back by `forget`). A node stays in the table while anything
//! refers to it: the kernel, or a directory entry (`nlink`) or open file (`opens`), which
//! together are one hold in the table ([`pin`], [`unpin_if_unused`]). When the table lets it
//! go, its memory is returned to the budget (`Core::freed`).
//!
//! Lock order (deadlock freedom): table shards are innermost (no node lock is taken while a
//! shard is held). Node locks are taken parent before child, directories before other files,
//! and each node at most once per request. Renames between two directories are serialized by
//! one mutex, which keeps the directory tree's shape stable while a rename orders its locks.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use fusegen::inodes::{InodeTable, Refs};
use fusegen::prelude::*;
use parking_lot::RwLock;

use crate::data::{FileData, PAGE};

/// A directory entry: the inode it names and that inode's type (so that checks such as
/// "is it a directory" need no lock on the child).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub ino: u64,
    pub kind: FileType,
}

/// Directory contents, with readdir offsets that stay valid while entries come and go.
pub type Dir = DirEntries<Entry>;

/// What a node holds besides its attributes.
#[derive(Debug)]
pub enum Content {
    File(FileData),
    Dir(Dir),
    Symlink(OsString),
    /// FIFOs, sockets and devices: attributes only.
    Special,
}

/// Everything behind a node's lock.
#[derive(Debug)]
pub struct State {
    /// Full `st_mode`, type bits included.
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u32,
    pub atime: SystemTime,
    pub mtime: SystemTime,
    pub ctime: SystemTime,
    pub btime: SystemTime,
    pub content: Content,
    pub xattrs: BTreeMap<OsString, Vec<u8>>,
    /// Open file handles.
    pub opens: u32,
    /// The node holds one [hold](InodeTable::hold) in the table: set while a directory entry
    /// or an open file refers to it (`nlink > 0 || opens > 0`).
    pub held: bool,
}

impl State {
    pub fn dir(&self) -> Result<&Dir> {
        match &self.content {
            Content::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    pub fn dir_mut(&mut self) -> Result<&mut Dir> {
        match &mut self.content {
            Content::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    pub fn file(&self) -> Result<&FileData> {
        match &self.content {
            Content::File(f) => Ok(f),
            Content::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    pub fn file_mut(&mut self) -> Result<&mut FileData> {
        match &mut self.content {
            Content::File(f) => Ok(f),
            Content::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// A directory that was removed (or a node on its way out) accepts no new entries.
    pub fn alive_dir_mut(&mut self) -> Result<&mut Dir> {
        if self.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        self.dir_mut()
    }

    /// Marks a modification of contents: mtime and ctime become now.
    pub fn touch_modified(&mut self, now: SystemTime) {
        self.mtime = now;
        self.ctime = now;
    }

    fn size(&self) -> u64 {
        match &self.content {
            Content::File(f) => f.size(),
            // tmpfs's convention: a bogus 20 bytes per entry, `.` and `..` included.
            Content::Dir(d) => (d.len() as u64 + 2) * 20,
            Content::Symlink(t) => t.len() as u64,
            Content::Special => 0,
        }
    }

    /// Bytes this node holds against the space budget.
    pub fn charged(&self) -> u64 {
        let xattrs: usize = self.xattrs.iter().map(|(k, v)| k.len() + v.len()).sum();
        let own = match &self.content {
            Content::File(f) => f.charged(),
            Content::Symlink(t) => t.len() as u64,
            Content::Dir(_) | Content::Special => 0,
        };
        own + xattrs as u64
    }
}

/// One inode.
#[derive(Debug)]
pub struct Node {
    pub ino: u64,
    /// The file type never changes, so it lives outside the lock.
    pub kind: FileType,
    /// For directories, the parent directory (changed only by renames, under the rename
    /// mutex, so walks up the tree need no node locks).
    pub parent: AtomicU64,
    pub state: RwLock<State>,
}

impl Node {
    pub fn parent(&self) -> u64 {
        self.parent.load(Ordering::Acquire)
    }

    pub fn set_parent(&self, parent: u64) {
        self.parent.store(parent, Ordering::Release);
    }

    /// The attributes the kernel sees.
    pub fn attributes(&self, st: &State) -> EntryAttributes {
        let mut a = EntryAttributes::new(Inode(self.ino), self.kind, 0);
        a.mode = st.mode;
        a.nlink = st.nlink;
        a.uid = st.uid;
        a.gid = st.gid;
        a.rdev = st.rdev;
        a.size = st.size();
        a.blocks = match &st.content {
            Content::File(f) => f.blocks(),
            _ => 0,
        };
        a.blksize = PAGE as u32;
        a.atime = st.atime;
        a.mtime = st.mtime;
        a.ctime = st.ctime;
        a.btime = st.btime;
        a
    }
}

/// Every live inode by number, with the kernel's lookup counts (`fusegen::inodes`).
pub type Table = InodeTable<Node>;

/// Takes the node's hold in the table before a directory entry or an open file starts to
/// refer to it; `ENOENT` if the node has already left the table (nothing referred to it).
pub fn pin(table: &Table, node: &Node, st: &mut State) -> Result<()> {
    if !st.held {
        table.hold(Inode(node.ino)).ok_or(Errno::ENOENT)?;
        st.held = true;
    }
    Ok(())
}

/// Drops the node's hold once no directory entry or open file refers to it. Returns the node
/// if that took it out of the table (the kernel knows it no more either): the caller drops
/// its locks and hands it to `Core::freed`.
#[must_use]
pub fn unpin_if_unused(table: &Table, node: &Node, st: &mut State) -> Option<Arc<Node>> {
    if !st.held || st.nlink > 0 || st.opens > 0 {
        return None;
    }
    st.held = false;
    table.release(Inode(node.ino))
}

/// Enters the root directory (never freed: it keeps its hold for good).
pub fn install_root(table: &Table, mut st: State) {
    st.held = true;
    let root = new_node(Inode::ROOT.0, Inode::ROOT.0, st);
    if table.insert(Inode::ROOT, root, Refs::HOLD).is_err() {
        tracing::error!("memfs: the root was entered twice");
    }
}

/// A new node, not yet in any table or directory.
pub fn new_node(ino: u64, parent: u64, st: State) -> Node {
    let kind = FileType::from_mode(st.mode).unwrap_or(FileType::RegularFile);
    Node {
        ino,
        kind,
        parent: AtomicU64::new(parent),
        state: RwLock::new(st),
    }
}

/// State of a fresh node with all times at `now`.
pub fn fresh_state(mode: u32, uid: u32, gid: u32, rdev: u32, content: Content) -> State {
    let now = SystemTime::now();
    let nlink = if matches!(content, Content::Dir(_)) {
        2
    } else {
        1
    };
    State {
        mode,
        nlink,
        uid,
        gid,
        rdev,
        atime: now,
        mtime: now,
        ctime: now,
        btime: now,
        content,
        xattrs: BTreeMap::new(),
        opens: 0,
        held: false,
    }
}
