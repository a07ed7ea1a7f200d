//! The worker pool of a running session: workers read requests from the device one at a
//! time, handle them, and reply; interrupts cancel handlers; panics become `EIO`.
//!
//! Workers follow pyfuse3: one worker reads at a time; when a worker takes a request and no
//! other worker is waiting to read, a new one starts (up to `max`); a worker that finishes a
//! request while at least two others are waiting exits if more than `min` are alive. So a slow
//! handler never stops the filesystem from serving others, and a steady stream of requests
//! does not start and stop a worker per request.
//!
//! A worker whose handler finishes in its first poll (most do: replies from memory or from a
//! quick system call) keeps the reading turn and reads the next request itself, so a stream
//! of quick requests costs no hand-off between workers. The turn moves on as soon as a
//! handler has to wait, and also for a while after a handler blocked its thread for long.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::{Mutex, mpsc, watch};
use tracing::Instrument;

use crate::api::error::Error;
use crate::api::operations::Operations;
use crate::proto::abi;
use crate::proto::init::Negotiated;
use crate::proto::reply::{self, Reply, ReplyPolicy};
use crate::proto::request::{self, Operation, opcode_name};
use crate::server::dispatch::{Context, dispatch};
use crate::server::inflight::{InFlight, Interrupt};
use crate::server::interrupt;
use crate::server::notify::NotifyChannel;
use crate::server::passthrough::Backings;
use crate::session::Workers;
use crate::transport::TransportStats;
use crate::transport::dev::{BufferPool, Device, ReadOutcome};

/// A first poll of a handler longer than this means handlers block their thread: workers
/// then stop keeping the reading turn while one runs. A 4 KiB read or a `stat` from the page
/// cache takes a few microseconds; a read from a disk or a network far more.
const KEEP_TURN_BELOW: Duration = Duration::from_micros(200);
/// How many requests, after a slow first poll, hand the reading turn over before their handler
/// runs (so one slow request does not make every following one pay a hand-off forever).
const HANDOFF_REQUESTS: u32 = 256;

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

/// State shared by the workers of one running session.
pub(crate) struct Runtime<FS> {
    pub(crate) fs: Arc<FS>,
    pub(crate) dev: Device,
    pub(crate) negotiated: Negotiated,
    pub(crate) policy: ReplyPolicy,
    /// Backing files of open files, when the kernel granted passthrough.
    pub(crate) backings: Option<Backings>,
    pub(crate) noforget: bool,
    /// The runtime clears setuid/setgid when the kernel asks (`killpriv::enabled`).
    pub(crate) killpriv: bool,
    /// With `allow_root`, the only users besides root who may use the mount (its owner).
    pub(crate) allow_root_owner: Option<u32>,
    /// The `debug` option: log every request at info level.
    pub(crate) debug: bool,
    pub(crate) read_lock: Mutex<()>,
    pub(crate) alive: AtomicUsize,
    pub(crate) idle: AtomicUsize,
    pub(crate) workers: Workers,
    pub(crate) stop: watch::Receiver<bool>,
    pub(crate) control: mpsc::UnboundedSender<Control>,
    /// Where NOTIFY_REPLY answers go.
    pub(crate) notify: Arc<NotifyChannel>,
    /// Read buffers of workers that left, for the next worker to start.
    pub(crate) buffers: BufferPool,
    /// Requests being handled, and their interrupt signals.
    pub(crate) in_flight: Arc<InFlight>,
    /// Which transport serves the session, and how many requests each one carried.
    pub(crate) stats: Arc<TransportStats>,
    /// Requests left that hand the reading turn over before their handler runs, after a
    /// handler blocked its thread (see `worker`).
    pub(crate) handoff_left: std::sync::atomic::AtomicU32,
    /// `max_tasks` for handlers run from io_uring entries (the device workers count themselves).
    pub(crate) ring_permits: Arc<tokio::sync::Semaphore>,
    /// Per-operation counts and latencies (`SessionHandle::metrics`).
    pub(crate) metrics: Arc<crate::server::metrics::Metrics>,
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
    if let Some((unique, reply)) = malformed_reply(bytes) {
        send(dev, unique, &reply);
    }
}

