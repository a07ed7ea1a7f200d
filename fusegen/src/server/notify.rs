//! [`Notifier`]: messages the filesystem sends to the kernel on its own (`unique == 0`), to
//! drop or fill the kernel's caches when data changes behind its back.
//!
//! Usable from any task or thread while the session runs; after it ends every call returns
//! `ENOTCONN` instead of writing to a closed connection.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::IoSlice;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::oneshot;

use zerocopy::{Immutable, IntoBytes};

use crate::api::errno::{Errno, Result};
use crate::api::types::Inode;
use crate::proto::abi::{self, notify_code};

/// Longest name the kernel accepts in an entry notification.
const NAME_MAX: usize = 255;

/// The session's side of all notifiers: a duplicate of the device descriptor, given up when
/// the session ends so that outstanding notifiers do not keep the connection alive.
#[derive(Debug)]
pub(crate) struct NotifyChannel {
    device: RwLock<Option<OwnedFd>>,
    /// Retrieves waiting for the kernel's NOTIFY_REPLY, by the id we gave them.
    retrieves: Mutex<HashMap<u64, oneshot::Sender<Vec<u8>>>>,
    next_retrieve: AtomicU64,
}

impl NotifyChannel {
    pub(crate) fn new(device: OwnedFd) -> Arc<NotifyChannel> {
        Arc::new(NotifyChannel {
            device: RwLock::new(Some(device)),
            retrieves: Mutex::new(HashMap::new()),
            next_retrieve: AtomicU64::new(1),
        })
    }

    /// Called when the session ends: later notifications fail with `ENOTCONN`, and pending
    /// retrieves end.
    pub(crate) fn close(&self) {
        self.device
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        self.retrieves
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The kernel's answer to a retrieve (a NOTIFY_REPLY request, `unique` = our id).
    pub(crate) fn retrieved(&self, unique: u64, data: &[u8]) {
        let waiter = self
            .retrieves
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&unique);
        match waiter {
            Some(tx) => {
                let _ = tx.send(data.to_vec());
            }
            None => tracing::debug!(unique, "NOTIFY_REPLY for no pending retrieve"),
        }
    }
}

/// Sends cache notifications to the kernel (pyfuse3's `invalidate_inode`,
/// `invalidate_entry`, `notify_store`, and the kernel's delete, poll and prune messages).
///
/// Get one from [`Session::notifier`](crate::Session::notifier); it is cheap to clone.
/// A notification about something the kernel has not cached fails with `ENOENT`, which is
/// harmless. Do not send an invalidation for an inode from inside a handler that is serving a
/// request on that same inode: the kernel may wait for that request to finish first.
#[derive(Debug, Clone)]
pub struct Notifier {
    channel: Arc<NotifyChannel>,
}

impl Notifier {
    pub(crate) fn new(channel: Arc<NotifyChannel>) -> Notifier {
        Notifier { channel }
    }

