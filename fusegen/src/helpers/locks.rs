//! A lock table for the `getlk`, `setlk`, `flock`, `flush` and `release` handlers: POSIX
//! byte-range locks (`fcntl` and OFD locks, `lockf`) and BSD `flock` locks with the semantics
//! of the kernel's own lock manager (`fs/locks.c`).
//!
//! A filesystem that declares lock handlers takes locking away from the kernel: every
//! `fcntl(F_SETLK…)` and `flock(2)` on the mount becomes a request, and the filesystem must
//! arbitrate between owners itself. [`LockTable`] does that arbitration, so the handlers are
//! one line each:
//!
//! ```no_run
//! use fusegen::locks::LockTable;
//! use fusegen::prelude::*;
//!
//! #[derive(Filesystem)]
//! struct MyFs {
//!     locks: LockTable,
//! }
//!
//! #[fusegen::handlers]
//! impl MyFs {
//!     async fn getlk(&self, ino: Inode, _fh: FileHandle, owner: u64, lock: FileLock) -> Result<FileLock> {
//!         self.locks.getlk(ino, owner, lock)
//!     }
//!     async fn setlk(&self, ino: Inode, fh: FileHandle, owner: u64, lock: FileLock, sleep: bool) -> Result<()> {
//!         self.locks.setlk(ino, fh, owner, lock, sleep).await
//!     }
//!     async fn flock(&self, ino: Inode, fh: FileHandle, owner: u64, op: i32) -> Result<()> {
//!         self.locks.flock(ino, fh, owner, op).await
//!     }
//!     // Every close(2): the closing process's POSIX locks on the file go.
//!     async fn flush(&self, ino: Inode, _fh: FileHandle, lock_owner: u64) -> Result<()> {
//!         self.locks.flush(ino, lock_owner);
//!         Ok(())
//!     }
//!     // The open file is gone: its flock lock and its OFD locks go.
//!     async fn release(&self, ino: Inode, fh: FileHandle, _flags: i32) -> Result<()> {
//!         self.locks.release(ino, fh);
//!         Ok(())
//!     }
//! }
//! ```
//!
//! What the table does, as the kernel does it:
//!
//! - **POSIX locks** belong to an owner (the kernel's `lock_owner`: a process's file table, or
//!   the open file for OFD locks) and cover an inclusive byte range. A lock of an owner
//!   replaces that owner's locks on the part it overlaps (splitting them), and merges with the
//!   owner's overlapping or adjacent locks of the same type. Locks of one owner never conflict;
//!   locks of two owners conflict where they overlap and one of them is a write lock.
//! - **`F_GETLK`** answers the conflicting lock with the lowest start, with its holder's pid,
//!   or `F_UNLCK`.
//! - **`F_SETLK`** fails with `EAGAIN` on a conflict; **`F_SETLKW`** waits. Before waiting it
//!   follows the chain of owners (the holder of the conflicting lock, the owner that one waits
//!   for, and so on, at most 10 steps as in the kernel) and fails with `EDEADLK` if the chain
//!   comes back to the caller. The kernel cannot tell OFD owners from process owners over FUSE
//!   (both are opaque numbers), so the check applies to both; it fires only on a cycle that
//!   would otherwise never resolve.
//! - **`flock`** locks belong to an open file (the `owner` of a FLOCK request), are shared or
//!   exclusive over the whole file, never conflict with POSIX locks and never report
//!   `EDEADLK`. Converting a lock drops the old one first, as in the kernel (not atomic).
//!   `LOCK_NB` fails with `EWOULDBLOCK`.
//! - **Waiting** is a future that holds no lock while it sleeps. When locks change, waiters
//!   are examined in the order they started waiting and each one that no longer conflicts is
//!   granted a reservation that later ones (and new requests) must respect; the waiter takes
//!   the lock when it next runs. Dropping a waiting future (the runtime does that when the
//!   kernel interrupts the request) removes the waiter and hands a reservation it had to the
//!   next waiter: nothing is held, leaked or woken for nothing.
//! - **Release**: the kernel sends no unlock when a file is closed on a filesystem that
//!   handles locks. `flush` (each `close(2)`) carries the closing process's owner: call
//!   [`LockTable::flush`]. `release` (the open file's last close) ends its `flock` lock and its
//!   OFD locks: call [`LockTable::release`], which finds them by the file handle the locks were
//!   taken through (so `open` must give each open file its own handle). A killed process's
//!   files are closed by the kernel, so its locks go the same way.
//!
//! One table serves the whole filesystem (deadlock chains cross files); a file's entry
//! exists only while it has locks or waiters.

