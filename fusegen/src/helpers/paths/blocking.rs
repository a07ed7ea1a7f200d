//! [`Blocking`]: a [`BlockingPathOperations`] filesystem run on tokio's blocking pool.
//!
//! The generated bridge in `mod.rs` carries each call's arguments to the pool and back with
//! `helpers/handoff.rs`, for every method of the table.

use std::sync::Arc;

use super::BlockingPathOperations;

/// Serves a [`BlockingPathOperations`] filesystem: `PathFs::new(Blocking::new(fs))`. Every
/// handler call moves to tokio's blocking pool, one thread hand-off per request, so a
/// synchronous backend never holds the runtime's workers.
pub struct Blocking<T>(Arc<T>);

impl<T: BlockingPathOperations> Blocking<T> {
    /// Wraps a synchronous path filesystem.
    pub fn new(fs: T) -> Blocking<T> {
        Blocking(Arc::new(fs))
    }

    /// The wrapped filesystem.
    pub fn get_ref(&self) -> &T {
        &self.0
    }

    pub(super) fn shared(&self) -> Arc<T> {
        Arc::clone(&self.0)
    }
}
