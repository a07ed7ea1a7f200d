//! Inodes and the table that holds them.
//!
//! Each [`Node`] has its own `RwLock`; the table is sharded so that lookups of different
//! inodes rarely meet on one lock. A node stays in the table while anything refers to it:
//! a directory entry (`nlink`), the kernel (`nlookup`, counted per reply and given back by
//! `forget`) or an open file (`opens`). When all three reach zero it is marked dead under its
//! lock, its memory is returned to the budget and it leaves the table.
//!
//! Lock order (deadlock freedom): table shards are innermost (no node lock is taken while a
//! shard is held). Node locks are taken parent before child, directories before other files,
//! and each node at most once per request. Renames between two directories are serialized by
//! one mutex, which keeps the directory tree's shape stable while a rename orders its locks.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use fusegen::prelude::*;
use parking_lot::RwLock;

use crate::data::{FileData, PAGE, Space};
use crate::locks::LockTable;

/// A directory entry: the inode it names and that inode's type (so that checks such as
/// "is it a directory" need no lock on the child).
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: OsString,
    pub ino: u64,
    pub kind: FileType,
}

/// Directory contents. Entries are kept by cookie, a number that only grows, so a readdir
/// offset (the cookie of the last entry returned) stays valid while entries come and go.
#[derive(Debug, Default)]
pub struct Dir {
    entries: BTreeMap<u64, Entry>,
    names: HashMap<OsString, u64>,
    next_cookie: u64,
}

/// Cookies 1 and 2 are the offsets after `.` and `..`.
pub const FIRST_COOKIE: u64 = 3;

impl Dir {
    pub fn get(&self, name: &OsStr) -> Option<&Entry> {
        self.names.get(name).and_then(|c| self.entries.get(c))
    }

    pub fn insert(&mut self, name: &OsStr, ino: u64, kind: FileType) {
        let cookie = self.next_cookie.max(FIRST_COOKIE);
        self.next_cookie = cookie + 1;
        let name = name.to_os_string();
        self.names.insert(name.clone(), cookie);
        self.entries.insert(cookie, Entry { name, ino, kind });
    }

    pub fn remove(&mut self, name: &OsStr) -> Option<Entry> {
        let cookie = self.names.remove(name)?;
        self.entries.remove(&cookie)
    }

    /// Points an existing entry at another inode, keeping its cookie (RENAME_EXCHANGE).
    pub fn replace(&mut self, name: &OsStr, ino: u64, kind: FileType) {
        if let Some(e) = self.names.get(name).and_then(|c| self.entries.get_mut(c)) {
            e.ino = ino;
            e.kind = kind;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Entries after readdir offset `offset`, in cookie order.
    pub fn after(&self, offset: u64) -> impl Iterator<Item = (u64, &Entry)> {
        self.entries
            .range(offset.saturating_add(1).max(FIRST_COOKIE)..)
            .map(|(&c, e)| (c, e))
    }
}

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
    /// Freed: the node is leaving the table and must not be used.
    pub dead: bool,
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
        if self.nlink == 0 || self.dead {
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
    fn charged(&self) -> u64 {
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
    /// Lookups the kernel holds (replies to lookup, create, mknod, mkdir, symlink, link,
    /// tmpfile, and READDIRPLUS entries), minus those it gave back with `forget`.
    pub nlookup: AtomicU64,
    pub state: RwLock<State>,
    /// POSIX and flock locks (regular files).
    pub locks: LockTable,
}

impl Node {
    pub fn parent(&self) -> u64 {
        self.parent.load(Ordering::Acquire)
    }

    pub fn set_parent(&self, parent: u64) {
        self.parent.store(parent, Ordering::Release);
    }

    /// One more lookup reference held by the kernel.
    pub fn looked_up(&self) {
        self.nlookup.fetch_add(1, Ordering::AcqRel);
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

    /// Whether nothing refers to the node any more. Called with its state locked.
    fn unreferenced(&self, st: &State) -> bool {
        !st.dead && st.nlink == 0 && st.opens == 0 && self.nlookup.load(Ordering::Acquire) == 0
    }
}

const SHARDS: usize = 64;

type Shard = RwLock<HashMap<u64, Arc<Node>>>;

/// Every live inode by number.
pub struct Table {
    shards: Box<[Shard]>,
    next_ino: AtomicU64,
}

impl Table {
    pub fn new() -> Table {
        Table {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            // Inode numbers are never reused (1 is the root), so generation 0 is always unique.
            next_ino: AtomicU64::new(2),
        }
    }

    fn shard(&self, ino: u64) -> &Shard {
        &self.shards[(ino % SHARDS as u64) as usize]
    }

    pub fn get(&self, ino: u64) -> Option<Arc<Node>> {
        self.shard(ino).read().get(&ino).cloned()
    }

    pub fn allocate_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }

    pub fn insert(&self, node: Arc<Node>) {
        self.shard(node.ino).write().insert(node.ino, node);
    }

    fn remove(&self, ino: u64) {
        self.shard(ino).write().remove(&ino);
    }

    /// Frees `node` if nothing refers to it any more. `st` is its locked state; the caller
    /// must drop that guard before calling [`Table::finish_free`] with the returned node.
    #[must_use]
    pub fn free_if_unreferenced(
        &self,
        node: &Arc<Node>,
        st: &mut State,
        space: &Space,
    ) -> Option<Arc<Node>> {
        if node.ino == Inode::ROOT.0 || !node.unreferenced(st) {
            return None;
        }
        st.dead = true;
        space.release(st.charged());
        st.content = Content::Special;
        st.xattrs.clear();
        Some(node.clone())
    }

    /// Second half of freeing: the node leaves the table (taken after its lock is released,
    /// since shard locks are innermost).
    pub fn finish_free(&self, freed: Option<Arc<Node>>, space: &Space) {
        if let Some(node) = freed {
            self.remove(node.ino);
            space.release_inode();
        }
    }
}

/// A new node, not yet in any table or directory.
pub fn new_node(ino: u64, parent: u64, st: State) -> Arc<Node> {
    let kind = FileType::from_mode(st.mode).unwrap_or(FileType::RegularFile);
    Arc::new(Node {
        ino,
        kind,
        parent: AtomicU64::new(parent),
        nlookup: AtomicU64::new(0),
        state: RwLock::new(st),
        locks: LockTable::default(),
    })
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
        dead: false,
    }
}
