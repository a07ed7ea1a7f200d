//! [`Interruption`]: a handler's view of whether the kernel interrupted its request, and the
//! per-request [`Signal`] behind it. What an INTERRUPT makes the server do (cancel the handler
//! or not) is decided in `server/interrupt.rs`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Notify;

const RUNNING: u8 = 0;
pub(crate) const INTERRUPTED: u8 = 1;
pub(crate) const CANCEL: u8 = 2;

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

    pub(crate) fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    pub(crate) fn is_interrupted(&self) -> bool {
        self.state() >= INTERRUPTED
    }

    /// Resolves once the state is at least `at_least`.
    pub(crate) async fn reached(&self, at_least: u8) {
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
pub struct Interruption(pub(crate) Option<Arc<Signal>>);

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
