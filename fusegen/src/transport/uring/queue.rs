//! One ring queue: a thread of its own, pinned to the queue's CPU, waits for requests in
//! `io_uring_enter`, runs each through the same `respond` path as `/dev/fuse`, and commits the
//! reply with COMMIT_AND_FETCH, which also parks the entry for the next request.
//!
//! Why a thread and not a tokio task: the kernel puts a request on the queue of the CPU its
//! caller runs on, so a thread on that CPU serves it without crossing to another core, and
//! one `io_uring_enter` both submits the replies gathered so far and sleeps until the next
//! request (no reactor, no `epoll_wait`, no hand-off between threads). A handler that has to
//! wait becomes a tokio task; it hands its entry back through a channel and an eventfd whose
//! read is one of the ring's own operations, so the sleeping thread wakes for it.

use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};

use nix::sys::eventfd::{EfdFlags, EventFd};

use super::entry::Entry;
use crate::api::error::Error;
use crate::api::operations::Operations;
use crate::proto::reply::{Reply, Response};
use crate::proto::request;
use crate::server::respond;
use crate::transport::stop::wake_on_stop;
use crate::transport::{Control, End, Runtime};

pub(crate) use crate::sys::Ring;

/// `user_data` of the eventfd read that wakes the queue's thread.
const WAKE: u64 = u64::MAX;
/// `user_data` of the timeout that bounds waiting for handlers once the session stops.
const GRACE: u64 = u64::MAX - 1;

/// A registered queue, ready to be served by [`Queue::serve`]. The memory the kernel may
/// write is the ring's to keep (`sys::Ring`), so field order does not matter here.
pub(crate) struct Queue<FS> {
    ring: Ring,
    held: Vec<Option<Entry>>,
    /// Written by handler tasks that finished and by the stop watcher; read through the ring.
    wake: Arc<EventFd>,
    /// Entries whose command the kernel holds or will get back (not ended by an error).
    live: usize,
    /// The tokio tasks running handlers that had to wait, by entry index, so that the queue
    /// can cancel them when it stops.
    handlers: Vec<Option<tokio::task::JoinHandle<()>>>,
    /// Completions seen during registration, for `run` to handle first.
    early: Vec<(u64, i32)>,
    qid: u16,
    dev: RawFd,
    rt: Arc<Runtime<FS>>,
}

/// Progress of a queue's thread.
struct State {
    /// Entries whose command the kernel holds or will get back (not ended by an error).
    live: usize,
    /// The session stopped: no new requests are taken, handlers get the grace period.
    stopping: bool,
    /// The task watching for the stop was dropped without seeing one: the tokio runtime is
    /// shutting down, so the queue must end at once (it cannot wait for tasks any more).
    abandoned: Arc<AtomicBool>,
}

/// Runs this thread on CPU `cpu`, where the kernel queues the requests of that CPU's callers.
/// Only a hint: a CPU that is offline or outside the allowed set leaves the thread floating.
fn pin_to_cpu(cpu: u16) {
    let mut set = nix::sched::CpuSet::new();
    if set.set(usize::from(cpu)).is_ok()
        && let Err(e) = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
    {
        tracing::debug!(cpu, error = %e, "io_uring queue thread not pinned");
    }
}

/// Does this error completion mean the connection is going away?
fn is_teardown(errno: i32) -> bool {
    matches!(
        errno,
        libc::ENOTCONN | libc::ECANCELED | libc::ECONNABORTED | libc::ENODEV
    )
}

impl<FS: Operations> Queue<FS> {
    /// Registers `entries` on queue `qid` of the session's connection. A REGISTER the kernel
    /// refuses completes during the submit, so refusals are known on return: the queue keeps
    /// the entries that were accepted, and the error names the first refusal. A refusal also
    /// makes the kernel fall back to `/dev/fuse` for requests while the ring is not complete.
    pub(crate) fn register(
        rt: Arc<Runtime<FS>>,
        ring: Ring,
        qid: u16,
        entries: Vec<Entry>,
    ) -> (Option<Queue<FS>>, Option<String>) {
        let dev = rt.dev.as_fd().as_raw_fd();
        let mut ring = ring;
        let wake = match EventFd::from_flags(EfdFlags::EFD_CLOEXEC) {
            Ok(fd) => Arc::new(fd),
            Err(err) => {
                // Nothing of this queue is registered, so the ring can never become ready:
                // release requests waiting for it.
                abandon(&mut ring, dev);
                return (
                    None,
                    Some(format!("creating the queue's eventfd failed: {err}")),
                );
            }
        };
        let mut refused = None;
        let mut live = 0;
        let mut early = Vec::new();
        {
            let r = &mut ring;
            for e in &entries {
                if r.push_fuse_command(e.register(dev, qid)) {
                    live += 1;
                } else {
                    refused = Some("io_uring submission queue too small".to_string());
                    break;
                }
            }
            if let Err(e) = r.submit() {
                refused = Some(format!("io_uring_enter failed: {e}"));
                live = 0;
            }
            // Refusals are already here. So may be requests: the last REGISTER makes the ring
            // ready, and requests that were waiting for it can land before we look.
            let mut completions = Vec::new();
            r.completions_into(&mut completions);
            for (user_data, res) in completions {
                if res < 0 {
                    live -= usize::from(live > 0);
                    let err = std::io::Error::from_raw_os_error(-res);
                    refused.get_or_insert_with(|| format!("REGISTER on queue {qid} failed: {err}"));
                } else {
                    early.push((user_data, res));
                }
            }
        }
        let queue = Queue {
            ring,
            handlers: entries.iter().map(|_| None).collect(),
            held: entries.into_iter().map(Some).collect(),
            wake,
            early,
            live,
            qid,
            dev,
            rt,
        };
        ((live > 0).then_some(queue), refused)
    }

