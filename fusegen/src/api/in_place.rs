//! Whether the current thread is a `/dev/fuse` reader polling a handler in place: set by the
//! reader threads (`transport/reader.rs`), read by the blocking adapters
//! (`helpers/handoff.rs`), which then run a synchronous call right there instead of handing it
//! to tokio's blocking pool. Here, below both, so that neither imports the other.

use std::cell::Cell;

thread_local! {
    static POLLING_IN_PLACE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the caller runs inside a handler polled in place by a `/dev/fuse` reader thread:
/// a thread that exists to serve requests and may block in a synchronous handler as libfuse's
/// threads do (the pool starts another reader when none is left asleep). Never on tokio's
/// workers, nor on an io_uring queue's thread, which serves every request of its CPU.
pub(crate) fn polling_in_place() -> bool {
    POLLING_IN_PLACE.get()
}

/// Marks the thread as polling in place until dropped (also when a handler panics).
pub(crate) struct InPlace(());

impl InPlace {
    pub(crate) fn enter() -> InPlace {
        POLLING_IN_PLACE.set(true);
        InPlace(())
    }
}

impl Drop for InPlace {
    fn drop(&mut self) {
        POLLING_IN_PLACE.set(false);
    }
}
