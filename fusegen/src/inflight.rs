//! The requests being handled right now: what [`SessionHandle::in_flight`] lists (pyfuse3's
//! `stacktrace` aid) and what an INTERRUPT cancels.
//!
//! [`SessionHandle::in_flight`]: crate::SessionHandle::in_flight

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// One request a handler is working on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlightRequest {
    /// The kernel's request id.
    pub unique: u64,
    /// The operation, by its kernel name (`LOOKUP`, `READ`, …).
    pub opcode: &'static str,
    /// The inode the request is about.
    pub nodeid: u64,
    /// How long it has been running.
    pub age: Duration,
}

#[derive(Debug)]
struct Entry {
    opcode: &'static str,
    nodeid: u64,
    started: Instant,
    cancel: Option<oneshot::Sender<()>>,
}

/// Sharded so that workers registering requests rarely wait on each other.
const SHARDS: usize = 16;

/// The registry of one session.
#[derive(Debug)]
pub(crate) struct InFlight {
    shards: Vec<Mutex<HashMap<u64, Entry>>>,
    /// The `intr` option: INTERRUPT cancels handlers.
    cancellable: bool,
}

/// What an INTERRUPT did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Interrupt {
    /// The handler's future will be dropped.
    Cancelled,
    /// No such request (yet): the kernel should resend the interrupt later.
    Unknown,
    /// Interrupts are not acted on (no `intr` option).
    Ignored,
}

impl InFlight {
    pub(crate) fn new(cancellable: bool) -> InFlight {
        InFlight {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            cancellable,
        }
    }

    fn shard(&self, unique: u64) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        // Request ids are even (odd ones are interrupts), so drop the low bit.
        let i = (unique >> 1) as usize % SHARDS;
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a request; with `intr`, returns the receiver that fires on INTERRUPT.
    pub(crate) fn begin(
        &self,
        unique: u64,
        opcode: &'static str,
        nodeid: u64,
    ) -> Option<oneshot::Receiver<()>> {
        let (cancel, cancelled) = if self.cancellable {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        self.shard(unique).insert(
            unique,
            Entry {
                opcode,
                nodeid,
                started: Instant::now(),
                cancel,
            },
        );
        cancelled
    }

    /// The request was answered (or cancelled).
    pub(crate) fn end(&self, unique: u64) {
        self.shard(unique).remove(&unique);
    }

    /// The kernel asks to interrupt `target`.
    pub(crate) fn interrupt(&self, target: u64) -> Interrupt {
        if !self.cancellable {
            return Interrupt::Ignored;
        }
        let cancel = self
            .shard(target)
            .get_mut(&target)
            .and_then(|e| e.cancel.take());
        match cancel {
            Some(cancel) => {
                let _ = cancel.send(());
                Interrupt::Cancelled
            }
            None => Interrupt::Unknown,
        }
    }

    /// Every request in flight, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<InFlightRequest> {
        let now = Instant::now();
        let mut all: Vec<InFlightRequest> = self
            .shards
            .iter()
            .flat_map(|shard| {
                let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
                shard
                    .iter()
                    .map(|(unique, e)| InFlightRequest {
                        unique: *unique,
                        opcode: e.opcode,
                        nodeid: e.nodeid,
                        age: now.duration_since(e.started),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse(r.age));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_end_and_snapshot() {
        let f = InFlight::new(false);
        assert!(f.begin(2, "READ", 5).is_none());
        f.begin(4, "LOOKUP", 1);
        let snap = f.snapshot();
        assert_eq!(snap.len(), 2);
        f.end(2);
        assert_eq!(
            f.snapshot().iter().map(|r| r.unique).collect::<Vec<_>>(),
            [4]
        );
        assert_eq!(f.interrupt(4), Interrupt::Ignored);
    }

    #[test]
    fn interrupt_cancels_once_and_unknown_asks_for_resend() {
        let f = InFlight::new(true);
        let mut rx = f.begin(8, "READ", 2).expect("cancellable");
        assert_eq!(f.interrupt(8), Interrupt::Cancelled);
        assert!(rx.try_recv().is_ok());
        assert_eq!(
            f.interrupt(8),
            Interrupt::Unknown,
            "a second interrupt finds nothing to cancel"
        );
        assert_eq!(f.interrupt(10), Interrupt::Unknown);
    }
}
