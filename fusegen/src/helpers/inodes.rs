//! [`InodeTable`]: inode numbers, the kernel's lookup counts and the filesystem's own
//! references, for any per-inode data `T` (`docs/inodes.md`).
//!
//! Every reply that hands the kernel an inode (lookup, create, mknod, mkdir, symlink, link,
//! tmpfile, and READDIRPLUS entries other than `.` and `..`) is one *lookup*; the kernel gives
//! them back with `forget`, possibly many at once and in batches. An entry also counts
//! *holds*: references of the filesystem itself (a directory entry naming the inode, an open
//! file, an entry being prepared for a reply). An entry leaves the table when both counts are
//! zero, and then never comes back.
//!
//! Concurrency: the table is split into shards, each a `RwLock`ed map, and each entry's counts
//! are atomics. Reading or counting takes one shard's lock shared; only inserting and removing
//! take it exclusively. Every increment happens under the shared lock, so a removal, which
//! checks both counts under the exclusive lock, can never miss a concurrent lookup: an entry
//! whose count reached zero stays if a lookup came first, and is gone for good if the removal
//! came first (that lookup then finds nothing, and the filesystem inserts a new entry).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::api::types::{EntryAttributes, Forget, Inode};
use crate::proto::dir::{LookupCounts, Outcome, ReaddirReply};

const SHARDS: usize = 64;

/// The references an entry starts with (see [`InodeTable::insert`]).
///
/// ```
/// use fusegen::inodes::Refs;
/// // A file just created by `create`: the reply is one lookup, the directory entry one hold.
/// let created = Refs { lookups: 1, holds: 1 };
/// assert_eq!(created, Refs::LOOKUP.and(Refs::HOLD));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Refs {
    /// Lookups the reply being prepared gives the kernel (usually 1 or 0).
    pub lookups: u64,
    /// References of the filesystem itself.
    pub holds: u64,
}

impl Refs {
    /// One lookup, no hold: an entry that lives exactly as long as the kernel knows it.
    pub const LOOKUP: Refs = Refs {
        lookups: 1,
        holds: 0,
    };
    /// One hold, no lookup: an entry the filesystem keeps without the kernel knowing it yet.
    pub const HOLD: Refs = Refs {
        lookups: 0,
        holds: 1,
    };

    /// Both sets of references added up.
    ///
    /// ```
    /// use fusegen::inodes::Refs;
    /// assert_eq!(Refs::HOLD.and(Refs::HOLD), Refs { lookups: 0, holds: 2 });
    /// ```
    pub const fn and(self, other: Refs) -> Refs {
        Refs {
            lookups: self.lookups.saturating_add(other.lookups),
            holds: self.holds.saturating_add(other.holds),
        }
    }
}

struct Slot<T> {
    data: Arc<T>,
    lookups: AtomicU64,
    holds: AtomicU64,
}

impl<T> Slot<T> {
    fn unreferenced(&self) -> bool {
        self.lookups.load(Ordering::Acquire) == 0 && self.holds.load(Ordering::Acquire) == 0
    }
}

type Shard<T> = RwLock<HashMap<u64, Slot<T>>>;

/// Inode numbers to the filesystem's per-inode data, with the kernel's lookup count and the
/// filesystem's holds on each (`docs/inodes.md`).
///
/// The root ([`Inode::ROOT`]) is never removed by a forget or release: the kernel never
/// forgets it (its own reference lasts until unmount).
///
/// ```
/// use fusegen::inodes::{InodeTable, Refs};
/// use fusegen::{Forget, Inode};
///
/// let table: InodeTable<String> = InodeTable::new();
/// // `lookup` found a file the kernel does not know yet: enter it with one lookup.
/// let ino = table.insert_new(Refs::LOOKUP, |ino| format!("file {}", ino.0));
/// // A second lookup of the same file.
/// assert!(table.lookup(ino.0).is_some());
/// // The kernel forgets both lookups in one batch: the entry goes.
/// let gone = table.forget_batch(&[Forget { ino: ino.0, nlookup: 2 }]);
/// assert_eq!(gone.len(), 1);
/// assert!(table.get(ino.0).is_none());
/// ```
pub struct InodeTable<T> {
    shards: Box<[Shard<T>]>,
    next: AtomicU64,
}