use std::collections::{HashMap, HashSet};
use std::future::poll_fn;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::{Errno, FileHandle, FileLock, Inode, Result};

/// How far the deadlock check follows the chain of waiting owners (`MAX_DEADLK_ITERATIONS`).
const MAX_DEADLOCK_STEPS: usize = 10;

/// A POSIX lock, held or wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Posix {
    owner: u64,
    pid: u32,
    start: u64,
    /// Inclusive.
    end: u64,
    write: bool,
}

impl Posix {
    fn overlaps(&self, other: &Posix) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    fn conflicts(&self, other: &Posix) -> bool {
        self.owner != other.owner && (self.write || other.write) && self.overlaps(other)
    }

    /// Overlapping or adjacent.
    fn touches(&self, other: &Posix) -> bool {
        self.start <= other.end.saturating_add(1) && other.start <= self.end.saturating_add(1)
    }

    fn to_file_lock(self) -> FileLock {
        FileLock {
            start: self.start,
            end: self.end,
            typ: if self.write {
                libc::F_WRLCK
            } else {
                libc::F_RDLCK
            },
            pid: self.pid,
        }
    }
}

/// A `flock` lock, held or wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flock {
    /// The open file (`owner` of the FLOCK request).
    owner: u64,
    /// The handle it was taken through, to find it at `release`.
    fh: u64,
    exclusive: bool,
}

impl Flock {
    fn conflicts(&self, other: &Flock) -> bool {
        self.owner != other.owner && (self.exclusive || other.exclusive)
    }
}

#[derive(Debug, Clone, Copy)]
enum Want {
    Posix { lock: Posix, fh: u64 },
    Flock(Flock),
}

#[derive(Debug)]
enum WaitState {
    Waiting(Option<Waker>),
    /// Reserved: nothing that conflicts may be granted until the waiter takes it or goes.
    Granted,
    Failed(Errno),
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    want: Want,
    state: WaitState,
    /// The owner holding what a POSIX waiter waits for (for the deadlock check).
    blocker: Option<u64>,
}

/// The locks and waiters of one file.
#[derive(Debug, Default)]
struct FileLocks {
    posix: Vec<Posix>,
    flocks: Vec<Flock>,
    /// In the order they started waiting.
    waiters: Vec<Waiter>,
    /// Owners that took POSIX locks through each handle since their last `flush`: at
    /// `release` these are the OFD owners of that open file.
    via: HashMap<u64, HashSet<u64>>,
}

impl FileLocks {
    fn is_empty(&self) -> bool {
        self.posix.is_empty() && self.flocks.is_empty() && self.waiters.is_empty()
    }

    /// The owner of a held lock or reservation that `want` conflicts with; `skip` is the
    /// waiter asking, whose own reservation does not count.
    fn blocker(&self, want: &Want, skip: Option<u64>) -> Option<u64> {
        let reserved = self
            .waiters
            .iter()
            .filter(|w| Some(w.id) != skip && matches!(w.state, WaitState::Granted));
        match want {
            Want::Posix { lock, .. } => self
                .posix
                .iter()
                .filter(|held| held.conflicts(lock))
                .min_by_key(|held| held.start)
                .map(|held| held.owner)
                .or_else(|| {
                    reserved
                        .filter_map(|w| match &w.want {
                            Want::Posix { lock: r, .. } if r.conflicts(lock) => Some(r.owner),
                            _ => None,
                        })
                        .next()
                }),
            Want::Flock(lock) => self
                .flocks
                .iter()
                .find(|held| held.conflicts(lock))
                .map(|held| held.owner)
                .or_else(|| {
                    reserved
                        .filter_map(|w| match &w.want {
                            Want::Flock(r) if r.conflicts(lock) => Some(r.owner),
                            _ => None,
                        })
                        .next()
                }),
        }
    }

    /// Removes `[start, end]` from `owner`'s POSIX locks, splitting those that straddle it.
    fn unlock_range(&mut self, owner: u64, start: u64, end: u64) {
        let probe = Posix {
            owner,
            pid: 0,
            start,
            end,
            write: false,
        };
        let mut kept = Vec::with_capacity(self.posix.len() + 1);
        for l in self.posix.drain(..) {
            if l.owner != owner || !l.overlaps(&probe) {
                kept.push(l);
                continue;
            }
            if l.start < start {
                kept.push(Posix {
                    end: start - 1,
                    ..l
                });
            }
            if l.end > end {
                kept.push(Posix {
                    start: end + 1,
                    ..l
                });
            }
        }
        self.posix = kept;
        self.forget_idle_owners();
    }

