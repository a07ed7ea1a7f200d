//! Waking threads that sleep in the kernel (reader threads in `epoll_wait`, io_uring queues in
//! `io_uring_enter`) when the session stops, and also when the tokio runtime goes away without
//! a stop: such a thread would otherwise sleep forever, and the runtime's shutdown, which waits
//! for its blocking threads, with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::eventfd::EventFd;
use tokio::sync::watch;

/// Writes `wake` once the session's `stop` is set, or when the watching task is dropped first
/// (the runtime is shutting down). The returned flag tells the two apart: it is set when the
/// task ended without seeing the stop, and the woken thread must then leave at once, without
/// waiting on anything of the runtime.
pub(crate) fn wake_on_stop(
    stop: watch::Receiver<bool>,
    wake: Arc<EventFd>,
    runtime: &tokio::runtime::Handle,
) -> Arc<AtomicBool> {
    let abandoned = Arc::new(AtomicBool::new(false));
    let guard = WakeOnDrop {
        wake,
        abandoned: abandoned.clone(),
        stopped: false,
    };
    runtime.spawn(watch_stop(stop, guard));
    abandoned
}

async fn watch_stop(mut stop: watch::Receiver<bool>, mut guard: WakeOnDrop) {
    loop {
        if *stop.borrow_and_update() {
            guard.stopped = true;
            return;
        }
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// See [`wake_on_stop`].
struct WakeOnDrop {
    wake: Arc<EventFd>,
    abandoned: Arc<AtomicBool>,
    /// The session's stop was seen: an orderly stop, not an abandoned thread.
    stopped: bool,
}

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        if !self.stopped {
            self.abandoned.store(true, Ordering::SeqCst);
        }
        if let Err(e) = self.wake.write(1) {
            tracing::error!(error = %e, "waking threads for the session's stop failed");
        }
    }
}