impl<T> std::fmt::Debug for InodeTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InodeTable")
            .field("len", &self.len())
            .field("next", &self.next.load(Ordering::Relaxed))
            .finish()
    }
}

impl<T> Default for InodeTable<T> {
    fn default() -> InodeTable<T> {
        InodeTable::new()
    }
}

impl<T> InodeTable<T> {
    /// An empty table whose allocated numbers start at 2 (1 is the root).
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// let table: InodeTable<()> = InodeTable::new();
    /// assert_eq!(table.allocate().0, 2);
    /// assert!(table.is_empty());
    /// ```
    pub fn new() -> InodeTable<T> {
        InodeTable {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            next: AtomicU64::new(2),
        }
    }

    /// The same table, allocating numbers from `first` on (at least 2), e.g. to keep a range
    /// free for numbers the caller chooses itself.
    ///
    /// ```
    /// use fusegen::inodes::InodeTable;
    /// let table: InodeTable<()> = InodeTable::new().numbers_from(1 << 56);
    /// assert_eq!(table.allocate().0, 1 << 56);
    /// ```
    pub fn numbers_from(self, first: u64) -> InodeTable<T> {
        self.next.store(first.max(2), Ordering::Relaxed);
        self
    }

    fn shard(&self, ino: u64) -> &Shard<T> {
        &self.shards[(ino % SHARDS as u64) as usize]
    }

