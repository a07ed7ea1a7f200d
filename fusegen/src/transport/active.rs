//! Which transport serves a session: the choice (`transport=` option, `FUSEGEN_TRANSPORT`),
//! the one that runs, and the per-transport request counters that
//! [`SessionHandle`](crate::SessionHandle) exposes.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::api::error::Error;
use crate::mount::options::{TRANSPORT_ENV, Transport};
use crate::proto::opcodes::always_on_dev;
use crate::proto::request::Header;

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

    /// Counts one message read from `/dev/fuse`, by the opcode of its header (read once, by
    /// the reader); a message without a readable header counts as ordinary.
    pub(crate) fn count_dev(&self, header: Option<&Header>) {
        let priority = header.is_some_and(|h| always_on_dev(h.opcode));
        let counter = if priority {
            &self.dev_forget_interrupt
        } else {
            &self.dev
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
    use crate::proto::abi::{self, opcode};

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
        let header = |opcode| {
            Header::from(&abi::fuse_in_header {
                len: 40,
                opcode,
                ..Default::default()
            })
        };
        stats.count_dev(Some(&header(opcode::FUSE_LOOKUP)));
        stats.count_dev(Some(&header(opcode::FUSE_FORGET)));
        stats.count_dev(None);
        stats.count_uring();
        assert_eq!(
            stats.counts(),
            RequestCounts {
                uring: 1,
                dev: 2,
                dev_forget_interrupt: 1
            }
        );
    }
}
