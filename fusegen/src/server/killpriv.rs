//! Clearing setuid/setgid on write, truncate and chown on the kernel's behalf
//! (`FUSE_HANDLE_KILLPRIV_V2`).
//!
//! Without that capability the kernel clears the bits itself: before every write it asks the
//! filesystem for the `security.capability` xattr (`file_remove_privs`), and sends a SETATTR
//! with the cleared mode when there is something to clear. Once it is granted the kernel sets
//! `SB_NOSEC`, stops asking, and instead marks the requests after which the *filesystem* must
//! clear the bits: WRITE with `FUSE_WRITE_KILL_SUIDGID`, SETATTR with `FATTR_KILL_SUIDGID`,
//! OPEN and CREATE with `FUSE_OPEN_KILL_SUIDGID`. The kernel has already decided whether the
//! caller holds `CAP_FSETID` when it sets a flag; what is left is the rule on the mode:
//! setuid always goes, setgid only with group-execute (without it the bit means mandatory
//! locking, not privilege).
//!
//! The runtime does that work so that no handler has to: it reads the mode through `getattr`
//! and, when a bit has to go, writes it back through `setattr`, then removes a regular file's
//! `security.capability` through `removexattr` when the filesystem has one. Ordering:
//!
//! - WRITE: the bits are cleared *before* the handler writes, the order the kernel's own
//!   `file_remove_privs` uses, so no moment exists where new contents sit under a setuid bit.
//!   A failed clear fails the write (with nothing written).
//! - SETATTR (truncate, chown): the cleared mode is folded into the same `setattr` call,
//!   unless the request already carries a mode.
//! - OPEN / CREATE with `O_TRUNC`: cleared after the handler succeeded (there is no file to
//!   clear before a create); if clearing fails, the new handle is released and the open fails.
//!
//! Each step is its own handler call, so the sequence is not atomic against a concurrent
//! `chmod` from another client of the same backing store; for one kernel the inode lock it
//! holds around buffered writes, truncate, chown and chmod serializes them.
//!
//! `security.capability` stays mostly the kernel's: it still probes inodes it has not marked
//! `S_NOSEC` and removes the attribute itself when found. The `removexattr` here covers the
//! requests where it does not look (direct-I/O writes).

use std::ffi::OsStr;
use std::sync::Arc;

use crate::api::errno::{Errno, Result};
use crate::api::operations::{Handlers, Operations};
use crate::api::types::{FileHandle, Inode, RequestContext, SetAttr};
use crate::server::notify::{Notifier, NotifyChannel};

/// The xattr holding file capabilities, dropped on write like setuid.
pub(crate) const CAPABILITY_XATTR: &str = "security.capability";

/// `mode` with setuid cleared, and setgid too when group-execute is set; `None` when there is
/// nothing to clear.
pub(crate) fn stripped_mode(mode: u32) -> Option<u32> {
    let mut out = mode & !libc::S_ISUID;
    if mode & libc::S_IXGRP != 0 {
        out &= !libc::S_ISGID;
    }
    (out != mode).then_some(out)
}

/// The `setattr` asking for `mode` alone (type bits included, as the kernel sends modes),
/// marked as the kernel's kill so a handler that checks permissions itself can tell it from a
/// caller's `chmod`.
fn kill_request(mode: u32) -> SetAttr {
    SetAttr {
        mode: Some(mode),
        kill_suidgid: true,
        ..SetAttr::default()
    }
}

/// Clears setuid/setgid (by the rule above) and `security.capability` of `ino`; returns the
/// new mode when it changed.
pub(crate) async fn kill<FS: Operations>(
    fs: &FS,
    ino: Inode,
    ctx: &RequestContext,
) -> Result<Option<u32>> {
    let attr = fs.getattr(ino, None, ctx).await?;
    let stripped = stripped_mode(attr.mode);
    if let Some(mode) = stripped {
        fs.setattr(ino, &kill_request(mode), None, ctx).await?;
    }
    remove_capability(fs, ino, attr.mode, ctx).await?;
    Ok(stripped)
}

/// For a SETATTR carrying `FATTR_KILL_SUIDGID` without a mode: adds the cleared mode to the
/// same request, so truncate or chown and the clearing reach the handler as one call. The
/// capability xattr goes after the handler succeeded, see [`remove_capability`].
pub(crate) async fn fold_into_setattr<FS: Operations>(
    fs: &FS,
    ino: Inode,
    set: &mut SetAttr,
    ctx: &RequestContext,
) -> Result<()> {
    if !set.kill_suidgid || set.mode.is_some() {
        return Ok(());
    }
    let attr = fs.getattr(ino, None, ctx).await?;
    set.mode = stripped_mode(attr.mode);
    Ok(())
}