    fn read(&self, ino: u64) -> RwLockReadGuard<'_, HashMap<u64, Slot<T>>> {
        self.shard(ino)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self, ino: u64) -> RwLockWriteGuard<'_, HashMap<u64, Slot<T>>> {
        self.shard(ino)
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A number no entry has: the next one of the table's sequence (see
    /// [`numbers_from`](Self::numbers_from)), skipping numbers the caller inserted itself.
    /// Allocated numbers are never handed out twice, so no generation numbers are needed.
    ///
    /// A caller-chosen [`insert`](Self::insert) may still take the number before it is used;
    /// [`insert_new`](Self::insert_new) allocates and inserts in one step.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// let table: InodeTable<()> = InodeTable::new();
    /// table.insert(fusegen::Inode(2), (), Refs::LOOKUP).unwrap();
    /// assert_eq!(table.allocate().0, 3, "2 is taken");
    /// ```
    pub fn allocate(&self) -> Inode {
        loop {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            // After 2^64 allocations the sequence wraps; 0 and 1 are never handed out.
            if n > Inode::ROOT.0 && !self.contains(Inode(n)) {
                return Inode(n);
            }
        }
    }

    /// Enters `data` as inode `ino` with `refs`; gives `data` back if `ino` is taken or 0.
    ///
    /// An entry inserted without any reference stays until a reference it gets is dropped
    /// again, or until [`forget_all`](Self::forget_all) or [`clear`](Self::clear).
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// use fusegen::Inode;
    /// let table = InodeTable::new();
    /// assert!(table.insert(Inode(42), "answer", Refs::LOOKUP).is_ok());
    /// assert_eq!(table.insert(Inode(42), "again", Refs::LOOKUP), Err("again"));
    /// ```
    pub fn insert(&self, ino: Inode, data: T, refs: Refs) -> Result<Arc<T>, T> {
        if ino.0 == 0 {
            return Err(data);
        }
        let mut shard = self.write(ino.0);
        if shard.contains_key(&ino.0) {
            return Err(data);
        }
        let data = Arc::new(data);
        shard.insert(
            ino.0,
            Slot {
                data: data.clone(),
                lookups: AtomicU64::new(refs.lookups),
                holds: AtomicU64::new(refs.holds),
            },
        );
        Ok(data)
    }

    /// Enters the data `make` builds for a freshly [allocated](Self::allocate) number.
    /// `make` runs again with another number in the rare case that a caller-chosen insert
    /// took the first one meanwhile.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// let table = InodeTable::new();
    /// let (ino, data) = table.insert_new(Refs::LOOKUP, |ino| ino.0 * 10);
    /// assert_eq!(*data, ino.0 * 10);
    /// ```
    pub fn insert_new(&self, refs: Refs, mut make: impl FnMut(Inode) -> T) -> (Inode, Arc<T>) {
        loop {
            let ino = self.allocate();
            if let Ok(data) = self.insert(ino, make(ino), refs) {
                return (ino, data);
            }
        }
    }

    /// The data of `ino`, without counting anything.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// use fusegen::Inode;
    /// let table = InodeTable::new();
    /// table.insert(Inode(7), 'x', Refs::HOLD).unwrap();
    /// assert_eq!(table.get(Inode(7)).as_deref(), Some(&'x'));
    /// assert_eq!(table.lookups(Inode(7)), Some(0));
    /// ```
    pub fn get(&self, ino: Inode) -> Option<Arc<T>> {
        self.read(ino.0).get(&ino.0).map(|s| s.data.clone())
    }

    /// Whether `ino` has an entry.
    ///
    /// ```
    /// use fusegen::inodes::InodeTable;
    /// let table: InodeTable<()> = InodeTable::new();
    /// assert!(!table.contains(fusegen::Inode::ROOT));
    /// ```
    pub fn contains(&self, ino: Inode) -> bool {
        self.read(ino.0).contains_key(&ino.0)
    }

    /// Counts one lookup of `ino` (a reply handing the kernel this inode) and returns its
    /// data; `None`, counting nothing, when `ino` has no entry (any more).
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// use fusegen::Inode;
    /// let table = InodeTable::new();
    /// table.insert(Inode(5), (), Refs::HOLD).unwrap();
    /// assert!(table.lookup(Inode(5)).is_some());
    /// assert_eq!(table.lookups(Inode(5)), Some(1));
    /// assert!(table.lookup(Inode(6)).is_none());
    /// ```
    pub fn lookup(&self, ino: Inode) -> Option<Arc<T>> {
        let shard = self.read(ino.0);
        let slot = shard.get(&ino.0)?;
        slot.lookups.fetch_add(1, Ordering::AcqRel);
        Some(slot.data.clone())
    }

    /// Adds one hold of the filesystem on `ino`; `None` when `ino` has no entry (any more).
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// use fusegen::Inode;
    /// let table = InodeTable::new();
    /// table.insert(Inode(5), (), Refs::LOOKUP).unwrap();
    /// table.hold(Inode(5)).unwrap(); // e.g. an open file
    /// assert!(table.forget(Inode(5), 1).is_none(), "held: stays");
    /// assert!(table.release(Inode(5)).is_some(), "last reference: removed");
    /// ```
    pub fn hold(&self, ino: Inode) -> Option<Arc<T>> {
        let shard = self.read(ino.0);
        let slot = shard.get(&ino.0)?;
        slot.holds.fetch_add(1, Ordering::AcqRel);
        Some(slot.data.clone())
    }

    /// Drops one hold on `ino`. Returns the entry's data when that removed it (no lookup or
    /// hold left), so the caller can finish cleaning up; releasing more holds than were taken
    /// is clamped at zero and logged.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// use fusegen::Inode;
    /// let table = InodeTable::new();
    /// table.insert(Inode(9), "tmp", Refs::HOLD).unwrap();
    /// assert_eq!(table.release(Inode(9)).as_deref(), Some(&"tmp"));
    /// assert!(table.is_empty());
    /// ```
    pub fn release(&self, ino: Inode) -> Option<Arc<T>> {
        let reached_zero = {
            let shard = self.read(ino.0);
            let slot = shard.get(&ino.0)?;
            let before = decrement(&slot.holds, 1);
            if before == 0 {
                tracing::warn!(ino = ino.0, "release of an inode not held; ignored");
            }
            before <= 1
        };
        if reached_zero {
            self.remove_if_unreferenced(ino)
        } else {
            None
        }
    }

    /// The kernel gives back `nlookup` lookups of `ino` (FORGET). Returns the entry's data
    /// when that removed it. A forget of more lookups than were counted is clamped at zero
    /// and logged; a forget of an unknown inode is ignored.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// use fusegen::Inode;
    /// let table = InodeTable::new();
    /// table.insert(Inode(3), (), Refs::LOOKUP).unwrap();
    /// table.lookup(Inode(3));
    /// assert!(table.forget(Inode(3), 1).is_none(), "one lookup left");
    /// assert!(table.forget(Inode(3), 5).is_some(), "over-forget: clamped, removed");
    /// ```
    pub fn forget(&self, ino: Inode, nlookup: u64) -> Option<Arc<T>> {
        let reached_zero = {
            let shard = self.read(ino.0);
            let Some(slot) = shard.get(&ino.0) else {
                tracing::debug!(ino = ino.0, nlookup, "forget of an unknown inode; ignored");
                return None;
            };
            let before = decrement(&slot.lookups, nlookup);
            if before < nlookup {
                tracing::warn!(
                    ino = ino.0,
                    counted = before,
                    nlookup,
                    "forget of more lookups than were counted; clamped at zero"
                );
            }
            before <= nlookup
        };
        if reached_zero {
            self.remove_if_unreferenced(ino)
        } else {
            None
        }
    }

    /// [`forget`](Self::forget) for each entry of a FORGET or BATCH_FORGET (what the `forget`
    /// handler receives); returns the data of the entries that left the table.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// use fusegen::{Forget, Inode};
    /// let table = InodeTable::new();
    /// table.insert(Inode(2), (), Refs::LOOKUP).unwrap();
    /// table.insert(Inode(3), (), Refs::LOOKUP.and(Refs::HOLD)).unwrap();
    /// let batch = [Forget { ino: Inode(2), nlookup: 1 }, Forget { ino: Inode(3), nlookup: 1 }];
    /// assert_eq!(table.forget_batch(&batch).len(), 1, "3 is still held");
    /// ```
    pub fn forget_batch(&self, forgets: &[Forget]) -> Vec<Arc<T>> {
        forgets
            .iter()
            .filter_map(|f| self.forget(f.ino, f.nlookup))
            .collect()
    }

    /// Removes `ino` if it has neither lookups nor holds (and is not the root). Every
    /// increment takes the shard's shared lock, so under the exclusive lock the counts cannot
    /// grow: what is checked here is what is removed.
    fn remove_if_unreferenced(&self, ino: Inode) -> Option<Arc<T>> {
        if ino == Inode::ROOT {
            return None;
        }
        let mut shard = self.write(ino.0);
        if !shard.get(&ino.0)?.unreferenced() {
            return None;
        }
        shard.remove(&ino.0).map(|s| s.data)
    }

    /// The kernel let go of everything (unmount, `destroy`): every lookup count becomes zero
    /// and the entries nothing else holds leave the table (the root stays). Returns their
    /// data.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// use fusegen::Inode;
    /// let table = InodeTable::new();
    /// table.insert(Inode::ROOT, (), Refs::default()).unwrap();
    /// table.insert(Inode(2), (), Refs::LOOKUP).unwrap();
    /// table.insert(Inode(3), (), Refs::LOOKUP.and(Refs::HOLD)).unwrap();
    /// assert_eq!(table.forget_all().len(), 1);
    /// assert_eq!(table.len(), 2, "the root and the held entry stay");
    /// assert_eq!(table.lookups(Inode(3)), Some(0));
    /// ```
    pub fn forget_all(&self) -> Vec<Arc<T>> {
        let mut gone = Vec::new();
        for shard in self.shards.iter() {
            let mut map = shard.write().unwrap_or_else(PoisonError::into_inner);
            map.retain(|&ino, slot| {
                slot.lookups.store(0, Ordering::Release);
                let keep = ino == Inode::ROOT.0 || !slot.unreferenced();
                if !keep {
                    gone.push(slot.data.clone());
                }
                keep
            });
        }
        gone
    }

    /// Removes every entry, the root included; returns how many there were.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// let table = InodeTable::new();
    /// table.insert(fusegen::Inode::ROOT, (), Refs::HOLD).unwrap();
    /// assert_eq!(table.clear(), 1);
    /// assert!(table.is_empty());
    /// ```
    pub fn clear(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let mut map = shard.write().unwrap_or_else(PoisonError::into_inner);
                let n = map.len();
                map.clear();
                n
            })
            .sum()
    }

    /// The kernel's lookup count of `ino`; `None` without an entry.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// let table = InodeTable::new();
    /// let (ino, _) = table.insert_new(Refs::LOOKUP, |_| ());
    /// assert_eq!(table.lookups(ino), Some(1));
    /// ```
    pub fn lookups(&self, ino: Inode) -> Option<u64> {
        let shard = self.read(ino.0);
        Some(shard.get(&ino.0)?.lookups.load(Ordering::Acquire))
    }

    /// The filesystem's holds on `ino`; `None` without an entry.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// let table = InodeTable::new();
    /// let (ino, _) = table.insert_new(Refs::HOLD, |_| ());
    /// assert_eq!(table.holds(ino), Some(1));
    /// ```
    pub fn holds(&self, ino: Inode) -> Option<u64> {
        let shard = self.read(ino.0);
        Some(shard.get(&ino.0)?.holds.load(Ordering::Acquire))
    }

    /// Number of entries.
    ///
    /// ```
    /// use fusegen::inodes::{InodeTable, Refs};
    /// let table = InodeTable::new();
    /// table.insert_new(Refs::LOOKUP, |_| ());
    /// assert_eq!(table.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// Whether the table has no entry.
    ///
    /// ```
    /// use fusegen::inodes::InodeTable;
    /// assert!(InodeTable::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Subtracts `n` from `count`, stopping at zero; returns the value before.
