//! Kernel passthrough: backing files registered with the connection at open, released at the
//! matching release.
//!
//! An open reply can only name a backing id, which the opener's thread resolves after our
//! reply is written, so an id must live until the kernel is done with the open file: it is
//! closed at `release`, keyed by (inode, handle).

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::sys;
use crate::types::BackingFile;

/// Backing ids of the open files of one session.
#[derive(Debug)]
pub(crate) struct Backings {
    /// A duplicate of the session's `/dev/fuse` descriptor, for the ioctls.
    device: OwnedFd,
    open: Mutex<HashMap<(u64, u64), Vec<u32>>>,
    warned: AtomicBool,
}

impl Backings {
    pub(crate) fn new(device: std::os::fd::BorrowedFd<'_>) -> io::Result<Backings> {
        Ok(Backings {
            device: device.try_clone_to_owned()?,
            open: Mutex::new(HashMap::new()),
            warned: AtomicBool::new(false),
        })
    }

    /// Registers `file` for the open file (`nodeid`, `fh`). `None` (logged once) when the
    /// kernel refuses it; the open then proceeds without passthrough.
    pub(crate) fn register(&self, nodeid: u64, fh: u64, file: &BackingFile) -> Option<u32> {
        match sys::backing_open(self.device.as_fd(), file.as_fd()) {
            Ok(id) => {
                let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
                open.entry((nodeid, fh)).or_default().push(id);
                Some(id)
            }
            Err(e) => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %e,
                        nodeid,
                        "the kernel refused a passthrough backing file (ELOOP: stacked too deep; \
                         EPERM: needs CAP_SYS_ADMIN); serving this file through the handlers"
                    );
                }
                None
            }
        }
    }

    /// Releases the backing id of one open of (`nodeid`, `fh`), if it had one.
    pub(crate) fn release(&self, nodeid: u64, fh: u64) {
        let id = {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            let Some(ids) = open.get_mut(&(nodeid, fh)) else {
                return;
            };
            let id = ids.pop();
            if ids.is_empty() {
                open.remove(&(nodeid, fh));
            }
            id
        };
        if let Some(id) = id
            && let Err(e) = sys::backing_close(self.device.as_fd(), id)
        {
            tracing::warn!(error = %e, id, "closing a passthrough backing id failed");
        }
    }
}
