//! `Error`: what goes wrong for the caller of `mount`, `main` and `close`.
//!
//! Handlers never see this type; they return [`Errno`](crate::Errno) to the kernel.

pub use crate::mount::MountError;

/// Failure of the session lifecycle (mounting, talking to the kernel, shutting down).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Mounting failed; the variant says why and what to do.
    #[error(transparent)]
    Mount(#[from] MountError),
    /// Reading from or writing to `/dev/fuse` failed.
    #[error("communication with the kernel over /dev/fuse failed: {0}")]
    Device(#[source] std::io::Error),
    /// The kernel sent an INIT this library cannot accept.
    #[error("FUSE protocol negotiation failed: {0}")]
    Protocol(String),
    /// The requested transport could not be set up (e.g. `transport = io_uring` on a kernel
    /// that does not offer it); the message names the missing piece.
    #[error("{0}")]
    Transport(String),
    /// `main` was called on a session that has already run or been closed.
    #[error("the session is not running: {0}")]
    NotRunning(&'static str),
}
