//! Mounting and unmounting: [`MountOptions`], [`MountMethod`], [`MountError`], and the
//! crate-internal `mount()` front door with its `Mount` unmount handle.
//!
//! `mount()` checks the mountpoint, then picks a strategy: `direct.rs` (open `/dev/fuse` and
//! `mount(2)`, needs root) or `fusermount.rs` (the setuid helper `fusermount3`). It returns
//! the session's `/dev/fuse` descriptor; reading requests from it is the session's job, not
//! this module's. See `docs/mount.md` for the user-facing description.

mod direct;
mod error;
mod fields;
mod fusermount;
mod mountinfo;
pub(crate) mod options;
mod parse;
mod preopened;
#[cfg(test)]
mod tests;
mod watcher;

use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::unistd::AccessFlags;

pub use error::MountError;
pub use options::{Atime, MountMethod, MountOptions, Transport};

use error::from_path_io;
pub(crate) use preopened::{check_device, inherited_device};

/// Where `fusermount3` is, if installed (for `doctor`).
pub(crate) fn fusermount_path() -> Option<PathBuf> {
    fusermount::find()
}

/// Checks the mountpoint, opens `/dev/fuse` and mounts it there.
///
/// Returns the session's device fd (`O_RDWR|O_CLOEXEC`; the caller sets `O_NONBLOCK`) and
/// the handle that unmounts. The mount exists as soon as this returns, but the kernel holds
/// every access to it until the session answers `FUSE_INIT`.
pub(crate) fn mount(
    mountpoint: &Path,
    options: &MountOptions,
) -> Result<(OwnedFd, Mount), MountError> {
    options.validate()?;
    let (path, root_mode) = check_mountpoint(mountpoint)?;

    let via_fusermount = || -> Result<(OwnedFd, Mount), MountError> {
        let program = fusermount::find().ok_or(MountError::FusermountMissing)?;
        check_writable_for_user(&path)?;
        let (fd, helper) = fusermount::mount(&program, &path, options)?;
        Ok((
            fd,
            Mount::new(path.clone(), MountMethod::Fusermount, helper),
        ))
    };

    let mounted = match options.method {
        // Only fusermount3 can watch the process and unmount after it dies.
        _ if options.auto_unmount => via_fusermount(),
        MountMethod::Fusermount => via_fusermount(),
        MountMethod::Direct => direct::mount(&path, root_mode, options)
            .map(|fd| (fd, Mount::new(path.clone(), MountMethod::Direct, None)))
            .map_err(direct::Failure::into_error),
        MountMethod::Auto => match direct::mount(&path, root_mode, options) {
            Ok(fd) => Ok((fd, Mount::new(path.clone(), MountMethod::Direct, None))),
            Err(direct::Failure::NotPermitted(err)) => {
                tracing::debug!(error = %err, "direct mount not permitted, trying fusermount3");
                via_fusermount()
            }
            Err(direct::Failure::Fatal(err)) => Err(err),
        },
    }?;
    let (fd, mut mount) = mounted;
    tracing::debug!(mountpoint = %mount.mountpoint().display(), method = %mount.method(), "mounted");
    if options.auto_unmount {
        mount.watch();
    }
    Ok((fd, mount))
}

/// Resolves `mountpoint` to a canonical directory and returns it with its `st_mode`.
///
/// Looks in `/proc/self/mountinfo` *before* touching the path: a `stat` on a FUSE mount
/// whose daemon never answers blocks forever, and a dead one fails with `ENOTCONN`.
fn check_mountpoint(mountpoint: &Path) -> Result<(PathBuf, u32), MountError> {
    if mountpoint.as_os_str().is_empty() {
        return Err(MountError::MountpointMissing(PathBuf::new()));
    }
    let absolute = std::path::absolute(mountpoint)
        .map_err(|e| MountError::io("resolving the mountpoint path", e))?;
    if mountinfo::fuse_mounted_at(&absolute) == Some(true) {
        return Err(MountError::AlreadyMounted(absolute));
    }
    let canonical = fs::canonicalize(&absolute).map_err(|e| {
        match from_path_io(&absolute, e, "resolving the mountpoint path") {
            // ENOTCONN comes from a dead FUSE mount somewhere on the path; name that one.
            MountError::AlreadyMounted(path) => {
                MountError::AlreadyMounted(mountinfo::fuse_mount_containing(&path).unwrap_or(path))
            }
            other => other,
        }
    })?;
    if canonical != absolute && mountinfo::fuse_mounted_at(&canonical) == Some(true) {
        return Err(MountError::AlreadyMounted(canonical));
    }
    let metadata = fs::metadata(&canonical)
        .map_err(|e| from_path_io(&canonical, e, "inspecting the mountpoint"))?;
    if !metadata.is_dir() {
        return Err(MountError::NotADirectory(absolute));
    }
    Ok((canonical, metadata.mode()))
}