/// The answer to a request whose arguments could not be parsed: `EIO`, unless the header is
/// unreadable or the request never gets a reply.
fn malformed_reply(bytes: &[u8]) -> Option<(u64, Reply)> {
    let h = request::parse_header(bytes).ok()?;
    let no_reply = matches!(
        h.opcode,
        abi::opcode::FUSE_FORGET | abi::opcode::FUSE_BATCH_FORGET | abi::opcode::FUSE_INTERRUPT
    );
    (!no_reply).then_some((h.unique, Reply::Error(crate::Errno::EIO)))
}

pub(crate) async fn worker<FS: Operations>(rt: Arc<Runtime<FS>>) {
    let mut buf = rt.buffers.take(rt.negotiated.buffer_size());
    let mut stop = rt.stop.clone();
    // The reading turn, kept from one request to the next while handlers finish at once.
    let mut turn = None;
    loop {
        if *stop.borrow() {
            break;
        }
        rt.idle.fetch_add(1, Ordering::SeqCst);
        let outcome = tokio::select! {
            biased;
            _ = stop.changed() => None,
            r = async {
                if turn.is_none() {
                    turn = Some(rt.read_lock.lock().await);
                }
                rt.dev.read(buf.as_mut_bytes()).await
            } => Some(r),
        };
        rt.idle.fetch_sub(1, Ordering::SeqCst);
        let n = match outcome {
            None => break,
            Some(Ok(ReadOutcome::Request(n))) => n,
            Some(Ok(ReadOutcome::Ended)) => {
                let _ = rt.control.send(Control::End(End::Unmounted));
                break;
            }
            Some(Err(e)) => {
                let _ = rt.control.send(Control::End(End::Failed(Error::Device(e))));
                break;
            }
        };
        {
            // Keeping the turn while the handler runs means no other worker reads meanwhile;
            // worth it only while handlers finish quickly (see `KEEP_TURN_BELOW`).
            if hand_off_first(&rt) {
                turn = None;
                grow(&rt);
            }
            let mut handling = std::pin::pin!(handle(&rt, &buf.as_mut_bytes()[..n]));
            let started = Instant::now();
            // Most handlers finish in their first poll: then this worker keeps the turn and
            // reads the next request itself, with no hand-off to another worker (a
            // cross-thread wake-up per request). A handler that waits gives the turn away, so
            // other workers keep reading meanwhile.
            let first = std::future::poll_fn(|cx| Poll::Ready(handling.as_mut().poll(cx))).await;
            if started.elapsed() > KEEP_TURN_BELOW {
                // A handler that blocks its thread (a slow system call without `.await`):
                // hand the turn over before the next requests, so they run in parallel.
                rt.handoff_left.store(HANDOFF_REQUESTS, Ordering::Relaxed);
            }
            if first.is_pending() {
                if turn.take().is_some() {
                    grow(&rt);
                }
                handling.await;
            } else if turn.is_some() {
                continue;
            }
        }
        if shrink(&rt) {
            rt.buffers.give_back(buf);
            return;
        }
    }
    drop(turn);
    rt.buffers.give_back(buf);
    rt.alive.fetch_sub(1, Ordering::SeqCst);
}

/// Whether this request hands the reading turn over before its handler runs: true for the
/// `HANDOFF_REQUESTS` requests after a handler blocked its thread (counts one of them down).
fn hand_off_first<FS>(rt: &Runtime<FS>) -> bool {
    rt.handoff_left
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

/// Starts another worker when this one took the last idle slot and the limit allows it.
fn grow<FS>(rt: &Runtime<FS>) {
    if rt.idle.load(Ordering::SeqCst) > 0 {
        return;
    }
    let grew = rt
        .alive
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < rt.workers.max).then_some(n + 1)
        })
        .is_ok();
    if grew && rt.control.send(Control::Spawn).is_err() {
        rt.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A worker above `min` leaves when others are already waiting for work.
fn shrink<FS>(rt: &Runtime<FS>) -> bool {
    // Leave only when at least two others are waiting: with one, the next request would make
    // that one start a replacement at once, and a steady stream would churn a worker per request.
    if rt.idle.load(Ordering::SeqCst) < 2 {
        return false;
    }
    rt.alive
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n > rt.workers.min).then_some(n - 1)
        })
        .is_ok()
}

/// Handles one request read from `/dev/fuse` and writes the reply there.
async fn handle<FS: Operations>(rt: &Runtime<FS>, bytes: &[u8]) {
    rt.stats.count_dev(bytes);
    if let Some((unique, reply)) = respond(rt, bytes).await {
        send(&rt.dev, unique, &reply);
    }
}

