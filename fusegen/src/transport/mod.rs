//! Which kernel channel carries requests: the classic `/dev/fuse` read/write loop (`dev.rs`,
//! the worker pool in `pool.rs`) or FUSE-over-io_uring (`uring/`). The choice (`transport=`
//! option, `FUSEGEN_TRANSPORT`) and the per-transport request counters that
//! [`SessionHandle`](crate::SessionHandle) exposes.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::api::error::Error;
use crate::proto::abi::opcode;

pub(crate) mod dev;
pub(crate) mod pool;
pub(crate) mod uring;

/// The `transport=` option: how requests travel between the kernel and the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// io_uring when the kernel offers it (Linux 6.14+ with the `fuse` module parameter
    /// `enable_uring=Y`), `/dev/fuse` otherwise. The log says which one runs.
    #[default]
    Auto,
    /// FUSE-over-io_uring, or `main` fails with the reason it is unavailable.
    IoUring,
    /// Only `/dev/fuse` reads and writes.
    Dev,
}

impl Transport {
    /// Parses `auto`, `io_uring` (also `uring`) or `dev`.
    pub fn parse(text: &str) -> Option<Transport> {
        match text {
            "auto" => Some(Transport::Auto),
            "io_uring" | "uring" => Some(Transport::IoUring),
            "dev" => Some(Transport::Dev),
            _ => None,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Auto => "auto",
            Transport::IoUring => "io_uring",
            Transport::Dev => "dev",
        })
    }
}

/// The environment variable that chooses the transport of mounts whose options leave it unset,
/// so a whole test suite can run on either transport.
pub const TRANSPORT_ENV: &str = "FUSEGEN_TRANSPORT";

/// The transport a session runs with: the explicit option, else `FUSEGEN_TRANSPORT`, else auto.
pub(crate) fn resolve(option: Option<Transport>) -> Result<Transport, Error> {
    if let Some(t) = option {
        return Ok(t);
    }
    match std::env::var(TRANSPORT_ENV) {
        Ok(v) if v.trim().is_empty() => Ok(Transport::Auto),
        Ok(v) => Transport::parse(v.trim()).ok_or_else(|| {
            Error::Transport(format!(
                "{TRANSPORT_ENV}={v:?} is not a transport: expected auto, io_uring or dev"
            ))
        }),
        Err(_) => Ok(Transport::Auto),
    }
}

/// The transport serving a running session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveTransport {
    /// Requests are read from `/dev/fuse`.
    Dev,
    /// Requests arrive on io_uring entries: one queue per possible CPU, `depth` entries each.
    /// FORGET and INTERRUPT still come through `/dev/fuse`.
    IoUring {
        /// Number of queues (the kernel's possible CPUs).
        queues: usize,
        /// Entries per queue.
        depth: usize,
    },
}

/// How many requests each transport delivered so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestCounts {
    /// Requests served from io_uring entries.
    pub uring: u64,
    /// Requests read from `/dev/fuse`, other than INIT, FORGET, BATCH_FORGET and INTERRUPT.
    pub dev: u64,
    /// FORGET, BATCH_FORGET and INTERRUPT read from `/dev/fuse` (they never use the ring).
    pub dev_forget_interrupt: u64,
}

/// Shared between the session, its handles and the request loops.
#[derive(Debug, Default)]
pub(crate) struct TransportStats {
    active: OnceLock<ActiveTransport>,
    uring: AtomicU64,
    dev: AtomicU64,
    dev_forget_interrupt: AtomicU64,
}

impl TransportStats {
    pub(crate) fn set_active(&self, t: ActiveTransport) {
        let _ = self.active.set(t);
    }

    pub(crate) fn active(&self) -> Option<ActiveTransport> {
        self.active.get().copied()
    }

    pub(crate) fn count_uring(&self) {
        self.uring.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one message read from `/dev/fuse`, by its opcode.
    pub(crate) fn count_dev(&self, bytes: &[u8]) {
        // The parser owns the header layout; a header it cannot read counts as ordinary.
        let op = crate::proto::request::parse_header(bytes)
            .ok()
            .map(|h| h.opcode);
        let counter = match op {
            Some(opcode::FUSE_FORGET | opcode::FUSE_BATCH_FORGET | opcode::FUSE_INTERRUPT) => {
                &self.dev_forget_interrupt
            }
            _ => &self.dev,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn counts(&self) -> RequestCounts {
        RequestCounts {
            uring: self.uring.load(Ordering::Relaxed),
            dev: self.dev.load(Ordering::Relaxed),
            dev_forget_interrupt: self.dev_forget_interrupt.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for t in [Transport::Auto, Transport::IoUring, Transport::Dev] {
            assert_eq!(Transport::parse(&t.to_string()), Some(t));
        }
        assert_eq!(Transport::parse("uring"), Some(Transport::IoUring));
        assert_eq!(Transport::parse("ring"), None);
    }

    #[test]
    fn explicit_option_wins_over_the_environment() {
        assert_eq!(resolve(Some(Transport::Dev)).unwrap(), Transport::Dev);
    }

    #[test]
    fn dev_counter_sorts_by_opcode() {
        let stats = TransportStats::default();
        // A header as the kernel sends it: its length field matches the message.
        let mut msg = [0u8; 40];
        msg[0..4].copy_from_slice(&40u32.to_ne_bytes());
        msg[4..8].copy_from_slice(&opcode::FUSE_LOOKUP.to_ne_bytes());
        stats.count_dev(&msg);
        msg[4..8].copy_from_slice(&opcode::FUSE_FORGET.to_ne_bytes());
        stats.count_dev(&msg);
        stats.count_uring();
        assert_eq!(
            stats.counts(),
            RequestCounts {
                uring: 1,
                dev: 1,
                dev_forget_interrupt: 1
            }
        );
    }
}