    /// Sets `new` for its owner: replaces the owner's locks in its range, then merges with
    /// the owner's overlapping or adjacent locks of the same type.
    fn apply_posix(&mut self, new: Posix, fh: u64) {
        self.unlock_range(new.owner, new.start, new.end);
        let mut merged = new;
        self.posix.retain(|l| {
            if l.owner == merged.owner && l.write == merged.write && l.touches(&merged) {
                merged.start = merged.start.min(l.start);
                merged.end = merged.end.max(l.end);
                false
            } else {
                true
            }
        });
        self.posix.push(merged);
        self.via.entry(fh).or_default().insert(new.owner);
    }

    /// Drops handle records of owners that hold no POSIX lock here any more.
    fn forget_idle_owners(&mut self) {
        let posix = &self.posix;
        self.via.retain(|_, owners| {
            owners.retain(|o| posix.iter().any(|l| l.owner == *o));
            !owners.is_empty()
        });
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.waiters.iter().position(|w| w.id == id)
    }
}

#[derive(Debug, Default)]
struct State {
    files: HashMap<u64, FileLocks>,
    next_id: u64,
}

impl State {
    /// The owner `owner` waits for, if one of its POSIX requests is waiting.
    fn waits_for(&self, owner: u64) -> Option<u64> {
        self.files.values().find_map(|f| {
            f.waiters.iter().find_map(|w| match (&w.want, &w.state) {
                (Want::Posix { lock, .. }, WaitState::Waiting(_)) if lock.owner == owner => {
                    w.blocker
                }
                _ => None,
            })
        })
    }

    /// Would `owner` waiting for `blocker` close a cycle of waiting owners?
    fn deadlock(&self, owner: u64, blocker: u64) -> bool {
        let mut next = blocker;
        for _ in 0..MAX_DEADLOCK_STEPS {
            match self.waits_for(next) {
                Some(b) if b == owner => return true,
                Some(b) => next = b,
                None => return false,
            }
        }
        false
    }

    /// Re-examines the waiters of `ino` in order after a change: grants reservations to
    /// those that no longer conflict, fails POSIX waiters that now close a cycle, and
    /// collects the wakers of both.
    fn wake(&mut self, ino: u64, wakers: &mut Vec<Waker>) {
        let mut i = 0;
        loop {
            let Some(f) = self.files.get(&ino) else {
                return;
            };
            let Some(w) = f.waiters.get(i) else {
                break;
            };
            i += 1;
            if !matches!(w.state, WaitState::Waiting(_)) {
                continue;
            }
            let (id, want) = (w.id, w.want);
            let blocker = f.blocker(&want, Some(id));
            let failed = match (blocker, want) {
                (Some(b), Want::Posix { lock, .. }) => self.deadlock(lock.owner, b),
                _ => false,
            };
            let Some(w) = self
                .files
                .get_mut(&ino)
                .and_then(|f| f.waiters.get_mut(i - 1))
            else {
                return;
            };
            w.blocker = blocker;
            let state = match (blocker, failed) {
                (None, _) => WaitState::Granted,
                (Some(_), true) => WaitState::Failed(Errno::EDEADLK),
                (Some(_), false) => continue,
            };
            if let WaitState::Waiting(Some(waker)) = std::mem::replace(&mut w.state, state) {
                wakers.push(waker);
            }
        }
        self.tidy(ino);
    }

    /// Forgets `ino` once it has neither locks nor waiters.
    fn tidy(&mut self, ino: u64) {
        if self.files.get(&ino).is_some_and(FileLocks::is_empty) {
            self.files.remove(&ino);
        }
    }

    /// Queues a waiter for `want` on `ino`; returns its id.
    fn enqueue(&mut self, ino: u64, want: Want, blocker: Option<u64>) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.files.entry(ino).or_default().waiters.push(Waiter {
            id,
            want,
            state: WaitState::Waiting(None),
            blocker,
        });
        id
    }
}

/// POSIX and `flock` locks of every file of a filesystem, with the kernel's semantics; see
/// the [module documentation](self) for what it does and how the handlers use it.
#[derive(Debug, Default)]
pub struct LockTable {
    state: Mutex<State>,
}

impl LockTable {
    /// An empty table.
    pub fn new() -> LockTable {
        LockTable::default()
    }

