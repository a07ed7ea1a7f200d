//! The requests being handled right now: what [`SessionHandle::in_flight`] lists (pyfuse3's
//! `stacktrace` aid) and the [`Signal`] an INTERRUPT for each of them sets.
//!
//! [`SessionHandle::in_flight`]: crate::SessionHandle::in_flight

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::api::interruption::Signal;

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
    /// The kernel interrupted it (its caller got a signal) and the handler is still running.
    pub interrupted: bool,
}

#[derive(Debug)]
struct Entry {
    opcode: &'static str,
    nodeid: u64,
    started: Instant,
    signal: Arc<Signal>,
}

/// What the registry holds for a request id.
#[derive(Debug)]
enum Slot {
    /// A handler is working on it.
    Running(Entry),
    /// Its INTERRUPT came before the request reached `begin` (another thread read the request
    /// and has not registered it yet): `begin` delivers it. Kept for [`EARLY_KEPT`] at most,
    /// in case the request was already answered when its interrupt came.
    Early(Instant),
}

/// How long an interrupt for a request not (yet) in flight is kept.
const EARLY_KEPT: Duration = Duration::from_secs(10);

/// Requests by id. The ids are the kernel's own counter, never chosen by a peer, so a
/// multiplicative hash spreads them well and costs a fraction of SipHash, on the path of
/// every request.
type Shard = HashMap<u64, Slot, BuildHasherDefault<UniqueHasher>>;

/// Fibonacci hashing of a request id.
#[derive(Default)]
struct UniqueHasher(u64);

impl Hasher for UniqueHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; fold anything else in for completeness.
        for b in bytes {
            self.write_u64(u64::from(*b) ^ self.0.rotate_left(8));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Sharded so that workers registering requests rarely wait on each other.
const SHARDS: usize = 16;

/// The registry of one session.
#[derive(Debug)]
pub(crate) struct InFlight {
    shards: Vec<Mutex<Shard>>,
    /// The `intr` option: INTERRUPT cancels every handler at once.
    intr: bool,
}

/// What an INTERRUPT found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Interrupt {
    /// The request's signal is set (see `interrupt.rs` for what follows).
    Delivered,
    /// No such request yet: kept for the request's `begin` (the kernel only interrupts requests
    /// it has handed to the server, so the request is on its way or already answered).
    Early,
}

impl InFlight {
    pub(crate) fn new(intr: bool) -> InFlight {
        InFlight {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            intr,
        }
    }

    fn shard(&self, unique: u64) -> std::sync::MutexGuard<'_, Shard> {
        // Request ids are even (odd ones are interrupts), so drop the low bit.
        let i = (unique >> 1) as usize % SHARDS;
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a request and returns its interrupt signal. `waits` marks a request that
    /// waits by nature (a blocking lock), which an INTERRUPT cancels even without `intr`.
    pub(crate) fn begin(
        &self,
        unique: u64,
        opcode: &'static str,
        nodeid: u64,
        waits: bool,
        started: Instant,
    ) -> Arc<Signal> {
        let signal = Arc::new(Signal::new(self.intr || waits));
        let entry = Entry {
            opcode,
            nodeid,
            started,
            signal: signal.clone(),
        };
        if let Some(Slot::Early(_)) = self.shard(unique).insert(unique, Slot::Running(entry)) {
            signal.interrupt();
        }
        signal
    }

    /// The request was answered (or cancelled).
    pub(crate) fn end(&self, unique: u64) {
        self.shard(unique).remove(&unique);
    }

    /// The kernel asks to interrupt `target`.
    pub(crate) fn interrupt(&self, target: u64) -> Interrupt {
        let now = Instant::now();
        let mut shard = self.shard(target);
        match shard.get(&target) {
            Some(Slot::Running(e)) => {
                e.signal.interrupt();
                Interrupt::Delivered
            }
            Some(Slot::Early(_)) => Interrupt::Early,
            None => {
                // Interrupts of requests that were answered before them are forgotten here,
                // where they are rare, rather than on the path of every request.
                shard.retain(|_, slot| !matches!(slot, Slot::Early(at) if now.duration_since(*at) > EARLY_KEPT));
                shard.insert(target, Slot::Early(now));
                Interrupt::Early
            }
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
                    .filter_map(|(unique, slot)| match slot {
                        Slot::Running(e) => Some((unique, e)),
                        Slot::Early(_) => None,
                    })
                    .map(|(unique, e)| InFlightRequest {
                        unique: *unique,
                        opcode: e.opcode,
                        nodeid: e.nodeid,
                        age: now.duration_since(e.started),
                        interrupted: e.signal.is_interrupted(),
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
        f.begin(2, "READ", 5, false, Instant::now());
        f.begin(4, "LOOKUP", 1, false, Instant::now());
        let snap = f.snapshot();
        assert_eq!(snap.len(), 2);
        f.end(2);
        assert_eq!(
            f.snapshot().iter().map(|r| r.unique).collect::<Vec<_>>(),
            [4]
        );
    }

    #[tokio::test]
    async fn interrupt_reaches_a_known_request_and_waits_for_an_unknown_one() {
        let f = InFlight::new(false);
        let waiting_lock = f.begin(8, "SETLKW", 2, true, Instant::now());
        let read = f.begin(12, "READ", 2, false, Instant::now());
        assert_eq!(f.interrupt(8), Interrupt::Delivered);
        // A lock wait is cancelled at once, whoever the caller is.
        waiting_lock.cancelled(std::process::id()).await;
        assert_eq!(f.interrupt(12), Interrupt::Delivered);
        let kept = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            read.cancelled(std::process::id()),
        )
        .await;
        assert!(kept.is_err(), "a read of a live caller is not cancelled");
        // The interrupt of a request that has not begun yet is delivered when it begins.
        assert_eq!(f.interrupt(10), Interrupt::Early);
        let late = f.begin(10, "READ", 2, true, Instant::now());
        assert!(late.is_interrupted());
        f.end(8);
        assert_eq!(
            f.interrupt(8),
            Interrupt::Early,
            "answered requests are gone"
        );
        assert!(f.snapshot().iter().all(|r| r.unique != 8));
    }

    #[tokio::test]
    async fn intr_cancels_every_request_at_once() {
        let f = InFlight::new(true);
        let read = f.begin(2, "READ", 2, false, Instant::now());
        assert_eq!(f.interrupt(2), Interrupt::Delivered);
        read.cancelled(std::process::id()).await;
    }
}