    /// Serves requests on the calling thread (one of tokio's blocking threads) until the
    /// session stops or the kernel ends every entry. Handlers run in `runtime`'s context.
    pub(crate) fn serve(mut self, runtime: tokio::runtime::Handle) {
        let _context = runtime.enter();
        pin_to_cpu(self.qid);
        let (done_tx, done) = mpsc::channel::<Entry>();
        let abandoned = wake_on_stop(self.rt.stop.clone(), self.wake.clone(), &runtime);
        let mut state = State {
            live: self.live,
            stopping: *self.rt.stop.borrow(),
            abandoned,
        };
        self.arm_wake();
        let mut completions = std::mem::take(&mut self.early);
        let mut over = self.handle(&completions, &mut state, &runtime, &done_tx, &done);
        while !over {
            if state.live == 0 {
                tracing::debug!(qid = self.qid, "io_uring queue ended by the kernel");
                break;
            }
            if state.stopping && self.waiting() == 0 {
                break;
            }
            // Submits the replies gathered so far and sleeps until the next completion.
            if let Err(e) = self.ring.submit_and_wait(1) {
                match e.raw_os_error() {
                    Some(libc::EINTR) | Some(libc::EAGAIN) | Some(libc::EBUSY) => {}
                    _ => {
                        self.fail(format!(
                            "waiting on io_uring queue {} failed: {e}",
                            self.qid
                        ));
                        break;
                    }
                }
            }
            self.ring.completions_into(&mut completions);
            over = self.handle(&completions, &mut state, &runtime, &done_tx, &done);
        }
        // Replies of the last handlers, before the ring closes.
        let _ = self.ring.submit();
        self.cancel_handlers(&runtime, state.abandoned.load(Ordering::SeqCst));
        // Dropping `self` closes the ring (cancelling the commands); entry memory is unmapped
        // after that (`sys::Ring` keeps it).
    }

    /// Handlers handed to tokio tasks and not back yet.
    fn waiting(&self) -> usize {
        self.handlers.iter().filter(|h| h.is_some()).count()
    }

    /// Cancels the handlers still running (their grace period is over) and, unless the
    /// runtime itself is going away, waits until each one's future is dropped, so that
    /// `main` returns only after every handler of the session has stopped, as on `/dev/fuse`.
    fn cancel_handlers(&mut self, runtime: &tokio::runtime::Handle, abandoned: bool) {
        for handle in self.handlers.iter_mut().filter_map(Option::take) {
            handle.abort();
            if !abandoned {
                // Only `Err(cancelled)` or the handler's own panic can come back; both are over.
                let _ = runtime.block_on(handle);
            }
        }
    }

    /// Handles completions `(user_data, result)`. Returns true when the queue must stop now
    /// (the grace period after the session stopped is over).
    fn handle(
        &mut self,
        completions: &[(u64, i32)],
        state: &mut State,
        runtime: &tokio::runtime::Handle,
        done_tx: &mpsc::Sender<Entry>,
        done: &mpsc::Receiver<Entry>,
    ) -> bool {
        let mut error = None;
        for &(user_data, res) in completions {
            match user_data {
                WAKE => {
                    if state.abandoned.load(Ordering::SeqCst) {
                        return true;
                    }
                    while let Ok(entry) = done.try_recv() {
                        self.handlers[entry.index] = None;
                        self.push_commit(entry);
                    }
                    if !state.stopping && *self.rt.stop.borrow() {
                        state.stopping = true;
                        self.arm_grace();
                    }
                    // A cancelled read means the ring is closing.
                    if res >= 0 {
                        self.arm_wake();
                    }
                    continue;
                }
                GRACE => {
                    if self.waiting() > 0 {
                        tracing::warn!(
                            qid = self.qid,
                            handlers = self.waiting(),
                            "io_uring handlers still running after the grace period"
                        );
                    }
                    return true;
                }
                _ => {}
            }
            let Some(entry) = usize::try_from(user_data)
                .ok()
                .and_then(|i| self.held.get_mut(i))
                .and_then(Option::take)
            else {
                tracing::warn!(user_data, res, "io_uring completion for an unknown entry");
                continue;
            };
            if res == 0 && !state.stopping {
                self.rt.stats.count_uring();
                self.run_request(entry, runtime, done_tx);
                continue;
            }
            // A request arriving while stopping stays unanswered, like one left unread on
            // /dev/fuse; the kernel fails it when the connection closes.
            if res < 0 {
                state.live -= usize::from(state.live > 0);
                if !is_teardown(-res) {
                    let err = std::io::Error::from_raw_os_error(-res);
                    tracing::error!(qid = self.qid, user_data, error = %err, "io_uring entry command failed");
                    error = Some(err);
                }
            }
            let i = entry.index;
            self.held[i] = Some(entry);
        }
        if let (0, Some(error)) = (state.live, error) {
            // Requests for this CPU would wait forever: end the session.
            self.fail(format!(
                "io_uring queue {} lost its entries: {error}",
                self.qid
            ));
        }
        false
    }

