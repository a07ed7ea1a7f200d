//! One ring queue on tokio: a task reaps the ring's completions (each a request in an entry),
//! runs a handler task per request through the same `respond` path as `/dev/fuse`, and
//! submits the reply with COMMIT_AND_FETCH, which also parks the entry for the next request.
//!
//! The ring's descriptor is registered with tokio (`AsyncFd`), so no thread blocks in
//! `io_uring_enter`. Handlers of one queue run concurrently: each holds its own entry.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::entry::Entry;
use crate::error::Error;
use crate::operations::Operations;
use crate::reply::Reply;
use crate::sys;
use crate::worker::{Control, End, Runtime, respond};

pub(crate) use crate::sys::Ring;

/// A registered queue, ready to be driven by [`Queue::run`].
///
/// Field order matters: `ring` is dropped first, so the kernel cancels the entries'
/// commands before `held` unmaps the memory they name.
pub(crate) struct Queue<FS> {
    ring: AsyncFd<Ring>,
    held: Vec<Option<Entry>>,
    /// Entries whose command the kernel holds or will get back (not ended by an error).
    live: usize,
    /// Completions seen during registration, for `run` to handle first.
    early: Vec<(u64, i32)>,
    qid: u16,
    dev: RawFd,
    rt: Arc<Runtime<FS>>,
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
        let mut ring = match sys::register_ring(ring) {
            Ok(ring) => ring,
            Err(failed) => {
                let (mut ring, err) = *failed;
                // Nothing of this queue is registered, so the ring can never become ready:
                // release requests waiting for it.
                abandon(&mut ring, dev);
                return (
                    None,
                    Some(format!("registering the ring with tokio failed: {err}")),
                );
            }
        };
        let mut refused = None;
        let mut live = 0;
        let mut early = Vec::new();
        {
            let r = ring.get_mut();
            for e in &entries {
                if sys::push_sqe(r, &e.register_sqe(dev, qid)) {
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
            for cqe in r.completion() {
                if cqe.result() < 0 {
                    live -= usize::from(live > 0);
                    let err = std::io::Error::from_raw_os_error(-cqe.result());
                    refused.get_or_insert_with(|| format!("REGISTER on queue {qid} failed: {err}"));
                } else {
                    early.push((cqe.user_data(), cqe.result()));
                }
            }
        }
        let queue = Queue {
            ring,
            held: entries.into_iter().map(Some).collect(),
            early,
            live,
            qid,
            dev,
            rt,
        };
        ((live > 0).then_some(queue), refused)
    }

    /// Serves requests until the session stops or the kernel ends every entry.
    pub(crate) async fn run(mut self) {
        let mut stop = self.rt.stop.clone();
        let mut stopping = *stop.borrow();
        let (commit_tx, mut commits) = mpsc::unbounded_channel::<Entry>();
        let mut handlers = JoinSet::new();
        let mut live = self.live;
        let early = std::mem::take(&mut self.early);
        let (ended, _) = self.handle(early, stopping, &mut handlers, &commit_tx);
        live -= ended.min(live);
        loop {
            if live == 0 {
                tracing::debug!(qid = self.qid, "io_uring queue ended by the kernel");
                break;
            }
            if stopping && handlers.is_empty() {
                while let Ok(entry) = commits.try_recv() {
                    self.commit(entry);
                }
                break;
            }
            tokio::select! {
                _ = stop.changed(), if !stopping => stopping = true,
                Some(entry) = commits.recv() => self.commit(entry),
                Some(joined) = handlers.join_next(), if !handlers.is_empty() => {
                    if let Err(e) = joined {
                        tracing::error!(error = %e, "io_uring handler task failed");
                    }
                }
                ready = self.ring.readable_mut() => match ready {
                    Ok(mut guard) => {
                        // Cleared before draining: a completion posted meanwhile raises a new
                        // readiness event, so none is missed.
                        guard.clear_ready();
                        drop(guard);
                        let (ended, error) = self.reap(stopping, &mut handlers, &commit_tx);
                        live -= ended.min(live);
                        if let (0, Some(error)) = (live, error) {
                            // Requests for this CPU would wait forever: end the session.
                            self.fail(format!("io_uring queue {} lost its entries: {error}", self.qid));
                        }
                    }
                    Err(e) => {
                        self.fail(format!("waiting on io_uring queue {} failed: {e}", self.qid));
                        break;
                    }
                },
            }
        }
        // Dropping `self` closes the ring (cancelling the commands) and then unmaps entries.
    }

    /// Takes the completions: requests go to handler tasks. Returns how many entries the
    /// kernel ended, and the last error that was not a teardown.
    fn reap(
        &mut self,
        stopping: bool,
        handlers: &mut JoinSet<()>,
        commits: &mpsc::UnboundedSender<Entry>,
    ) -> (usize, Option<std::io::Error>) {
        let done: Vec<(u64, i32)> = self
            .ring
            .get_mut()
            .completion()
            .map(|c| (c.user_data(), c.result()))
            .collect();
        self.handle(done, stopping, handlers, commits)
    }

    /// Handles completions `(entry index, result)`; see [`reap`](Queue::reap).
    fn handle(
        &mut self,
        done: Vec<(u64, i32)>,
        stopping: bool,
        handlers: &mut JoinSet<()>,
        commits: &mpsc::UnboundedSender<Entry>,
    ) -> (usize, Option<std::io::Error>) {
        let mut ended = 0;
        let mut error = None;
        for (index, res) in done {
            let Some(entry) = usize::try_from(index)
                .ok()
                .and_then(|i| self.held.get_mut(i))
                .and_then(Option::take)
            else {
                tracing::warn!(index, res, "io_uring completion for an unknown entry");
                continue;
            };
            if res == 0 && !stopping {
                self.rt.stats.count_uring();
                handlers.spawn(serve(self.rt.clone(), entry, commits.clone()));
                continue;
            }
            // A request arriving while stopping stays unanswered, like one left unread on
            // /dev/fuse; the kernel fails it when the connection closes.
            if res < 0 {
                ended += 1;
                if !is_teardown(-res) {
                    let err = std::io::Error::from_raw_os_error(-res);
                    tracing::error!(qid = self.qid, index, error = %err, "io_uring entry command failed");
                    error = Some(err);
                }
            }
            let i = entry.index;
            self.held[i] = Some(entry);
        }
        (ended, error)
    }

    /// Submits an entry's reply and parks it for the next request.
    fn commit(&mut self, entry: Entry) {
        let sqe = entry.commit_sqe(self.dev, self.qid);
        let index = entry.index;
        self.held[index] = Some(entry);
        let ring = self.ring.get_mut();
        if !sys::push_sqe(ring, &sqe) {
            // Cannot happen: each entry has at most one command and the queue holds them all.
            tracing::error!(
                qid = self.qid,
                index,
                "io_uring submission queue full, entry lost"
            );
            return;
        }
        // Retried by the next submit if interrupted; the entry stays queued meanwhile.
        if let Err(e) = ring.submit() {
            tracing::warn!(qid = self.qid, error = %e, "io_uring submit failed");
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
    if sys::push_sqe(ring, &super::entry::abandon_sqe(dev)) {
        let _ = ring.submit();
    }
}

/// Runs one request from `entry` and sends the entry back with its reply written in.
async fn serve<FS: Operations>(
    rt: Arc<Runtime<FS>>,
    mut entry: Entry,
    done: mpsc::UnboundedSender<Entry>,
) {
    // `max_tasks` bounds ring handlers too; the semaphore is never closed.
    let _permit = rt.ring_permits.clone().acquire_owned().await.ok();
    let unique = entry.commit_id();
    let reply = match entry.request() {
        Ok(range) => {
            let msg = &entry.bytes()[range];
            match respond(&rt, msg).await {
                Some((_, reply)) => reply,
                None => Reply::Error(crate::Errno::EIO),
            }
        }
        Err(e) => {
            tracing::warn!(unique, error = %e, "malformed io_uring request, answering EIO");
            Reply::Error(crate::Errno::EIO)
        }
    };
    entry.write_reply(unique, &reply);
    // The queue is gone only when the session is over; the entry is then simply dropped.
    let _ = done.send(entry);
}
