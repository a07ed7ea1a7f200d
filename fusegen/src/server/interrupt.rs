//! What a `FUSE_INTERRUPT` does to the request it names.
//!
//! Every request in flight has a [`Signal`]. An INTERRUPT sets it, which wakes whatever the
//! handler awaits through [`RequestContext::interrupted`]. Whether the runtime also drops the
//! handler's future (and answers `EINTR`) is decided per request:
//!
//! * at once, with the `intr` option, and always for a lock request that waits (`F_SETLKW`,
//!   blocking `flock`): waiting for a lock is exactly the wait a signal must end;
//! * otherwise once the caller is dying: the kernel sends one INTERRUPT per request, on the
//!   first signal, and a process that a fatal signal hits (`kill -9`, or a default-action
//!   SIGTERM/SIGINT) has `SIGKILL` pending on every thread, so the runtime checks the caller
//!   while the handler keeps running. A caller that will never read the answer is never kept
//!   waiting for it, and no handler, however stuck, makes a process unkillable.
//!
//! A caught signal (a timer, `SIGCHLD` with a handler) therefore does not cancel a handler
//! that is doing real work (pyfuse3 and libfuse leave that to the filesystem too), but the
//! handler can see it and give up early.
//!
//! [`RequestContext::interrupted`]: crate::RequestContext::interrupted

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// How often an interrupted handler's caller is checked for a pending `SIGKILL`.
const DYING_CHECK_EVERY: Duration = Duration::from_millis(50);

const RUNNING: u8 = 0;
const INTERRUPTED: u8 = 1;
const CANCEL: u8 = 2;

/// The interrupt state of one request, shared by the registry, the runtime's race and the
/// handler.
#[derive(Debug)]
pub(crate) struct Signal {
    state: AtomicU8,
    /// Drop the handler as soon as an INTERRUPT arrives.
    cancel_at_once: bool,
    changed: Notify,
}

impl Signal {
    pub(crate) fn new(cancel_at_once: bool) -> Signal {
        Signal {
            state: AtomicU8::new(RUNNING),
            cancel_at_once,
            changed: Notify::new(),
        }
    }

    /// The kernel interrupted the request.
    pub(crate) fn interrupt(&self) {
        let next = if self.cancel_at_once {
            CANCEL
        } else {
            INTERRUPTED
        };
        self.state.fetch_max(next, Ordering::AcqRel);
        self.changed.notify_waiters();
    }

    fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    pub(crate) fn is_interrupted(&self) -> bool {
        self.state() >= INTERRUPTED
    }

    /// Resolves once the state is at least `at_least`.
    async fn reached(&self, at_least: u8) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the check, so a change between the two is not missed.
            changed.as_mut().enable();
            if self.state() >= at_least {
                return;
            }
            changed.await;
        }
    }

    /// Resolves when the runtime should drop the handler: at once for a request cancelled on
    /// its interrupt, and for any other interrupted request once its caller (`pid`, 0 for
    /// the kernel itself) is dying or gone.
    pub(crate) async fn cancelled(&self, pid: u32) {
        self.reached(INTERRUPTED).await;
        if self.state() >= CANCEL {
            return;
        }
        if pid == 0 {
            // The kernel's own request: there is no caller to be killed.
            return std::future::pending().await;
        }
        loop {
            if caller_is_dying(pid) {
                tracing::debug!(pid, "interrupted caller is dying, cancelling its handler");
                return;
            }
            tokio::time::sleep(DYING_CHECK_EVERY).await;
        }
    }
}

