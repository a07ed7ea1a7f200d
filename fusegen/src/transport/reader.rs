//! The reader threads of the `/dev/fuse` transport: each sleeps in `read(2)` until the kernel
//! hands it a request, runs the handler in place and writes the reply, like the threads of
//! libfuse's multi-threaded loop.
//!
//! Why threads that block in `read(2)`: the kernel queues the threads sleeping on the device
//! in order and wakes the one that slept longest, so consecutive requests of one caller go to
//! alternating threads, and the scheduler often runs the woken one on the caller's CPU (the
//! thread that served the previous request still occupies the other). A request and its reply
//! then cost no inter-processor wake-up, the most expensive part of a round trip on a virtual
//! machine. A tokio task woken through the reactor costs a second wake-up, and a thread that
//! waits in `epoll_wait` keeps its place at the head of the device's queue and so keeps
//! serving from the other CPU (measured in `docs/benchmarks.md`). Most handlers finish at their
//! first poll (replies from memory, a quick system call); one that has to wait becomes a tokio
//! task that owns the request buffer, and the thread goes back to reading.
//!
//! Each thread reads its own blocking clone of the session's descriptor
//! (`FUSE_DEV_IOC_CLONE`) and answers there. Nothing but a request or a signal ends a
//! `read(2)` on the device, so at the stop `main` interrupts the sleeping threads with
//! `sys::wake_signal`, only while they sleep in `read(2)` (see [`Sleepers`]) so that no
//! handler's system call is ever interrupted. Where a clone is impossible (no `/dev/fuse` in the
//! namespace), where no signal is free, and beside the io_uring transport (where this thread
//! only sees FORGET and INTERRUPT), a thread reads the shared non-blocking descriptor after
//! `epoll_wait`, woken at the stop by an eventfd.
//!
//! How many threads: one reads at a time, the others sleep; when a thread takes a request
//! and no other is left sleeping, another starts (up to `Workers::max`), so a handler that
//! blocks its thread never stops the filesystem from serving others; a thread that finishes a
//! request while ten others sleep exits if more than `Workers::min` are alive.

use std::future::Future;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::runtime::Handle;
use tokio::sync::OwnedSemaphorePermit;

use crate::api::error::Error;
use crate::api::in_place::InPlace;
use crate::api::operations::Operations;
use crate::api::write_data::WriteData;
use crate::proto::reply::Response;
use crate::proto::request;
use crate::server::{respond, respond_write_in_pipe};
use crate::sys;
use crate::transport::active::ActiveTransport;
use crate::transport::dev::{Device, ReadBuf, ReadOutcome, Waiter, Wake};
use crate::transport::splice_receive::{ReceiveOutcome, Received};
use crate::transport::{Control, End, Runtime, send};

/// Where a reader thread gets its requests.
enum Source {
    /// Its own blocking clone of the session's descriptor; `sleeper` is its entry in
    /// [`Sleepers`].
    Clone {
        dev: Arc<Device>,
        sleeper: Arc<Sleeper>,
    },
    /// The session's descriptor, after `epoll_wait`.
    Shared(Waiter),
}

/// One thread that reads a blocking clone.
pub(crate) struct Sleeper {
    thread: nix::unistd::Pid,
    /// In (or about to enter) `read(2)`, where the wake signal may reach it.
    sleeping: AtomicBool,
}

/// The threads reading blocking clones, for the stop to interrupt. A thread removes itself
/// before it ends, so a listed thread id is one of ours.
#[derive(Default)]
pub(crate) struct Sleepers(Mutex<Vec<Arc<Sleeper>>>);

impl Sleepers {
    fn add(&self, sleeper: Arc<Sleeper>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sleeper);
    }

    fn remove(&self, sleeper: &Arc<Sleeper>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|s| !Arc::ptr_eq(s, sleeper));
    }

    /// Sends the wake signal to every thread sleeping in `read(2)`. Called after
    /// `Runtime::stopping` is set, repeatedly until the threads are gone: a signal that lands
    /// just before a thread enters `read(2)` is lost, the next one is not.
    pub(crate) fn interrupt(&self) {
        let Some(signal) = sys::wake_signal() else {
            return;
        };
        let sleepers = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for s in sleepers
            .iter()
            .filter(|s| s.sleeping.load(Ordering::SeqCst))
        {
            if let Err(e) = sys::signal_thread(s.thread, signal) {
                tracing::debug!(tid = s.thread.as_raw(), error = %e, "waking a reader thread failed");
            }
        }
    }
}

/// What the next read of a thread brought.
enum Next {
    Request(Received),
    Stop,
}

/// Starts a reader thread. Its exit is reported to `main` as `Control::ReaderLeft`.
pub(crate) fn start<FS: Operations>(rt: Arc<Runtime<FS>>, runtime: Handle) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("fusegen-reader".into())
        .spawn(move || {
            let control = rt.control.clone();
            serve(rt, runtime);
            let _ = control.send(Control::ReaderLeft);
        })
        .map(drop)
}

