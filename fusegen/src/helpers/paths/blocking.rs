//! [`Blocking`]: a [`BlockingPathOperations`] filesystem run on the `/dev/fuse` reader threads
//! or tokio's blocking pool.
//!
//! The generated bridge in `mod.rs` carries each call's arguments to the pool and back with
//! `helpers/handoff.rs`, for every method of the table.

use std::sync::Arc;

use super::BlockingPathOperations;

/// Serves a [`BlockingPathOperations`] filesystem: `PathFs::new(Blocking::new(fs))`. A handler
/// call runs on the `/dev/fuse` reader thread that read its request (which blocks in it as
/// libfuse's threads do, while another reader takes the next request), or, where the request
/// is not served in place (io_uring, a request that waited first), on tokio's blocking pool:
/// one thread hand-off. Either way a synchronous backend never holds the runtime's workers.
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