/// Whether the thread `tid` (a request header's pid is the caller's thread) has a fatal
/// signal pending, or no longer exists.
fn caller_is_dying(tid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{tid}/status")) {
        Ok(status) => sigkill_pending(&status),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Whether a `/proc/PID/status` text shows `SIGKILL` pending, for the thread or its process.
/// The kernel adds `SIGKILL` to every thread's pending set when a fatal signal is delivered.
fn sigkill_pending(status: &str) -> bool {
    let sigkill_bit = 1u64 << (libc::SIGKILL - 1);
    status
        .lines()
        .filter_map(|line| {
            line.strip_prefix("SigPnd:")
                .or_else(|| line.strip_prefix("ShdPnd:"))
        })
        .filter_map(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .any(|mask| mask & sigkill_bit != 0)
}

tokio::task_local! {
    /// The signal of the request whose handler is being polled.
    static CURRENT: Arc<Signal>;
}

/// Runs `handler` with `signal` visible to [`Interruption::current`].
pub(crate) fn scope<F: Future>(
    signal: Arc<Signal>,
    handler: F,
) -> tokio::task::futures::TaskLocalFuture<Arc<Signal>, F> {
    CURRENT.scope(signal, handler)
}

/// Whether, and when, the kernel interrupted a request: a handle a handler gets from
/// [`RequestContext::interruption`] and may move into tasks it spawns.
///
/// A handle taken outside a handler (in a test, say) is never interrupted.
///
/// [`RequestContext::interruption`]: crate::RequestContext::interruption
#[derive(Debug, Clone, Default)]
pub struct Interruption(Option<Arc<Signal>>);

impl Interruption {
    /// The handle of the request whose handler is running on this task.
    pub(crate) fn current() -> Interruption {
        Interruption(CURRENT.try_with(Arc::clone).ok())
    }

    /// Whether the kernel has interrupted the request (its caller got a signal).
    pub fn is_interrupted(&self) -> bool {
        self.0.as_ref().is_some_and(|s| s.is_interrupted())
    }

    /// Resolves when the kernel interrupts the request; never, if it does not.
    pub async fn interrupted(self) {
        match self.0 {
            Some(signal) => signal.reached(INTERRUPTED).await,
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tcat\nState:\tD (disk sleep)\nSigQ:\t1/63439\n\
                          SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n";

    #[test]
    fn sigkill_is_read_from_either_pending_set() {
        assert!(!sigkill_pending(STATUS));
        let thread = STATUS.replace("SigPnd:\t0000000000000000", "SigPnd:\t0000000000000100");
        assert!(sigkill_pending(&thread));
        let process = STATUS.replace("ShdPnd:\t0000000000000000", "ShdPnd:\t0000000000004100");
        assert!(sigkill_pending(&process));
        let only_term = STATUS.replace("ShdPnd:\t0000000000000000", "ShdPnd:\t0000000000004000");
        assert!(
            !sigkill_pending(&only_term),
            "SIGTERM alone is not fatal yet"
        );
        assert!(!sigkill_pending("SigPnd:\tnot hex\n"));
    }

    #[test]
    fn a_missing_thread_counts_as_dying() {
        // Thread ids are at most 2^22 on Linux; this one cannot exist.
        assert!(caller_is_dying(u32::MAX - 1));
        assert!(!caller_is_dying(std::process::id()));
    }

    #[tokio::test]
    async fn interrupt_wakes_the_handler_and_cancels_only_when_asked() {
        let signal = Arc::new(Signal::new(false));
        let seen = Interruption(Some(signal.clone()));
        assert!(!seen.is_interrupted());
        let waiter = tokio::spawn(seen.clone().interrupted());
        tokio::task::yield_now().await;
        signal.interrupt();
        waiter.await.unwrap();
        assert!(seen.is_interrupted());
        // Our own process is not dying: the runtime keeps the handler.
        let me = std::process::id();
        let kept = tokio::time::timeout(Duration::from_millis(200), signal.cancelled(me)).await;
        assert!(kept.is_err(), "a live caller's handler is not cancelled");

        let at_once = Signal::new(true);
        at_once.interrupt();
        at_once.cancelled(me).await;
    }

    #[tokio::test]
    async fn current_is_visible_only_inside_the_scope() {
        assert!(!Interruption::current().is_interrupted());
        let signal = Arc::new(Signal::new(false));
        signal.interrupt();
        let inside = scope(signal, async { Interruption::current().is_interrupted() }).await;
        assert!(inside);
    }
}