    /// Runs the request in `entry` here; most handlers finish without waiting and the reply
    /// is queued at once. One that has to wait becomes a tokio task, so a slow handler never
    /// holds the queue; it sends the entry back and wakes this thread when done.
    fn run_request(
        &mut self,
        entry: Entry,
        runtime: &tokio::runtime::Handle,
        done_tx: &mpsc::Sender<Entry>,
    ) {
        let index = entry.index;
        let mut fut = Box::pin(serve(self.rt.clone(), entry));
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(entry) => self.push_commit(entry),
            Poll::Pending => {
                let (done_tx, wake) = (done_tx.clone(), self.wake.clone());
                // The task's first poll registers its own waker.
                let task = runtime.spawn(async move {
                    // The queue is gone only when the session is over; the entry is then
                    // simply dropped.
                    let _ = done_tx.send(fut.await);
                    let _ = wake.write(1);
                });
                self.handlers[index] = Some(task);
            }
        }
    }

    /// Queues the read of the wake eventfd.
    fn arm_wake(&mut self) {
        if !self.ring.push_read_eventfd(self.wake.as_fd(), WAKE) {
            tracing::error!(
                qid = self.qid,
                "io_uring submission queue full, wake-up lost"
            );
        }
    }

    /// Queues the timeout that ends the wait for handlers after the session stopped.
    fn arm_grace(&mut self) {
        if !self.ring.push_timeout(self.rt.workers.grace, GRACE) {
            tracing::error!(
                qid = self.qid,
                "io_uring submission queue full, no grace timeout"
            );
        }
    }

    /// Queues an entry's reply and the fetch of its next request, without submitting.
    fn push_commit(&mut self, entry: Entry) {
        let commit = entry.commit(self.dev, self.qid);
        let index = entry.index;
        self.held[index] = Some(entry);
        if !self.ring.push_fuse_command(commit) {
            // Cannot happen: each entry has at most one command and the queue holds them all.
            tracing::error!(
                qid = self.qid,
                index,
                "io_uring submission queue full, entry lost"
            );
        }
    }

    fn fail(&self, message: String) {
        let _ = self
            .rt
            .control
            .send(Control::End(End::Failed(Error::Transport(message))));
    }
}

/// Makes the kernel give up on the ring for this connection (requests flow through
/// `/dev/fuse` again) when registration cannot complete.
pub(crate) fn abandon(ring: &mut Ring, dev: RawFd) {
    // Its completion is never read: the ring is dropped right after.
    if ring.push_fuse_command(super::entry::abandon(dev)) {
        let _ = ring.submit();
    }
}

/// Runs one request from `entry` and gives the entry back with its reply written in.
async fn serve<FS: Operations>(rt: Arc<Runtime<FS>>, mut entry: Entry) -> Entry {
    // `max_tasks` bounds ring handlers too; the semaphore is never closed.
    let _permit = rt.permits.clone().acquire_owned().await.ok();
    let unique = entry.commit_id();
    // Unlike on `/dev/fuse`, an unreadable request is still answered: the commit id names it,
    // and the entry comes back only with a commit.
    let unreadable = |e: &dyn std::fmt::Display| {
        tracing::warn!(unique, error = %e, "malformed io_uring request, answering EIO");
        Response::Reply {
            unique,
            reply: Reply::Error(crate::Errno::EIO),
        }
    };
    let response = match entry.request() {
        Ok(range) => {
            let msg = &entry.bytes()[range];
            match request::parse_header(msg) {
                Ok(header) => respond(&rt.server, &header, msg).await,
                Err(e) => unreadable(&e),
            }
        }
        Err(e) => unreadable(&e),
    };
    entry.write_response(unique, &response);
    entry
}