fn decrement(count: &AtomicU64, n: u64) -> u64 {
    count
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
            Some(c.saturating_sub(n))
        })
        .unwrap_or_else(|c| c)
}

/// [`ReaddirReply::add_counted`]: the readdir packing (`proto/dir.rs`) counting lookups in a
/// table, defined here so the protocol layer does not depend on this helper.
impl ReaddirReply<'_> {
    /// Adds one entry like [`add`](Self::add) and, when the kernel will count it as a lookup,
    /// counts that lookup in `table`: only when [`is_plus`](Self::is_plus), the entry was
    /// added, it is not `.` or `..` and its inode is not 0 (`docs/inodes.md`). Returns whether
    /// the entry was added; `false` when the buffer is full, the entry is invalid (then the
    /// lookups counted so far in this reply are given back, as the kernel will see none of
    /// them), or, for READDIRPLUS, `attr.ino` has no entry in `table` (keep it there, with a
    /// [hold](InodeTable::hold) for example, until the reply is filled).
    ///
    /// ```
    /// # use fusegen::{EntryAttributes, FileType, Inode, ReaddirReply};
    /// # use fusegen::inodes::InodeTable;
    /// # use std::ffi::OsStr;
    /// fn list(table: &InodeTable<String>, names: &[(u64, Inode)], out: &mut ReaddirReply<'_>) {
    ///     for &(offset, ino) in names {
    ///         let Some(name) = table.get(ino) else { continue };
    ///         let attr = EntryAttributes::new(ino, FileType::RegularFile, 0o644);
    ///         if !out.add_counted(OsStr::new(name.as_str()), &attr, offset, table) {
    ///             break;
    ///         }
    ///     }
    /// }
    /// ```
    pub fn add_counted<T>(
        &mut self,
        name: &OsStr,
        attr: &EntryAttributes,
        next_offset: u64,
        table: &InodeTable<T>,
    ) -> bool {
        self.add_counting(name, attr, next_offset, table) == Outcome::Added
    }
}

impl<T> LookupCounts for InodeTable<T> {
    fn count_one(&self, ino: Inode) -> bool {
        self.lookup(ino).is_some()
    }

    fn forget_one(&self, ino: Inode) {
        self.forget(ino, 1);
    }
}

#[cfg(test)]
#[path = "inodes_tests.rs"]
mod tests;