/// Serves requests on the calling thread until the session stops, the device ends, or the
/// pool shrinks. Handlers run in `runtime`'s context.
fn serve<FS: Operations>(rt: Arc<Runtime<FS>>, runtime: Handle) {
    let _context = runtime.enter();
    let source = match open_source(&rt) {
        Ok(source) => source,
        Err(e) => {
            rt.alive.fetch_sub(1, Ordering::SeqCst);
            let _ = rt.control.send(Control::End(End::Failed(Error::Device(e))));
            return;
        }
    };
    let size = rt.server.negotiated.buffer_size();
    let mut buf = rt.buffers.take(size);
    let mut shrunk = false;
    // Set while this thread polls a handler in place (see `handle`).
    let on_reader = Arc::new(AtomicBool::new(false));
    rt.idle.fetch_add(1, Ordering::SeqCst);
    loop {
        let next = read_next(&rt, &source, &mut buf);
        rt.idle.fetch_sub(1, Ordering::SeqCst);
        let received = match next {
            Ok(Next::Request(received)) => received,
            Ok(Next::Stop) => break,
            Err(end) => {
                let _ = rt.control.send(Control::End(end));
                break;
            }
        };
        if rt.detached.load(Ordering::SeqCst) {
            // `main` returned without this thread: the request is left unanswered, and the
            // kernel fails it when the descriptor closes.
            break;
        }
        grow(&rt);
        let permit = match rt.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            // `Workers::max` handlers run already: wait for one to finish (the semaphore is
            // never closed).
            Err(_) => match runtime.block_on(rt.permits.clone().acquire_owned()) {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let dev = match &source {
            Source::Clone { dev, .. } => dev.clone(),
            Source::Shared(_) => rt.dev.clone(),
        };
        // Once the stop has begun, the wake signal may come at any moment: a handler must not
        // run on this thread then, where the signal could interrupt its system calls.
        let in_place = !rt.stopping.load(Ordering::SeqCst);
        on_reader.store(in_place, Ordering::Relaxed);
        if !in_place {
            rt.idle.fetch_add(1, Ordering::SeqCst);
        }
        buf = run_request(&rt, dev, buf, received, permit, &on_reader, &runtime)
            .unwrap_or_else(|| rt.buffers.take(size));
        if shrink(&rt) {
            rt.idle.fetch_sub(1, Ordering::SeqCst);
            shrunk = true;
            break;
        }
    }
    if let Source::Clone { sleeper, .. } = &source {
        rt.sleepers.remove(sleeper);
    }
    rt.buffers.give_back(buf);
    if !shrunk {
        rt.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A blocking clone when the device is the transport and the wake signal is available; the
/// shared descriptor otherwise.
fn open_source<FS>(rt: &Runtime<FS>) -> std::io::Result<Source> {
    if rt.stats.active() == Some(ActiveTransport::Dev)
        && let Some(signal) = sys::wake_signal()
    {
        let cloned = sys::unblock_signal(signal)
            .map_err(std::io::Error::from)
            .and_then(|()| rt.dev.clone_blocking());
        match cloned {
            Ok(dev) => {
                let sleeper = Arc::new(Sleeper {
                    thread: nix::unistd::gettid(),
                    sleeping: AtomicBool::new(false),
                });
                rt.sleepers.add(sleeper.clone());
                return Ok(Source::Clone {
                    dev: Arc::new(dev),
                    sleeper,
                });
            }
            Err(e) => {
                tracing::debug!(error = %e, "no blocking clone of /dev/fuse, reading the session's descriptor")
            }
        }
    }
    Waiter::new(&rt.dev, rt.stop_fd.as_fd()).map(Source::Shared)
}

/// Reads the next request, sleeping while there is none.
fn read_next<FS>(rt: &Runtime<FS>, source: &Source, buf: &mut ReadBuf) -> Result<Next, End> {
    loop {
        let read = match source {
            Source::Clone { dev, sleeper } => {
                // Marked before the stop is looked at, so that the stop's signal is sent
                // whenever this thread may not have seen the stop (both sides are SeqCst).
                sleeper.sleeping.store(true, Ordering::SeqCst);
                let read = if rt.stopping.load(Ordering::SeqCst) {
                    Ok(None)
                } else {
                    receive(rt, dev, buf)
                };
                sleeper.sleeping.store(false, Ordering::SeqCst);
                read
            }
            Source::Shared(_) => receive(rt, &rt.dev, buf),
        };
        match read {
            Ok(Some(ReceiveOutcome::Request(received))) => return Ok(Next::Request(received)),
            Ok(Some(ReceiveOutcome::Ended)) => return Err(End::Unmounted),
            Ok(None) => {}
            Err(e) => return Err(End::Failed(Error::Device(e))),
        }
        match source {
            // Interrupted: by the stop's signal, or by another signal.
            Source::Clone { .. } if rt.stopping.load(Ordering::SeqCst) => return Ok(Next::Stop),
            Source::Clone { .. } => {}
            Source::Shared(waiter) => match waiter.wait() {
                Ok(Wake::Device) => {}
                Ok(Wake::Stop) => return Ok(Next::Stop),
                Err(e) => return Err(End::Failed(Error::Device(e))),
            },
        }
    }
}

/// Reads one request from `dev`: by splice when the filesystem takes WRITE data in a pipe and
/// the device is the transport (`splice_receive.rs`), by `read(2)` otherwise.
fn receive<FS>(
    rt: &Runtime<FS>,
    dev: &Device,
    buf: &mut ReadBuf,
) -> std::io::Result<Option<ReceiveOutcome>> {
    if rt.splice.on() && rt.stats.active() == Some(ActiveTransport::Dev) {
        return rt.splice.receive(dev, buf);
    }
    Ok(dev.read(buf.as_mut_bytes())?.map(|outcome| match outcome {
        ReadOutcome::Request(n) => ReceiveOutcome::Request(Received::Whole(n)),
        ReadOutcome::Ended => ReceiveOutcome::Ended,
    }))
}

/// Runs one request. In place (`on_reader` set), its handler is polled here once; if it
/// finishes, the reply is written and the buffer comes back for the next read. A handler that
/// has to wait (or any, when not in place) continues as a tokio task that owns the buffer (and
/// returns it to the pool when done).
fn run_request<FS: Operations>(
    rt: &Arc<Runtime<FS>>,
    dev: Arc<Device>,
    buf: ReadBuf,
    received: Received,
    permit: OwnedSemaphorePermit,
    on_reader: &Arc<AtomicBool>,
    runtime: &Handle,
) -> Option<ReadBuf> {
    let in_place = on_reader.load(Ordering::Relaxed);
    let mut handling: Pin<Box<_>> = Box::pin(handle(
        rt.clone(),
        dev,
        buf,
        received,
        permit,
        on_reader.clone(),
    ));
    if in_place {
        let _polling = InPlace::enter();
        let polled = handling
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        if let Poll::Ready(buf) = polled {
            return Some(buf);
        }
    }
    if on_reader.swap(false, Ordering::Relaxed) {
        // The handler becomes a task: this thread reads again at once.
        rt.idle.fetch_add(1, Ordering::SeqCst);
    }
    // The task's first poll registers its own waker in place of the no-op one.
    let task_rt = rt.clone();
    let task = async move {
        let buf = handling.await;
        task_rt.buffers.give_back(buf);
    };
    let mut handlers = rt.handlers.lock().unwrap_or_else(|e| e.into_inner());
    // Forget the tasks that finished since (a panic in one was answered as EIO inside).
    while handlers.try_join_next().is_some() {}
    handlers.spawn_on(task, runtime);
    None
}

/// Handles one request, writes the reply on the descriptor it came from, and gives the
/// buffer back.
///
/// Run in place (`on_reader` still set), the thread counts as sleeping again *before* the
/// reply is written: writing it wakes the caller, which often preempts this thread on the
/// caller's CPU, and a thread that has only to return to `read(2)` must not make the next
/// request start another thread (measured: two callers grew the pool to its maximum).
async fn handle<FS: Operations>(
    rt: Arc<Runtime<FS>>,
    dev: Arc<Device>,
    buf: ReadBuf,
    received: Received,
    _permit: OwnedSemaphorePermit,
    on_reader: Arc<AtomicBool>,
) -> ReadBuf {
    let bytes = &buf.as_bytes()[..received.head_len()];
    // The header is read here, once: the counters and the server share it.
    let header = request::parse_split_header(bytes, received.in_pipe_len());
    rt.stats.count_dev(header.as_ref().ok());
    let response = match (header, received) {
        (Ok(header), Received::Whole(_)) => respond(&rt.server, &header, bytes).await,
        (Ok(header), Received::WriteInPipe(data)) => {
            let data = WriteData::from_pipe(data);
            respond_write_in_pipe(&rt.server, &header, bytes, data).await
        }
        (Err(e), _) => {
            // No readable header, no unique to answer to.
            tracing::warn!(error = %e, "malformed request from the kernel, left unanswered");
            Response::Unanswered
        }
    };
    if on_reader.swap(false, Ordering::Relaxed) {
        rt.idle.fetch_add(1, Ordering::SeqCst);
    }
    send(&dev, &response);
    buf
}

/// Starts another reader when this one took the last sleeping slot and the limit allows it.
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

/// How many threads may sleep on the device before one that finishes a request leaves (above
/// `Workers::min`), as libfuse's `max_idle_threads` (10). Starting a thread costs far more
/// than a request, and several callers at once leave several threads asleep between their
/// requests, so a tighter bound starts and stops a thread per request.
const IDLE_KEPT: usize = 10;

/// A reader above `min` leaves when enough others already sleep on the device.
fn shrink<FS>(rt: &Runtime<FS>) -> bool {
    // `idle` counts this thread too.
    if rt.idle.load(Ordering::SeqCst) <= IDLE_KEPT {
        return false;
    }
    rt.alive
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n > rt.workers.min).then_some(n - 1)
        })
        .is_ok()
}