    fn send(&self, code: i32, parts: &[&[u8]]) -> Result<()> {
        let device = self
            .channel
            .device
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let Some(device) = device.as_ref() else {
            return Err(Errno::ENOTCONN);
        };
        let len: usize =
            size_of::<abi::fuse_out_header>() + parts.iter().map(|p| p.len()).sum::<usize>();
        let header = abi::fuse_out_header {
            len: u32::try_from(len).map_err(|_| Errno::EINVAL)?,
            error: code,
            unique: 0,
        };
        let mut iov = Vec::with_capacity(parts.len() + 1);
        iov.push(IoSlice::new(header.as_bytes()));
        iov.extend(
            parts
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| IoSlice::new(p)),
        );
        loop {
            match nix::sys::uio::writev(device, &iov) {
                Ok(_) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => continue,
                // The connection is gone (unmounted or aborted).
                Err(nix::errno::Errno::ENODEV) => return Err(Errno::ENOTCONN),
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn send_struct<T: IntoBytes + Immutable>(
        &self,
        code: i32,
        value: &T,
        tail: &[&[u8]],
    ) -> Result<()> {
        let mut parts: Vec<&[u8]> = vec![value.as_bytes()];
        parts.extend_from_slice(tail);
        self.send(code, &parts)
    }

    /// Drops the kernel's cached attributes of `ino` and, unless `attr_only`, its cached data.
    pub fn invalidate_inode(&self, ino: Inode, attr_only: bool) -> Result<()> {
        // A negative offset means "attributes only"; length 0 means "to the end".
        let off = if attr_only { -1 } else { 0 };
        self.invalidate_range(ino, off, 0)
    }

    /// Drops cached data of `ino` from `offset`, `len` bytes (0 = to the end of the file), and
    /// its attributes. A negative `offset` drops only the attributes.
    pub fn invalidate_range(&self, ino: Inode, offset: i64, len: i64) -> Result<()> {
        let out = abi::fuse_notify_inval_inode_out {
            ino: ino.0,
            off: offset,
            len,
        };
        self.send_struct(notify_code::FUSE_NOTIFY_INVAL_INODE, &out, &[])
    }

    /// Drops the kernel's cached entry `name` in `parent` (and the negative entry, if cached).
    pub fn invalidate_entry(&self, parent: Inode, name: &OsStr) -> Result<()> {
        self.entry(parent, name, 0)
    }

    /// Marks the cached entry `name` in `parent` as expired without dropping it, so open files
    /// and current directories below it keep working (`FUSE_EXPIRE_ONLY`, Linux 6.2+).
    pub fn expire_entry(&self, parent: Inode, name: &OsStr) -> Result<()> {
        self.entry(parent, name, abi::FUSE_EXPIRE_ONLY)
    }

    fn entry(&self, parent: Inode, name: &OsStr, flags: u32) -> Result<()> {
        let name = checked_name(name)?;
        let out = abi::fuse_notify_inval_entry_out {
            parent: parent.0,
            namelen: name.len() as u32,
            flags,
        };
        self.send_struct(notify_code::FUSE_NOTIFY_INVAL_ENTRY, &out, &[name, b"\0"])
    }

    /// Tells the kernel that `name` in `parent`, which was `child`, has been deleted: like
    /// [`invalidate_entry`](Self::invalidate_entry), and also drops `child` from dentries and
    /// open-file caches (pyfuse3's `invalidate_entry(..., deleted=child)`).
    pub fn delete(&self, parent: Inode, child: Inode, name: &OsStr) -> Result<()> {
        let name = checked_name(name)?;
        let out = abi::fuse_notify_delete_out {
            parent: parent.0,
            child: child.0,
            namelen: name.len() as u32,
            padding: 0,
        };
        self.send_struct(notify_code::FUSE_NOTIFY_DELETE, &out, &[name, b"\0"])
    }

    /// Pushes `data` into the kernel's page cache of `ino` at `offset` (pyfuse3's
    /// `notify_store`); the file grows if the data ends past its cached size.
    pub fn store(&self, ino: Inode, offset: u64, data: &[u8]) -> Result<()> {
        let size = u32::try_from(data.len()).map_err(|_| Errno::EFBIG)?;
        let out = abi::fuse_notify_store_out {
            nodeid: ino.0,
            offset,
            size,
            padding: 0,
        };
        self.send_struct(notify_code::FUSE_NOTIFY_STORE, &out, &[data])
    }

    /// Reads back up to `size` bytes the kernel has cached for `ino` at `offset` (the kernel's
    /// `notify_retrieve`): what is in the page cache, which may differ from what the
    /// filesystem holds. Returns fewer bytes where the cache has none.
    ///
    /// The kernel answers through the session's workers, so `main` must be running; a retrieve
    /// for an inode the kernel does not know fails with `ENOENT`.
    pub async fn retrieve(&self, ino: Inode, offset: u64, size: u32) -> Result<Vec<u8>> {
        let id = self.channel.next_retrieve.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.channel
            .retrieves
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, tx);
        let out = abi::fuse_notify_retrieve_out {
            notify_unique: id,
            nodeid: ino.0,
            offset,
            size,
            padding: 0,
        };
        if let Err(e) = self.send_struct(notify_code::FUSE_NOTIFY_RETRIEVE, &out, &[]) {
            self.channel
                .retrieves
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            return Err(e);
        }
        // Dropped without an answer only when the session ends.
        rx.await.map_err(|_| Errno::ENOTCONN)
    }

    /// Wakes up a poller: `kh` is the handle the `poll` handler received.
    pub fn poll_wakeup(&self, kh: u64) -> Result<()> {
        let out = abi::fuse_notify_poll_wakeup_out { kh };
        self.send_struct(notify_code::FUSE_NOTIFY_POLL, &out, &[])
    }

    /// Asks the kernel to forget `inodes` it has cached but does not use (protocol 7.45).
    pub fn prune(&self, inodes: &[Inode]) -> Result<()> {
        let count = u32::try_from(inodes.len()).map_err(|_| Errno::EINVAL)?;
        let ids: Vec<u64> = inodes.iter().map(|i| i.0).collect();
        let out = abi::fuse_notify_prune_out {
            count,
            padding: 0,
            spare: 0,
        };
        self.send_struct(notify_code::FUSE_NOTIFY_PRUNE, &out, &[ids.as_bytes()])
    }

    /// Invalidates every cached entry at once by starting a new epoch (protocol 7.44).
    pub fn increment_epoch(&self) -> Result<()> {
        self.send(notify_code::FUSE_NOTIFY_INC_EPOCH, &[])
    }
}

fn checked_name(name: &OsStr) -> Result<&[u8]> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > NAME_MAX || bytes.contains(&0) || bytes.contains(&b'/') {
        return Err(Errno::EINVAL);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_sending() {
        assert_eq!(checked_name(OsStr::new("")), Err(Errno::EINVAL));
        assert_eq!(checked_name(OsStr::new("a/b")), Err(Errno::EINVAL));
        assert_eq!(
            checked_name(OsStr::new(&"x".repeat(256))),
            Err(Errno::EINVAL)
        );
        assert_eq!(checked_name(OsStr::new("ok")), Ok(&b"ok"[..]));
    }
}
