//! Kernel passthrough: backing files registered with the connection at open, released when the
//! last passthrough open of their inode is released.
//!
//! Two facts shape this. An open reply can only name a backing id, which the opener's thread
//! resolves after our reply is written, so an id must live until the kernel is done with the
//! open file (its `release`). And the kernel allows one backing file per inode at a time (a
//! second, different one fails the open with `EBUSY`), so concurrent opens of one inode share
//! the first open's id; the kernel reopens the backing file with each open's own flags.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::api::types::BackingFile;
use crate::sys;

#[derive(Debug, Default)]
struct State {
    /// Per inode: the backing id and how many passthrough opens use it.
    inodes: HashMap<u64, (u32, usize)>,
    /// Per open file (inode, handle): how many passthrough opens it stands for.
    opens: HashMap<(u64, u64), usize>,
}

/// Backing ids of the open files of one session.
#[derive(Debug)]
pub(crate) struct Backings {
    /// A duplicate of the session's `/dev/fuse` descriptor, for the ioctls.
    device: OwnedFd,
    state: Mutex<State>,
    warned: AtomicBool,
}

impl Backings {
    pub(crate) fn new(device: BorrowedFd<'_>) -> io::Result<Backings> {
        Ok(Backings {
            device: device.try_clone_to_owned()?,
            state: Mutex::new(State::default()),
            warned: AtomicBool::new(false),
        })
    }

    /// The backing id for an open of `nodeid` with handle `fh`: the inode's current one, or
    /// `file` newly registered. `None` (logged once) when the kernel refuses; the open then
    /// proceeds without passthrough.
    pub(crate) fn register(&self, nodeid: u64, fh: u64, file: &BackingFile) -> Option<u32> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let id = match state.inodes.get_mut(&nodeid) {
            Some((id, opens)) => {
                *opens += 1;
                *id
            }
            None => match sys::backing_open(self.device.as_fd(), file.as_fd()) {
                Ok(id) => {
                    state.inodes.insert(nodeid, (id, 1));
                    id
                }
                Err(e) => {
                    if !self.warned.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            error = %e,
                            nodeid,
                            "the kernel refused a passthrough backing file (ELOOP: stacked too \
                             deep; EPERM: needs CAP_SYS_ADMIN); serving this file through the handlers"
                        );
                    }
                    return None;
                }
            },
        };
        *state.opens.entry((nodeid, fh)).or_default() += 1;
        Some(id)
    }

    /// One open of (`nodeid`, `fh`) was released; the inode's backing id is closed with its
    /// last passthrough open.
    pub(crate) fn release(&self, nodeid: u64, fh: u64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(count) = state.opens.get_mut(&(nodeid, fh)) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            state.opens.remove(&(nodeid, fh));
        }
        let Some((id, opens)) = state.inodes.get_mut(&nodeid) else {
            return;
        };
        *opens -= 1;
        if *opens > 0 {
            return;
        }
        let id = *id;
        state.inodes.remove(&nodeid);
        drop(state);
        if let Err(e) = sys::backing_close(self.device.as_fd(), id) {
            tracing::warn!(error = %e, id, "closing a passthrough backing id failed");
        }
    }
}
