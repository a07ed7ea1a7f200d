//! The channels that carry requests between the kernel and the server: the classic
//! `/dev/fuse` read/write loop (`dev.rs`, the worker pool in `pool.rs`) and FUSE-over-io_uring
//! (`uring/`). Each holds the server ([`Runtime::server`]) and hands it request bytes; none
//! knows about dispatch. Which one runs, and the per-transport request counters, are in
//! `active.rs`.

pub(crate) mod active;
pub(crate) mod dev;
pub(crate) mod pool;
pub(crate) mod uring;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize};

use tokio::sync::{Mutex, mpsc, watch};

use crate::api::error::Error;
use crate::api::filesystem::Workers;
use crate::proto::reply::{self, Reply};
use crate::server::{self, Server};
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
    Spawn,
    End(End),
}

/// What both transports share while serving one session: the server, the device, the stop
/// signal and the way back to `main`, plus the state of the `/dev/fuse` worker pool
/// (`pool.rs`).
pub(crate) struct Runtime<FS> {
    pub(crate) server: Server<FS>,
    pub(crate) dev: Device,
    pub(crate) read_lock: Mutex<()>,
    pub(crate) alive: AtomicUsize,
    pub(crate) idle: AtomicUsize,
    pub(crate) workers: Workers,
    pub(crate) stop: watch::Receiver<bool>,
    pub(crate) control: mpsc::UnboundedSender<Control>,
    /// Read buffers of workers that left, for the next worker to start.
    pub(crate) buffers: BufferPool,
    /// Which transport serves the session, and how many requests each one carried.
    pub(crate) stats: Arc<TransportStats>,
    /// Requests left that hand the reading turn over before their handler runs, after a
    /// handler blocked its thread (see `pool::worker`).
    pub(crate) handoff_left: AtomicU32,
    /// `max_tasks` for handlers run from io_uring entries (the device workers count themselves).
    pub(crate) ring_permits: Arc<tokio::sync::Semaphore>,
}

pub(crate) fn send(dev: &Device, unique: u64, reply: &Reply) {
    if let Some(header) = reply::out_header(unique, reply)
        && let Err(e) = dev.write(&header, reply.payload())
    {
        tracing::warn!(unique, error = %e, "writing reply to /dev/fuse failed");
    }
}

/// A request whose arguments could not be parsed still gets an answer when its header is
/// readable, so the caller in the kernel is not left waiting.
pub(crate) fn answer_malformed(dev: &Device, bytes: &[u8]) {
    if let Some((unique, reply)) = server::malformed_reply(bytes) {
        send(dev, unique, &reply);
    }
}
