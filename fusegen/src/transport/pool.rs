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

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::api::error::Error;
use crate::api::operations::Operations;
use crate::server::respond;
use crate::transport::dev::ReadOutcome;
use crate::transport::{Control, End, Runtime, send};

/// A first poll of a handler longer than this means handlers block their thread: workers
/// then stop keeping the reading turn while one runs. A 4 KiB read or a `stat` from the page
/// cache takes a few microseconds; a read from a disk or a network far more.
const KEEP_TURN_BELOW: Duration = Duration::from_micros(200);
/// How many requests, after a slow first poll, hand the reading turn over before their handler
/// runs (so one slow request does not make every following one pay a hand-off forever).
const HANDOFF_REQUESTS: u32 = 256;

pub(crate) async fn worker<FS: Operations>(rt: Arc<Runtime<FS>>) {
    let mut buf = rt.buffers.take(rt.server.negotiated.buffer_size());
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
    if let Some((unique, reply)) = respond(&rt.server, bytes).await {
        send(&rt.dev, unique, &reply);
    }
}
