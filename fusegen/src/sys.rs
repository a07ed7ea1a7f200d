//! The only module allowed `unsafe`: the few system calls that no safe wrapper covers.
//!
//! Every block states why it is sound. `docs/architecture.md` lists these sites.
#![allow(unsafe_code)]

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Takes ownership of a descriptor that the kernel just created for this process
/// (a fd received with `SCM_RIGHTS`, or returned by a syscall wrapper that yields a raw fd).
///
/// The caller must not use `raw` afterwards except through the returned `OwnedFd`.
pub(crate) fn adopt_fd(raw: RawFd) -> Option<OwnedFd> {
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is non-negative and, per this function's contract, a descriptor freshly
    // installed in our table that nothing else owns, so wrapping it cannot double-close.
    Some(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Registers an owned descriptor with the current tokio reactor.
pub(crate) fn register_async_fd(
    fd: OwnedFd,
    interest: tokio::io::Interest,
) -> std::io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    // SAFETY: `OwnedFd` owns a valid, open descriptor, and nothing can replace or close it
    // while the `AsyncFd` owns it: the `AsyncFd` deregisters before it drops the `OwnedFd`.
    Ok(unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, interest) }?)
}