/// Removes `security.capability` of a regular file (`mode` is its `st_mode`) when the
/// filesystem has `removexattr`; "not there" and "no xattrs here" are success.
///
/// Other file types are left alone: file capabilities take effect only on `exec` of a regular
/// file, and filesystems commonly refuse xattr changes on symlinks (Linux answers `EPERM` for
/// `user.*` names there, and so does `passthrough`, which cannot reach a link's xattrs by
/// path). The kernel flags every chown of a non-directory, symlinks included, so asking would
/// turn a root `chown -h` into that `EPERM` after the owner already changed.
pub(crate) async fn remove_capability<FS: Operations>(
    fs: &FS,
    ino: Inode,
    mode: u32,
    ctx: &RequestContext,
) -> Result<()> {
    if !FS::HANDLERS.contains(Handlers::REMOVEXATTR) || mode & libc::S_IFMT != libc::S_IFREG {
        return Ok(());
    }
    match fs.removexattr(ino, OsStr::new(CAPABILITY_XATTR), ctx).await {
        Ok(()) => Ok(()),
        Err(e) if ignorable(e) => Ok(()),
        // Removing a `security.*` xattr needs CAP_SETFCAP even when there is none, so a
        // filesystem that stores files with an unprivileged daemon's rights (passthrough run
        // by a user) refuses it: nothing to remove is success, which getxattr can tell.
        Err(Errno::EPERM) if !has_capability(fs, ino, ctx).await => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether `ino` carries `security.capability`; "cannot tell" counts as yes.
async fn has_capability<FS: Operations>(fs: &FS, ino: Inode, ctx: &RequestContext) -> bool {
    if !FS::HANDLERS.contains(Handlers::GETXATTR) {
        return true;
    }
    match fs.getxattr(ino, OsStr::new(CAPABILITY_XATTR), ctx).await {
        Err(e) => !ignorable(e),
        Ok(_) => true,
    }
}

/// After a clear that changed the mode outside a SETATTR reply (WRITE, OPEN): the kernel
/// still caches the old mode, setuid included, until the attribute timeout, and would honour
/// it on `exec`. An attributes-only invalidation takes no lock the request in flight holds
/// (unlike a data invalidation), so it is safe from inside the request.
pub(crate) fn forget_cached_mode(channel: &Arc<NotifyChannel>, ino: Inode, changed: Option<u32>) {
    if changed.is_none() {
        return;
    }
    if let Err(e) = Notifier::new(channel.clone()).invalidate_inode(ino, true) {
        // ENOENT: the kernel holds no attributes for it, nothing stale.
        tracing::debug!(ino = ino.0, error = %e, "invalidating attributes after a clear failed");
    }
}

fn ignorable(e: Errno) -> bool {
    e == Errno::ENODATA || e == Errno::ENOSYS || e == Errno::EOPNOTSUPP
}

/// After a successful open or create that asked for the kill: clear, and on failure release
/// the handle the handler just made so the failed open leaks nothing.
pub(crate) async fn kill_after_open<FS: Operations>(
    fs: &FS,
    ino: Inode,
    fh: FileHandle,
    flags: i32,
    ctx: &RequestContext,
) -> Result<Option<u32>> {
    let r = kill(fs, ino, ctx).await;
    if let Err(e) = r {
        tracing::warn!(ino = ino.0, error = %e, "clearing setuid/setgid after open failed");
        if let Err(e) = fs.release(ino, fh, flags, ctx).await {
            tracing::debug!(handler = "release", error = %e, "error ignored");
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mount::MountOptions;
    use crate::proto::init::killpriv_enabled as enabled;

    const FILE: u32 = libc::S_IFREG;

    #[test]
    fn setuid_always_goes() {
        assert_eq!(stripped_mode(FILE | 0o4755), Some(FILE | 0o755));
        assert_eq!(stripped_mode(FILE | 0o4600), Some(FILE | 0o600));
    }

    #[test]
    fn setgid_goes_only_with_group_execute() {
        assert_eq!(stripped_mode(FILE | 0o2775), Some(FILE | 0o775));
        // Without group-execute setgid means mandatory locking: kept.
        assert_eq!(stripped_mode(FILE | 0o2664), None);
        assert_eq!(stripped_mode(FILE | 0o6764), Some(FILE | 0o2764));
        assert_eq!(stripped_mode(FILE | 0o6777), Some(FILE | 0o777));
    }

    #[test]
    fn plain_modes_and_sticky_are_untouched() {
        assert_eq!(stripped_mode(FILE | 0o777), None);
        assert_eq!(stripped_mode(FILE | 0o1777), None);
        assert_eq!(stripped_mode(FILE | 0o5777), Some(FILE | 0o1777));
    }

    #[test]
    fn needs_the_option_and_both_attribute_handlers() {
        let on = MountOptions::default();
        let both = Handlers::GETATTR | Handlers::SETATTR;
        assert!(on.handle_killpriv, "on by default");
        assert!(enabled(&on, both | Handlers::WRITE));
        assert!(!enabled(&on, Handlers::GETATTR | Handlers::WRITE));
        assert!(!enabled(&on, Handlers::SETATTR));
        let off = MountOptions::parse(["no_handle_killpriv"]).unwrap();
        assert!(!enabled(&off, both));
    }

    #[test]
    fn kill_request_changes_the_mode_only() {
        let set = kill_request(0o755);
        assert_eq!(set.mode, Some(0o755));
        assert!(set.kill_suidgid);
        assert_eq!(set.fields(), crate::api::types::SetattrFields::MODE);
    }
}