/// Handles one request, whichever transport delivered it, and returns the reply to deliver
/// (`Reply::None` for requests without one); `None` when not even the header is readable.
pub(crate) async fn respond<FS: Operations>(
    rt: &Runtime<FS>,
    bytes: &[u8],
) -> Option<(u64, Reply)> {
    let req = match request::parse(bytes, rt.negotiated.layout) {
        Ok(req) => req,
        Err(e) => {
            tracing::warn!(error = %e, "malformed request from the kernel");
            return malformed_reply(bytes);
        }
    };
    let started = std::time::Instant::now();
    let h = req.header;
    let (unique, opcode) = (h.unique, h.opcode);
    let no_reply = matches!(
        req.op,
        Operation::Forget { .. }
            | Operation::BatchForget { .. }
            | Operation::Interrupt { .. }
            | Operation::NotifyReply { .. }
    );
    if rt.debug {
        tracing::info!(
            unique,
            opcode = opcode_name(opcode),
            nodeid = h.nodeid,
            uid = h.uid,
            pid = h.pid,
            "request"
        );
    } else {
        tracing::trace!(
            unique,
            opcode = opcode_name(opcode),
            nodeid = h.nodeid,
            "request"
        );
    }
    // `allow_root`: the kernel lets everyone in (it only knows allow_other), so refuse here.
    if let Some(owner) = rt.allow_root_owner
        && !no_reply
        && h.uid != owner
        && h.uid != 0
    {
        return Some((unique, Reply::Error(crate::Errno::EACCES)));
    }
    match req.op {
        Operation::Interrupt { arg } => return Some((unique, interrupt(rt, arg.unique))),
        // The answer to a `Notifier::retrieve`; no reply.
        Operation::NotifyReply { data, .. } => {
            rt.notify.retrieved(unique, data);
            return Some((unique, Reply::None));
        }
        _ => {}
    }
    let span = tracing::debug_span!(
        "request",
        unique,
        opcode = opcode_name(opcode),
        nodeid = h.nodeid
    );
    let cx = Context {
        fs: &*rt.fs,
        negotiated: &rt.negotiated,
        policy: &rt.policy,
        noforget: rt.noforget,
        killpriv: rt.killpriv,
        notify: &rt.notify,
        backings: rt.backings.as_ref(),
    };
    // A lock request that waits ends on its interrupt, whatever the options.
    let waits = matches!(req.op, Operation::Setlk { sleep: true, .. });
    let signal = rt
        .in_flight
        .begin(unique, opcode_name(opcode), h.nodeid, waits);
    let handler = interrupt::scope(
        signal.clone(),
        AssertUnwindSafe(dispatch(&cx, h, req.op)).catch_unwind(),
    )
    .instrument(span);
    // Biased: a handler that finishes at its first poll never polls (or registers) the
    // cancellation side.
    let outcome = tokio::select! {
        biased;
        r = handler => Some(r),
        () = signal.cancelled(h.pid) => None,
    };
    rt.in_flight.end(unique);
    let reply = match outcome {
        // Cancelled on its interrupt: the handler's future was dropped at an await.
        None => Reply::Error(crate::Errno::EINTR),
        Some(Ok(reply)) => reply,
        Some(Err(panic)) => {
            let msg = panic_message(&*panic);
            tracing::error!(unique, opcode = opcode_name(opcode), panic = %msg, "handler panicked, answering EIO");
            if no_reply {
                Reply::None
            } else {
                Reply::Error(crate::Errno::EIO)
            }
        }
    };
    let failed = matches!(reply, Reply::Error(_));
    rt.metrics.record(opcode, failed, started.elapsed());
    Some((unique, reply))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// INTERRUPT for `target`: set its signal (`interrupt.rs` decides what that cancels). A target
/// not registered yet may still be on its way from the device to a worker, so the kernel is
/// asked to resend with `EAGAIN`.
fn interrupt<FS>(rt: &Runtime<FS>, target: u64) -> Reply {
    match rt.in_flight.interrupt(target) {
        Interrupt::Delivered => {
            tracing::debug!(target, "request interrupted");
            Reply::None
        }
        Interrupt::Unknown => Reply::Error(crate::Errno::EAGAIN),
    }
}