    /// Runs `f` on the state, then wakes the waiters it collected (outside the mutex).
    fn with<T>(&self, f: impl FnOnce(&mut State, &mut Vec<Waker>) -> T) -> T {
        let mut wakers = Vec::new();
        let out = f(&mut self.lock(), &mut wakers);
        wakers.into_iter().for_each(Waker::wake);
        out
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it; a poisoned table is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `F_GETLK` (the `getlk` handler): the held lock that `lock` of `owner` would conflict
    /// with (the one with the lowest start, with its holder's pid), or `lock` with type
    /// `F_UNLCK` if there is none. `EINVAL` for a type other than `F_RDLCK`/`F_WRLCK` or an
    /// empty range.
    pub fn getlk(&self, ino: Inode, owner: u64, lock: FileLock) -> Result<FileLock> {
        let want = posix(owner, &lock)?.ok_or(Errno::EINVAL)?;
        let state = self.lock();
        let found = state.files.get(&ino.0).and_then(|f| {
            f.posix
                .iter()
                .filter(|held| held.conflicts(&want))
                .min_by_key(|held| held.start)
        });
        Ok(match found {
            Some(held) => held.to_file_lock(),
            None => FileLock {
                typ: libc::F_UNLCK,
                ..lock
            },
        })
    }

    /// `F_SETLK` and, with `sleep`, `F_SETLKW` (the `setlk` handler): sets, changes or
    /// (`F_UNLCK`) removes `owner`'s lock on `lock.start..=lock.end`, taken through `fh`.
    ///
    /// Fails with `EAGAIN` on a conflict without `sleep`, `EDEADLK` when waiting would close a
    /// cycle of owners waiting for each other, `EINVAL` for a bad type or range. Waits
    /// otherwise; dropping the future gives up the wait cleanly.
    pub async fn setlk(
        &self,
        ino: Inode,
        fh: FileHandle,
        owner: u64,
        lock: FileLock,
        sleep: bool,
    ) -> Result<()> {
        let Some(new) = posix(owner, &lock)? else {
            self.with(|state, wakers| {
                if let Some(f) = state.files.get_mut(&ino.0) {
                    f.unlock_range(owner, lock.start, lock.end);
                    state.wake(ino.0, wakers);
                }
                state.tidy(ino.0);
            });
            return Ok(());
        };
        let want = Want::Posix {
            lock: new,
            fh: fh.0,
        };
        let id = self.with(|state, wakers| {
            let f = state.files.entry(ino.0).or_default();
            match f.blocker(&want, None) {
                None => {
                    f.apply_posix(new, fh.0);
                    // A changed type (write to read) may let waiters in.
                    state.wake(ino.0, wakers);
                    Ok(None)
                }
                Some(b) => {
                    let r = if !sleep {
                        Err(Errno::EAGAIN)
                    } else if state.deadlock(owner, b) {
                        Err(Errno::EDEADLK)
                    } else {
                        Ok(Some(state.enqueue(ino.0, want, Some(b))))
                    };
                    state.tidy(ino.0);
                    r
                }
            }
        })?;
        match id {
            Some(id) => self.wait(ino.0, id).await,
            None => Ok(()),
        }
    }

    /// `flock(2)` (the `flock` handler): `op` is `LOCK_SH`, `LOCK_EX` or `LOCK_UN`, maybe
    /// with `LOCK_NB`, for the open file `owner`, taken through `fh`. A held lock of the
    /// other kind is dropped before the new one is sought, as in the kernel.
    ///
    /// Fails with `EWOULDBLOCK` on a conflict with `LOCK_NB`, `EINVAL` for another `op`;
    /// waits otherwise (never `EDEADLK`); dropping the future gives up the wait cleanly.
    pub async fn flock(&self, ino: Inode, fh: FileHandle, owner: u64, op: i32) -> Result<()> {
        let exclusive = match op & !libc::LOCK_NB {
            libc::LOCK_UN => None,
            libc::LOCK_SH => Some(false),
            libc::LOCK_EX => Some(true),
            _ => return Err(Errno::EINVAL),
        };
        let id = self.with(|state, wakers| {
            let f = state.files.entry(ino.0).or_default();
            let mut changed = false;
            if let Some(i) = f.flocks.iter().position(|l| l.owner == owner) {
                if Some(f.flocks[i].exclusive) == exclusive {
                    return Ok(None);
                }
                f.flocks.remove(i);
                changed = true;
            }
            let r = match exclusive {
                None => Ok(None),
                Some(exclusive) => {
                    let new = Flock {
                        owner,
                        fh: fh.0,
                        exclusive,
                    };
                    let want = Want::Flock(new);
                    if f.blocker(&want, None).is_none() {
                        f.flocks.push(new);
                        Ok(None)
                    } else if op & libc::LOCK_NB != 0 {
                        Err(Errno::EWOULDBLOCK)
                    } else {
                        Ok(Some(state.enqueue(ino.0, want, None)))
                    }
                }
            };
            if changed {
                state.wake(ino.0, wakers);
            }
            state.tidy(ino.0);
            r
        })?;
        match id {
            Some(id) => self.wait(ino.0, id).await,
            None => Ok(()),
        }
    }

    /// For the `flush` handler (every `close(2)`): drops every POSIX lock `lock_owner` holds
    /// on `ino`, as closing any descriptor of a file does.
    pub fn flush(&self, ino: Inode, lock_owner: u64) {
        self.with(|state, wakers| {
            if let Some(f) = state.files.get_mut(&ino.0) {
                f.unlock_range(lock_owner, 0, u64::MAX);
                state.wake(ino.0, wakers);
            }
        });
    }

    /// For the `release` handler (the open file `fh` is gone): drops its `flock` lock and the
    /// POSIX locks of owners that locked through it and were not flushed since (OFD locks,
    /// whose owner is the open file itself; the kernel releases them with no request of its
    /// own).
    pub fn release(&self, ino: Inode, fh: FileHandle) {
        self.with(|state, wakers| {
            let Some(f) = state.files.get_mut(&ino.0) else {
                return;
            };
            f.flocks.retain(|l| l.fh != fh.0);
            for owner in f.via.remove(&fh.0).unwrap_or_default() {
                f.unlock_range(owner, 0, u64::MAX);
            }
            state.wake(ino.0, wakers);
        });
    }

    /// Whether no file has a lock or a waiter (every entry is dropped when its last lock
    /// and waiter go).
    pub fn is_empty(&self) -> bool {
        self.lock().files.is_empty()
    }

    /// Waits until waiter `id` of `ino` is granted (then takes the lock) or failed.
    async fn wait(&self, ino: u64, id: u64) -> Result<()> {
        let mut guard = Waiting {
            table: self,
            ino,
            id,
            done: false,
        };
        poll_fn(|cx| guard.poll(cx)).await
    }
}

/// A waiter's side of a wait; removes the waiter if dropped before the end.
struct Waiting<'a> {
    table: &'a LockTable,
    ino: u64,
    id: u64,
    done: bool,
}

