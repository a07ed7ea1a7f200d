//! The channels that carry requests between the kernel and the server: the classic
//! `/dev/fuse` device (`dev.rs`, served by the reader threads of `reader.rs`) and
//! FUSE-over-io_uring (`uring/`). Each holds the server ([`Runtime::server`]) and hands it
//! request bytes; none knows about dispatch. Which one runs, and the per-transport request
//! counters, are in `active.rs`; waking the transports' threads at the stop in `stop.rs`; READ
//! data still in a file (splice, or a read into the io_uring buffer) in `file_reply.rs`; requests
//! received by splice, so that WRITE data can stay in a pipe, in `splice_receive.rs`.

pub(crate) mod active;
pub(crate) mod dev;
pub(crate) mod file_reply;
pub(crate) mod reader;
pub(crate) mod splice_receive;
pub(crate) mod stop;
pub(crate) mod uring;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use nix::sys::eventfd::EventFd;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use crate::api::error::Error;
use crate::api::filesystem::Workers;
use crate::proto::reply::{self, Response, Wire};
use crate::server::Server;
use active::TransportStats;
use dev::{BufferPool, Device};

/// Why `main` stopped.
#[derive(Debug)]
pub(crate) enum End {
    Terminated,
    Unmounted,
    Failed(Error),
}

/// Messages from workers to the loop in `main`.
pub(crate) enum Control {
    /// Start another reader thread (`alive` already counts it).
    Spawn,
    /// A reader thread ended.
    ReaderLeft,
    End(End),
}

/// What both transports share while serving one session: the server, the device, the stop
/// signal and the way back to `main`, plus the state of the `/dev/fuse` reader threads
/// (`reader.rs`).
pub(crate) struct Runtime<FS> {
    pub(crate) server: Server<FS>,
    pub(crate) dev: Arc<Device>,
    /// Set (before `stop`) when the session starts to stop: reader threads run no more
    /// handlers in place and leave (see `reader.rs`).
    pub(crate) stopping: std::sync::atomic::AtomicBool,
    /// The reader threads sleeping in `read(2)` on their clones, for the stop to interrupt.
    pub(crate) sleepers: reader::Sleepers,
    /// `main` stopped waiting for the reader threads (the grace period ran out): a thread that
    /// still reads a request leaves it unanswered.
    pub(crate) detached: std::sync::atomic::AtomicBool,
    /// Reader threads alive, and how many of them sleep waiting for a request.
    pub(crate) alive: AtomicUsize,
    pub(crate) idle: AtomicUsize,
    pub(crate) workers: Workers,
    pub(crate) stop: watch::Receiver<bool>,
    /// Written once when the session stops (`stop::wake_on_stop`); reader threads wait on it
    /// beside the device.
    pub(crate) stop_fd: Arc<EventFd>,
    pub(crate) control: mpsc::UnboundedSender<Control>,
    /// Whether the `/dev/fuse` readers receive by splice, leaving large WRITE data in a pipe
    /// (a filesystem whose `write` takes `WriteData`).
    pub(crate) splice: splice_receive::SpliceReceive,
    /// Read buffers of handlers that finished as tasks and of readers that left.
    pub(crate) buffers: BufferPool,
    /// Which transport serves the session, and how many requests each one carried.
    pub(crate) stats: Arc<TransportStats>,
    /// `Workers::max`: one permit per request being handled, on either transport.
    pub(crate) permits: Arc<Semaphore>,
    /// Handlers of `/dev/fuse` requests that had to wait, run as tasks; `main` waits for them
    /// (and cancels them after the grace period) when the session stops.
    pub(crate) handlers: std::sync::Mutex<JoinSet<()>>,
}

/// Writes `response` to the kernel on `dev`, the descriptor its request was read from;
/// nothing for an unanswered request.
pub(crate) fn send(dev: &Device, response: &Response) {
    let Response::Reply { unique, reply } = response else {
        return;
    };
    let sent = match reply::wire(*unique, reply) {
        Wire::Bytes(header, payload) => dev.write(&header, payload),
        Wire::File(range) => file_reply::send(dev, *unique, range),
    };
    if let Err(e) = sent {
        tracing::warn!(unique, error = %e, "writing reply to /dev/fuse failed");
    }
}