/// fusermount3 lets an unprivileged user mount only where they may write; say so up front
/// instead of relaying its terser message.
fn check_writable_for_user(path: &Path) -> Result<(), MountError> {
    if nix::unistd::getuid().is_root() {
        return Ok(());
    }
    match nix::unistd::access(path, AccessFlags::W_OK) {
        Err(Errno::EACCES) => Err(MountError::PermissionDenied {
            path: path.to_path_buf(),
            detail: "an unprivileged user may only mount on a directory they can write to; \
                     use a directory you own, or change its permissions"
                .into(),
        }),
        // Other failures (EROFS, ...) are for fusermount3 to judge and explain.
        _ => Ok(()),
    }
}

/// Unmounts `path` with `umount2(2)` (lazily if busy); when that is not permitted, through
/// `fusermount3 -u`. A path that is no longer a mount point counts as success.
fn unmount_path(path: &Path) -> Result<(), MountError> {
    match direct::unmount(path) {
        // EINVAL: not a mount point (any more); ENOENT: the directory itself is gone.
        Ok(()) | Err(Errno::EINVAL | Errno::ENOENT) => Ok(()),
        Err(Errno::EPERM) => match fusermount::find() {
            Some(program) => fusermount::unmount(&program, path),
            None => Err(MountError::PermissionDenied {
                path: path.to_path_buf(),
                detail: "unmounting needs root or fusermount3; install the fuse3 package".into(),
            }),
        },
        Err(errno) => Err(MountError::io("unmounting", std::io::Error::from(errno))),
    }
}

/// A live mount; unmounts on [`unmount`](Mount::unmount) or, failing that, on drop.
#[derive(Debug)]
pub(crate) struct Mount {
    /// Canonical path; `umount2` must not depend on the current directory.
    mountpoint: PathBuf,
    /// `Direct` or `Fusermount`, never `Auto`.
    method: MountMethod,
    /// The `auto_unmount` fusermount3 process, alive for as long as the mount.
    helper: Option<fusermount::Helper>,
    /// fusegen's own `auto_unmount` watcher (see `watcher.rs`), alive for as long as the mount.
    watcher: Option<watcher::Watcher>,
    mounted: bool,
}

impl Mount {
    fn new(mountpoint: PathBuf, method: MountMethod, helper: Option<fusermount::Helper>) -> Mount {
        Mount {
            mountpoint,
            method,
            helper,
            watcher: None,
            mounted: true,
        }
    }

    /// Starts the `auto_unmount` watcher. Without it fusermount3's helper still covers a
    /// death over `/dev/fuse`, so a failure is logged, not fatal.
    fn watch(&mut self) {
        let started = fusermount::find()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
            .and_then(|program| watcher::Watcher::spawn(&self.mountpoint, &program));
        match started {
            Ok(w) => self.watcher = Some(w),
            Err(err) => tracing::warn!(
                mountpoint = %self.mountpoint.display(),
                error = %err,
                "cannot start the auto_unmount watcher; after a crash over io_uring the mount \
                 may stay until `fusermount3 -u`"
            ),
        }
    }

    /// Where the filesystem is mounted (canonical path).
    pub(crate) fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// The method actually used: [`MountMethod::Direct`] or [`MountMethod::Fusermount`].
    pub(crate) fn method(&self) -> MountMethod {
        self.method
    }

    /// Unmounts; lazily (`MNT_DETACH` / `fusermount3 -u -z`) if busy. Idempotent: a mount
    /// already removed (by this or by an external `umount`) is `Ok`. Never panics.
    ///
    /// Does not need the session to have answered `FUSE_INIT`, and does not close the
    /// device fd (the session owns it).
    pub(crate) fn unmount(&mut self) -> Result<(), MountError> {
        if !self.mounted {
            return Ok(());
        }
        // Not in the table (an external umount got there first): nothing to do. Unknown
        // (table unreadable): try anyway, umount2 tells us.
        if mountinfo::fuse_mounted_at(&self.mountpoint) != Some(false) {
            unmount_path(&self.mountpoint)?;
        }
        self.mounted = false;
        tracing::debug!(mountpoint = %self.mountpoint.display(), "unmounted");
        if let Some(watcher) = self.watcher.take() {
            watcher.dismiss();
        }
        // The helper sees the mount gone and exits without touching anything.
        if let Some(helper) = self.helper.take() {
            helper.close();
        }
        Ok(())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if let Err(err) = self.unmount() {
            tracing::warn!(mountpoint = %self.mountpoint.display(), error = %err, "cannot unmount");
        }
        // Still here only if unmounting failed: closing their pipe and socket lets them
        // unmount once the session is gone, and reaping them leaves no zombie.
        if let Some(watcher) = self.watcher.take() {
            watcher.release();
        }
        if let Some(helper) = self.helper.take() {
            helper.close();
        }
    }
}
