//! POSIX byte-range locks (`fcntl`) and BSD locks (`flock`) of one file.
//!
//! The table is a mutex-protected list per file; a blocked `F_SETLKW` or `flock` waits on a
//! `Notify` without holding the mutex, and every change wakes the waiters to try again.
//! POSIX locks belong to a lock owner (a process's file table, or the open file for OFD
//! locks) and are dropped when the owner closes the file (`flush`); `flock` locks belong to
//! the open file and are dropped at its `release`.

use std::pin::pin;

use fusegen::{Errno, FileLock, Result};
use parking_lot::Mutex;
use tokio::sync::Notify;

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
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start <= end && start <= self.end
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flock {
    fh: u64,
    exclusive: bool,
}

#[derive(Debug, Default)]
struct Locks {
    posix: Vec<Posix>,
    flocks: Vec<Flock>,
}

impl Locks {
    fn posix_conflict(&self, owner: u64, start: u64, end: u64, write: bool) -> Option<&Posix> {
        self.posix
            .iter()
            .find(|l| l.owner != owner && l.overlaps(start, end) && (write || l.write))
    }

    /// Removes `[start, end]` from `owner`'s locks, splitting those that straddle it.
    fn unlock_range(&mut self, owner: u64, start: u64, end: u64) {
        let mut kept = Vec::with_capacity(self.posix.len() + 1);
        for l in self.posix.drain(..) {
            if l.owner != owner || !l.overlaps(start, end) {
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
    }

    /// Sets a lock for `owner`, replacing its own locks in the range and merging with its
    /// adjacent locks of the same type.
    fn lock(&mut self, new: Posix) {
        self.unlock_range(new.owner, new.start, new.end);
        let mut merged = new;
        self.posix.retain(|l| {
            let touches =
                l.start <= merged.end.saturating_add(1) && merged.start <= l.end.saturating_add(1);
            if l.owner == merged.owner && l.write == merged.write && touches {
                merged.start = merged.start.min(l.start);
                merged.end = merged.end.max(l.end);
                false
            } else {
                true
            }
        });
        self.posix.push(merged);
    }
}

/// The locks of one file.
#[derive(Debug, Default)]
pub struct LockTable {
    locks: Mutex<Locks>,
    changed: Notify,
}

impl LockTable {
    /// `F_GETLK`: the first lock of another owner that conflicts with `lock`, or `lock`
    /// itself with type `F_UNLCK`.
    pub fn test(&self, owner: u64, lock: FileLock) -> Result<FileLock> {
        let write = match lock.typ {
            libc::F_RDLCK => false,
            libc::F_WRLCK => true,
            _ => return Err(Errno::EINVAL),
        };
        let locks = self.locks.lock();
        Ok(
            match locks.posix_conflict(owner, lock.start, lock.end, write) {
                Some(l) => FileLock {
                    start: l.start,
                    end: l.end,
                    typ: if l.write {
                        libc::F_WRLCK
                    } else {
                        libc::F_RDLCK
                    },
                    pid: l.pid,
                },
                None => FileLock {
                    typ: libc::F_UNLCK,
                    ..lock
                },
            },
        )
    }

    /// `F_SETLK` / `F_SETLKW` (`sleep`).
    pub async fn set(&self, owner: u64, lock: FileLock, sleep: bool) -> Result<()> {
        if lock.start > lock.end {
            return Err(Errno::EINVAL);
        }
        let write = match lock.typ {
            libc::F_UNLCK => {
                self.locks.lock().unlock_range(owner, lock.start, lock.end);
                self.changed.notify_waiters();
                return Ok(());
            }
            libc::F_RDLCK => false,
            libc::F_WRLCK => true,
            _ => return Err(Errno::EINVAL),
        };
        loop {
            let mut notified = pin!(self.changed.notified());
            notified.as_mut().enable();
            {
                let mut locks = self.locks.lock();
                if locks
                    .posix_conflict(owner, lock.start, lock.end, write)
                    .is_none()
                {
                    locks.lock(Posix {
                        owner,
                        pid: lock.pid,
                        start: lock.start,
                        end: lock.end,
                        write,
                    });
                    drop(locks);
                    // A downgrade may unblock readers.
                    self.changed.notify_waiters();
                    return Ok(());
                }
                if !sleep {
                    return Err(Errno::EAGAIN);
                }
            }
            notified.await;
        }
    }

    /// `flock(2)` for the open file `fh`: `LOCK_SH`, `LOCK_EX` or `LOCK_UN`, maybe `LOCK_NB`.
    /// As on Linux, converting a lock releases the old one first.
    pub async fn flock(&self, fh: u64, op: i32) -> Result<()> {
        let exclusive = match op & !libc::LOCK_NB {
            libc::LOCK_UN => {
                self.release_flock(fh);
                return Ok(());
            }
            libc::LOCK_SH => false,
            libc::LOCK_EX => true,
            _ => return Err(Errno::EINVAL),
        };
        let mut converted = false;
        loop {
            let mut notified = pin!(self.changed.notified());
            notified.as_mut().enable();
            {
                let mut locks = self.locks.lock();
                if let Some(own) = locks.flocks.iter().position(|l| l.fh == fh) {
                    if locks.flocks[own].exclusive == exclusive {
                        return Ok(());
                    }
                    locks.flocks.swap_remove(own);
                    converted = true;
                }
                let conflict = locks.flocks.iter().any(|l| exclusive || l.exclusive);
                if !conflict {
                    locks.flocks.push(Flock { fh, exclusive });
                    drop(locks);
                    if converted {
                        self.changed.notify_waiters();
                    }
                    return Ok(());
                }
                if op & libc::LOCK_NB != 0 {
                    drop(locks);
                    if converted {
                        self.changed.notify_waiters();
                    }
                    return Err(Errno::EWOULDBLOCK);
                }
            }
            if converted {
                self.changed.notify_waiters();
            }
            notified.await;
        }
    }

    /// Drops the `flock` lock of the open file `fh` (its last close).
    pub fn release_flock(&self, fh: u64) {
        let mut locks = self.locks.lock();
        let before = locks.flocks.len();
        locks.flocks.retain(|l| l.fh != fh);
        if locks.flocks.len() != before {
            drop(locks);
            self.changed.notify_waiters();
        }
    }

    /// Drops every POSIX lock of `owner` (it closed a descriptor of the file).
    pub fn release_owner(&self, owner: u64) {
        let mut locks = self.locks.lock();
        let before = locks.posix.len();
        locks.posix.retain(|l| l.owner != owner);
        if locks.posix.len() != before {
            drop(locks);
            self.changed.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lk(start: u64, end: u64, typ: i32) -> FileLock {
        FileLock {
            start,
            end,
            typ,
            pid: 1,
        }
    }

    #[tokio::test]
    async fn posix_locks_split_merge_and_conflict() {
        let t = LockTable::default();
        t.set(1, lk(0, 99, libc::F_WRLCK), false).await.unwrap();
        t.set(1, lk(40, 59, libc::F_UNLCK), false).await.unwrap();
        assert_eq!(
            t.test(2, lk(40, 59, libc::F_WRLCK)).unwrap().typ,
            libc::F_UNLCK
        );
        let c = t.test(2, lk(50, 70, libc::F_RDLCK)).unwrap();
        assert_eq!((c.start, c.end, c.typ), (60, 99, libc::F_WRLCK));
        assert_eq!(
            t.set(2, lk(0, 0, libc::F_RDLCK), false).await,
            Err(Errno::EAGAIN)
        );
        t.set(1, lk(40, 59, libc::F_WRLCK), false).await.unwrap();
        assert_eq!(t.locks.lock().posix.len(), 1, "adjacent locks merge");
        t.release_owner(1);
        t.set(2, lk(0, u64::MAX, libc::F_WRLCK), false)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn blocked_lock_is_granted_on_unlock() {
        let t = std::sync::Arc::new(LockTable::default());
        t.set(1, lk(0, 10, libc::F_WRLCK), false).await.unwrap();
        let t2 = t.clone();
        let waiter = tokio::spawn(async move { t2.set(2, lk(5, 5, libc::F_RDLCK), true).await });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        t.set(1, lk(0, 10, libc::F_UNLCK), false).await.unwrap();
        waiter.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn flock_shared_exclusive_and_release() {
        let t = LockTable::default();
        t.flock(1, libc::LOCK_SH).await.unwrap();
        t.flock(2, libc::LOCK_SH | libc::LOCK_NB).await.unwrap();
        assert_eq!(
            t.flock(3, libc::LOCK_EX | libc::LOCK_NB).await,
            Err(Errno::EWOULDBLOCK)
        );
        t.release_flock(1);
        t.flock(2, libc::LOCK_UN).await.unwrap();
        t.flock(3, libc::LOCK_EX | libc::LOCK_NB).await.unwrap();
    }
}
