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

nix::ioctl_write_ptr_bad!(ioctl_dev_clone, abi::FUSE_DEV_IOC_CLONE, u32);

/// `FUSE_DEV_IOC_CLONE`: attach the freshly opened `/dev/fuse` descriptor `new` to the
/// session of `session`, so requests read from `new` are answered on `new`.
pub(crate) fn clone_device(new: BorrowedFd<'_>, session: BorrowedFd<'_>) -> nix::Result<()> {
    let old = u32::try_from(session.as_raw_fd()).map_err(|_| nix::errno::Errno::EBADF)?;
    // SAFETY: `new` is an open descriptor for the duration of the call and the argument points
    // to a live `u32` the kernel only reads (it does `get_user(oldfd, argp)`).
    unsafe { ioctl_dev_clone(new.as_raw_fd(), &old) }?;
    Ok(())
}
