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

/// Which side of [`fork_single_threaded`] this process is on.
#[cfg(feature = "cli")]
pub(crate) enum Forked {
    /// The original process; the value is the child's id.
    Parent(nix::unistd::Pid),
    /// The new process.
    Child,
}

/// `fork(2)`, refused unless this process has exactly one thread (counted in
/// `/proc/self/task`).
///
/// The check is what makes the call sound: after forking a multi-threaded process only the
/// calling thread exists in the child, and locks held by the others (the allocator's, a tokio
/// runtime's) would stay locked forever. That is why the daemon forks before the runtime starts.
#[cfg(feature = "cli")]
pub(crate) fn fork_single_threaded() -> std::io::Result<Forked> {
    let threads = std::fs::read_dir("/proc/self/task")
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("counting threads in /proc/self/task: {e}"),
            )
        })?
        .count();
    if threads != 1 {
        return Err(std::io::Error::other(format!(
            "cannot detach: the process already runs {threads} threads (fork before starting \
             any runtime or thread, or run in the foreground with -f)"
        )));
    }
    // SAFETY: this process has a single thread (checked just above, and nothing in this
    // function starts one), so the child gets a consistent copy of every lock and allocator
    // state; the child only continues running ordinary Rust code from here.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent(child)),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}
