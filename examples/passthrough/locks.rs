//! POSIX record locks and `flock`, enforced by the source filesystem itself.
//!
//! POSIX locks belong to a lock owner (a process, roughly), not to a descriptor: one process
//! may lock through two opens of a file without conflicting with itself, and a forked child
//! sharing a descriptor is a different owner. So every (inode, owner) pair gets its own open
//! file description in the source, and its locks are open-file-description locks
//! (`F_OFD_SETLK`) on it: the source then arbitrates between owners exactly as it does between
//! processes, including against processes using the source directly. The kernel releases an
//! owner's locks on close through `flush`, which drops that description; locks the caller took
//! with `F_OFD_*` are owned by its open file and go at `release` (see `OpenFile::lock_owners`).
//!
//! `flock` locks belong to an open file description, which is what a FUSE file handle is
//! here, so `flock(2)` goes straight to the handle's descriptor.
//!
//! Blocking requests (`F_SETLKW`, `flock` without `LOCK_NB`) poll with a growing sleep instead
//! of holding a thread in a blocking call, so shutdown never waits for a lock. There is no
//! deadlock detection (`EDEADLK`): open-file-description locks have none.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use fusegen::{Errno, FileLock, Inode};
use nix::fcntl::{FcntlArg, OFlag};

use crate::inodes::InodeData;
use crate::sys::{blocking, reopen};

/// The kernel's "to end of file" (`OFFSET_MAX`).
const OFFSET_MAX: u64 = i64::MAX as u64;

#[derive(Debug)]
struct Owner {
    file: File,
    /// Process that last locked through this owner, reported to `F_GETLK` callers.
    pid: AtomicU32,
}

/// Lock owners' descriptions, per inode.
#[derive(Debug, Default)]
pub struct Locks {
    owners: Mutex<HashMap<(u64, u64), Arc<Owner>>>,
}

fn to_flock(lock: &FileLock, typ: i32) -> libc::flock {
    let len = if lock.end >= OFFSET_MAX {
        0 // to end of file
    } else {
        lock.end.saturating_sub(lock.start) + 1
    };
    libc::flock {
        l_type: typ as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: i64::try_from(lock.start).unwrap_or(i64::MAX),
        l_len: i64::try_from(len).unwrap_or(0),
        l_pid: 0,
    }
}

fn from_flock(fl: &libc::flock, pid: u32) -> FileLock {
    let start = u64::try_from(fl.l_start).unwrap_or(0);
    let end = match fl.l_len {
        0 => OFFSET_MAX,
        len => start.saturating_add(len.unsigned_abs()) - 1,
    };
    FileLock {
        start,
        end,
        typ: i32::from(fl.l_type),
        pid,
    }
}

/// Sleeps between attempts of a blocking lock request: from 1 ms up to 50 ms.
async fn backoff(attempt: &mut u32) {
    *attempt = (*attempt + 1).min(50);
    tokio::time::sleep(Duration::from_millis(u64::from(*attempt))).await;
}

fn would_block(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EACCES))
}

impl Locks {
    fn lock(&self) -> MutexGuard<'_, HashMap<(u64, u64), Arc<Owner>>> {
        self.owners.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The description of (`ino`, `owner`), opened on first use: read-write when possible, so
    /// it can hold both read and write locks.
    fn owner(&self, ino: Inode, inode: &Arc<InodeData>, owner: u64) -> io::Result<Arc<Owner>> {
        if let Some(o) = self.lock().get(&(ino.0, owner)) {
            return Ok(o.clone());
        }
        let fd = reopen(inode.fd(), OFlag::O_RDWR)
            .or_else(|_| reopen(inode.fd(), OFlag::O_RDONLY))
            .or_else(|_| reopen(inode.fd(), OFlag::O_WRONLY))?;
        let new = Arc::new(Owner {
            file: File::from(fd),
            pid: AtomicU32::new(0),
        });
        Ok(self.lock().entry((ino.0, owner)).or_insert(new).clone())
    }

