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

use std::time::Duration;

use crate::api::interruption::{CANCEL, INTERRUPTED, Signal};

/// How often an interrupted handler's caller is checked for a pending `SIGKILL`.
const DYING_CHECK_EVERY: Duration = Duration::from_millis(50);

impl Signal {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::interruption::{Interruption, scope};
    use std::sync::Arc;

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
