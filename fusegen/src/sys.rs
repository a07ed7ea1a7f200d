//! The only module allowed `unsafe`: the few system calls that no safe wrapper covers.
//!
//! Every block states why it is sound. `docs/architecture.md` lists these sites.
#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::abi;

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

nix::ioctl_write_ptr_bad!(
    ioctl_backing_open,
    abi::FUSE_DEV_IOC_BACKING_OPEN,
    abi::fuse_backing_map
);
nix::ioctl_write_ptr_bad!(ioctl_backing_close, abi::FUSE_DEV_IOC_BACKING_CLOSE, u32);

/// `FUSE_DEV_IOC_BACKING_OPEN`: registers `backing` with the connection of `device` and
/// returns the backing id the kernel assigned (> 0).
pub(crate) fn backing_open(device: BorrowedFd<'_>, backing: BorrowedFd<'_>) -> nix::Result<u32> {
    let map = abi::fuse_backing_map {
        fd: backing.as_raw_fd(),
        flags: 0,
        padding: 0,
    };
    // SAFETY: both descriptors are open for the duration of the call, and the argument points
    // to a live `fuse_backing_map` the kernel only reads.
    let id = unsafe { ioctl_backing_open(device.as_raw_fd(), &map) }?;
    u32::try_from(id).map_err(|_| nix::errno::Errno::EIO)
}

/// `FUSE_DEV_IOC_BACKING_CLOSE`: releases a backing id.
pub(crate) fn backing_close(device: BorrowedFd<'_>, id: u32) -> nix::Result<()> {
    // SAFETY: `device` is open for the call and the argument points to a live `u32` the kernel
    // only reads.
    unsafe { ioctl_backing_close(device.as_raw_fd(), &id) }?;
    Ok(())
}