    /// `F_SETLK`/`F_SETLKW` for `owner`.
    pub async fn setlk(
        &self,
        ino: Inode,
        inode: Arc<InodeData>,
        owner: u64,
        lock: FileLock,
        sleep: bool,
    ) -> Result<(), Errno> {
        if lock.typ == libc::F_UNLCK {
            let Some(o) = self.lock().get(&(ino.0, owner)).cloned() else {
                return Ok(());
            };
            let fl = to_flock(&lock, libc::F_UNLCK);
            return blocking(move || nix::fcntl::fcntl(&o.file, FcntlArg::F_OFD_SETLK(&fl)))
                .await
                .map(drop)
                .map_err(Errno::from);
        }
        let o = self.owner(ino, &inode, owner)?;
        o.pid.store(lock.pid, Ordering::Relaxed);
        let fl = to_flock(&lock, lock.typ);
        let mut attempt = 0;
        loop {
            let o2 = o.clone();
            let r = blocking(move || {
                nix::fcntl::fcntl(&o2.file, FcntlArg::F_OFD_SETLK(&fl)).map_err(io::Error::from)
            })
            .await;
            match r {
                Ok(_) => return Ok(()),
                Err(e) if sleep && would_block(&e) => backoff(&mut attempt).await,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `F_GETLK` for `owner`: the first lock that would conflict, or `F_UNLCK`.
    pub async fn getlk(
        &self,
        ino: Inode,
        inode: Arc<InodeData>,
        owner: u64,
        lock: FileLock,
    ) -> Result<FileLock, Errno> {
        let o = self.owner(ino, &inode, owner)?;
        let others: Vec<Arc<Owner>> = self
            .lock()
            .iter()
            .filter(|((i, w), _)| *i == ino.0 && *w != owner)
            .map(|(_, o)| o.clone())
            .collect();
        let probe = to_flock(&lock, lock.typ);
        blocking(move || {
            let test = |file: &File| -> nix::Result<libc::flock> {
                let mut fl = probe;
                nix::fcntl::fcntl(file, FcntlArg::F_OFD_GETLK(&mut fl))?;
                Ok(fl)
            };
            let found = test(&o.file)?;
            if i32::from(found.l_type) == libc::F_UNLCK {
                return Ok(FileLock {
                    typ: libc::F_UNLCK,
                    ..lock
                });
            }
            // The holder is the owner that sees no conflict from its own description.
            let pid = others
                .iter()
                .find(|w| test(&w.file).is_ok_and(|fl| i32::from(fl.l_type) == libc::F_UNLCK))
                .map_or(0, |w| w.pid.load(Ordering::Relaxed));
            Ok(from_flock(&found, pid))
        })
        .await
        .map_err(|e: nix::Error| e.into())
    }

    /// The kernel's `flush` on close: POSIX says closing any descriptor of a file releases
    /// all the process's locks on it.
    pub async fn release_owner(&self, ino: Inode, owner: u64) {
        let Some(o) = self.lock().remove(&(ino.0, owner)) else {
            return;
        };
        let all = to_flock(
            &FileLock {
                start: 0,
                end: OFFSET_MAX,
                typ: libc::F_UNLCK,
                pid: 0,
            },
            libc::F_UNLCK,
        );
        // Unlock explicitly: a waiting `setlk` of this owner may still hold the description.
        blocking(move || {
            let _ = nix::fcntl::fcntl(&o.file, FcntlArg::F_OFD_SETLK(&all));
        })
        .await;
    }

    /// Drops every owner of `ino` (its last open is gone).
    pub fn forget_inode(&self, ino: Inode) {
        self.lock().retain(|(i, _), _| *i != ino.0);
    }

    /// Number of lock owners with a description open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

/// `flock(2)` on an open file's description; `op` is `LOCK_SH`, `LOCK_EX` or `LOCK_UN`, with
/// `LOCK_NB` when the caller does not want to wait.
pub async fn flock(file: Arc<impl AsFd + Send + Sync + 'static>, op: i32) -> Result<(), Errno> {
    use rustix::fs::FlockOperation as Op;
    let nonblocking = op & libc::LOCK_NB != 0;
    let operation = match op & !libc::LOCK_NB {
        libc::LOCK_SH => Op::NonBlockingLockShared,
        libc::LOCK_EX => Op::NonBlockingLockExclusive,
        libc::LOCK_UN => Op::Unlock,
        _ => return Err(Errno::EINVAL),
    };
    let mut attempt = 0;
    loop {
        let f = file.clone();
        match blocking(move || rustix::fs::flock(f.as_fd(), operation)).await {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK && !nonblocking => {
                backoff(&mut attempt).await;
            }
            Err(e) => return Err(io::Error::from(e).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_ranges_convert_both_ways() {
        let whole = FileLock {
            start: 0,
            end: OFFSET_MAX,
            typ: libc::F_WRLCK,
            pid: 7,
        };
        let fl = to_flock(&whole, whole.typ);
        assert_eq!((fl.l_start, fl.l_len), (0, 0));
        assert_eq!(from_flock(&fl, 7), whole);
        let part = FileLock {
            start: 10,
            end: 19,
            ..whole
        };
        let fl = to_flock(&part, part.typ);
        assert_eq!((fl.l_start, fl.l_len), (10, 10));
        assert_eq!(from_flock(&fl, 7), part);
    }
}
