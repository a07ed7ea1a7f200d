//! `MountError`: every way mounting or unmounting can fail, each message saying what to do,
//! plus the errno-to-variant mapping shared by the direct and fusermount3 paths.
//!
//! Option-parsing errors are built in `options.rs`; this file only defines their shape.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

use nix::errno::Errno;

/// Why a mount or an unmount failed.
///
/// Every message names the path or option involved and says how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MountError {
    /// The mountpoint does not exist.
    #[error("mountpoint `{}` does not exist; create it first with `mkdir -p {}`", .0.display(), .0.display())]
    MountpointMissing(PathBuf),

    /// The mountpoint (or a component of its path) is not a directory.
    #[error("mountpoint `{}` is not a directory; FUSE mounts on an existing directory", .0.display())]
    NotADirectory(PathBuf),

    /// Something FUSE is already mounted there, possibly a dead mount whose daemon exited
    /// (those answer `ENOTCONN`, "transport endpoint is not connected").
    #[error(
        "`{}` is already a FUSE mount (perhaps of a filesystem that has exited); \
         unmount it with `fusermount3 -u {}` or `umount -l {}` and retry",
        .0.display(), .0.display(), .0.display()
    )]
    AlreadyMounted(PathBuf),

    /// The system refused: not privileged enough, `fusermount3` declined, or the mountpoint is
    /// not accessible to this user.
    #[error("permission denied mounting on `{}`: {detail} (`fusegen::doctor()` reports this machine's FUSE setup)", .path.display())]
    PermissionDenied {
        /// The mountpoint.
        path: PathBuf,
        /// What was refused and how to get permission.
        detail: String,
    },

    /// `/dev/fuse` cannot be used (missing, kernel module not loaded, or not accessible).
    #[error(
        "the FUSE device /dev/fuse is unavailable: {detail} (`fusegen::doctor()` reports this machine's FUSE setup)"
    )]
    DeviceUnavailable {
        /// What went wrong and what to do.
        detail: String,
    },

    /// Mounting needs the `fusermount3` helper (unprivileged user, or `auto_unmount`), and it
    /// is not installed.
    #[error(
        "`fusermount3` was not found in $PATH, /usr/bin or /bin; install the fuse3 package \
         (`apt-get install fuse3`), or run as root to mount without it"
    )]
    FusermountMissing,

    /// `fusermount3` ran and failed; its own explanation is in `stderr`.
    #[error("fusermount3 failed ({status}): {} (`fusegen::doctor()` reports this machine's FUSE setup)", stderr_text(.stderr))]
    FusermountFailed {
        /// How it exited.
        status: ExitStatus,
        /// What it printed on standard error, trimmed.
        stderr: String,
    },

    /// A mount option is unknown, malformed, or conflicts with another one.
    #[error("invalid mount option `{option}`: {reason}")]
    InvalidOption {
        /// The option as written (or the field name, for a conflict found by `validate`).
        option: String,
        /// What is wrong and what would be accepted.
        reason: String,
    },

    /// Any other system error; `context` says which step failed.
    #[error("{context}: {source}")]
    Io {
        /// The step that failed, e.g. "spawning fusermount3".
        context: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

fn stderr_text(stderr: &str) -> &str {
    if stderr.is_empty() {
        "it printed nothing on stderr"
    } else {
        stderr
    }
}

impl MountError {
    /// Shorthand for [`MountError::InvalidOption`].
    pub(crate) fn invalid(option: impl Into<String>, reason: impl Into<String>) -> MountError {
        MountError::InvalidOption {
            option: option.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`MountError::Io`].
    pub(crate) fn io(context: &'static str, source: impl Into<io::Error>) -> MountError {
        MountError::Io {
            context,
            source: source.into(),
        }
    }
}

/// Maps a failure to look at the mountpoint (`canonicalize`, `stat`, `mount(2)` on it) to the
/// variant that tells the user what to do. Anything unexpected becomes `Io` with `context`.
pub(crate) fn from_path_errno(path: &Path, errno: Errno, context: &'static str) -> MountError {
    let path = path.to_path_buf();
    match errno {
        Errno::ENOENT => MountError::MountpointMissing(path),
        Errno::ENOTDIR => MountError::NotADirectory(path),
        // A FUSE mount whose daemon is gone answers every lookup with ENOTCONN.
        Errno::ENOTCONN => MountError::AlreadyMounted(path),
        Errno::EACCES => MountError::PermissionDenied {
            path,
            detail: "a directory on the path is not searchable by this user; \
                     check the permissions of the mountpoint and its parents"
                .into(),
        },
        other => MountError::io(context, io::Error::from(other)),
    }
}

/// [`from_path_errno`] for a `std::io::Error` (which carries the errno, if any).
pub(crate) fn from_path_io(path: &Path, err: io::Error, context: &'static str) -> MountError {
    match err.raw_os_error() {
        Some(raw) => from_path_errno(path, Errno::from_raw(raw), context),
        None => MountError::io(context, err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_errnos_map_to_actionable_variants() {
        let p = Path::new("/mnt/x");
        assert!(matches!(
            from_path_errno(p, Errno::ENOENT, "c"),
            MountError::MountpointMissing(_)
        ));
        assert!(matches!(
            from_path_errno(p, Errno::ENOTDIR, "c"),
            MountError::NotADirectory(_)
        ));
        assert!(matches!(
            from_path_errno(p, Errno::ENOTCONN, "c"),
            MountError::AlreadyMounted(_)
        ));
        assert!(matches!(
            from_path_errno(p, Errno::EACCES, "c"),
            MountError::PermissionDenied { .. }
        ));
        let e = from_path_io(p, io::Error::from_raw_os_error(libc::ELOOP), "resolving");
        assert!(matches!(
            e,
            MountError::Io {
                context: "resolving",
                ..
            }
        ));
    }

    #[test]
    fn messages_say_what_to_do() {
        let p = PathBuf::from("/mnt/x");
        let missing = MountError::MountpointMissing(p.clone()).to_string();
        assert!(missing.contains("mkdir -p /mnt/x"), "{missing}");
        let mounted = MountError::AlreadyMounted(p).to_string();
        assert!(mounted.contains("fusermount3 -u /mnt/x"), "{mounted}");
        assert!(mounted.contains("umount -l /mnt/x"), "{mounted}");
        assert!(
            MountError::FusermountMissing
                .to_string()
                .contains("apt-get install fuse3")
        );
        let bad = MountError::invalid("ro=1", "`ro` takes no value").to_string();
        assert_eq!(bad, "invalid mount option `ro=1`: `ro` takes no value");
    }

    #[test]
    fn fusermount_failure_includes_stderr() {
        use std::os::unix::process::ExitStatusExt;
        let e = MountError::FusermountFailed {
            status: ExitStatus::from_raw(1 << 8),
            stderr: "fusermount3: unknown option 'x'".into(),
        };
        let msg = e.to_string();
        assert!(msg.contains("exit status: 1"), "{msg}");
        assert!(msg.contains("unknown option 'x'"), "{msg}");
    }
}
