//! A gate for tests of blocking handlers: handlers of the slow names wait on it until the test
//! opens it (only the main suite uses it, so it is not in `common.rs`, which `uring.rs` shares).

use std::sync::{Arc, Condvar, Mutex};

/// A gate that handlers of the slow names wait on until the test opens it.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    /// Blocks the calling thread until the gate is open.
    pub fn wait(&self) {
        let (open, changed) = &*self.0;
        let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
        while !*open {
            open = changed.wait(open).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Opens the gate when dropped, also when an assertion fails: the blocked handlers return
    /// and the mount can go instead of leaving their callers waiting.
    pub fn open_on_drop(&self) -> OpenOnDrop {
        OpenOnDrop(self.clone())
    }
}

/// See [`Gate::open_on_drop`].
pub struct OpenOnDrop(Gate);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        let (open, changed) = &*(self.0).0;
        *open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        changed.notify_all();
    }
}
