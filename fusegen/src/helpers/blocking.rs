//! [`Blocking`]: an inode-level filesystem of plain `fn` handlers ([`BlockingOperations`]),
//! served on tokio's blocking pool. What `#[fusegen::handlers(blocking)]` generates; the
//! path-level counterpart is [`paths::Blocking`](crate::paths::Blocking).

use std::sync::Arc;

use crate::api::errno::{Errno, Result};
use crate::api::operations::{Handlers, Operations};
use crate::helpers::handoff::Answer;
use crate::proto::dir::Filled;

/// [`Operations`] for a synchronous backend (SQLite, `std::fs`, a blocking client): the same
/// methods, with the same defaults, as plain functions. Wrapped in [`Blocking`], each call
/// runs on the `/dev/fuse` reader thread that read its request or on tokio's blocking pool
/// (`helpers/handoff.rs`), so a slow call never holds one of the runtime's workers.
///
/// Arguments are copied to move there (`write` data included); a `readdir` fills a reply of
/// its own there, appended to the kernel's when the call returns; a panic answers `EIO`. A
/// blocking call cannot be cancelled: when the runtime cancels the request (a dying caller,
/// `intr`), the caller gets its answer at once and the call still runs to its end on its
/// thread.
///
/// `#[fusegen::handlers(blocking)]` implements it from an `impl` block of plain `fn`s, and
/// makes [`Blocking`] of the type what [`run`](crate::run) serves.
pub trait BlockingOperations: Send + Sync + 'static {
    /// The handlers this type implements (see [`Handlers`]).
    const HANDLERS: Handlers = Handlers::empty();

    fusegen_macros::__blocking_operation_methods!(crate);
}

/// Serves a [`BlockingOperations`] filesystem: a handler call runs in place on the `/dev/fuse`
/// reader thread that read its request, or moves to tokio's blocking pool where a request is
/// not served in place (io_uring, a request that waited first). The filesystem is shared with
/// those threads through an [`Arc`], which is why it must be `Send + Sync + 'static`.
pub struct Blocking<T>(Arc<T>);

impl<T: BlockingOperations> Blocking<T> {
    /// Wraps a synchronous inode-level filesystem.
    pub fn new(fs: T) -> Blocking<T> {
        Blocking(Arc::new(fs))
    }

    /// The wrapped filesystem.
    pub fn get_ref(&self) -> &T {
        &self.0
    }

    fn shared(&self) -> Arc<T> {
        Arc::clone(&self.0)
    }
}

impl<T: BlockingOperations> Operations for Blocking<T> {
    const HANDLERS: Handlers = T::HANDLERS;

    fusegen_macros::__blocking_bridge_methods!(crate);
}

/// A blocking `readdir`'s answer: its result and the entries it added (none if it panicked).
impl Answer for (Result<()>, Option<Filled>) {
    fn failed() -> Self {
        (Err(Errno::EIO), None)
    }
}