impl Waiting<'_> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let (ino, id) = (self.ino, self.id);
        let out = self.table.with(|state, wakers| {
            let Some(f) = state.files.get_mut(&ino) else {
                return Poll::Ready(Err(Errno::ENOLCK));
            };
            let Some(i) = f.position(id) else {
                return Poll::Ready(Err(Errno::ENOLCK));
            };
            match &mut f.waiters[i].state {
                WaitState::Waiting(waker) => {
                    match waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => *waker = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
                WaitState::Failed(e) => {
                    let e = *e;
                    f.waiters.remove(i);
                    state.tidy(ino);
                    return Poll::Ready(Err(e));
                }
                WaitState::Granted => {}
            }
            let w = f.waiters.remove(i);
            match w.want {
                Want::Posix { lock, fh } => f.apply_posix(lock, fh),
                Want::Flock(lock) => f.flocks.push(lock),
            }
            state.wake(ino, wakers);
            Poll::Ready(Ok(()))
        });
        self.done = out.is_ready();
        out
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (ino, id) = (self.ino, self.id);
        self.table.with(|state, wakers| {
            let Some(f) = state.files.get_mut(&ino) else {
                return;
            };
            if let Some(i) = f.position(id) {
                // A reservation passes to the next waiters; a plain waiter changes nothing
                // for them, but may have been the link of a chain: re-examining is cheap.
                f.waiters.remove(i);
            }
            state.wake(ino, wakers);
            state.tidy(ino);
        });
    }
}

/// The POSIX lock `lock` asks for (`None` for `F_UNLCK`); `EINVAL` for a bad type or range.
fn posix(owner: u64, lock: &FileLock) -> Result<Option<Posix>> {
    if lock.start > lock.end {
        return Err(Errno::EINVAL);
    }
    let write = match lock.typ {
        libc::F_UNLCK => return Ok(None),
        libc::F_RDLCK => false,
        libc::F_WRLCK => true,
        _ => return Err(Errno::EINVAL),
    };
    Ok(Some(Posix {
        owner,
        pid: lock.pid,
        start: lock.start,
        end: lock.end,
        write,
    }))
}

#[cfg(test)]
#[path = "locks_tests.rs"]
mod tests;
