//! A mount made by someone else: `/dev/fd/N` as the mountpoint names a `/dev/fuse`
//! descriptor that the parent process opened, mounted and left open for us (libfuse 3.3+'s
//! convention, used by privileged helpers, container runtimes and CSI drivers). There is
//! nothing to mount and nothing to unmount: the parent owns the mount.

use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::path::Path;

use super::MountError;

const CONTEXT: &str = "taking over a mounted /dev/fuse descriptor (`/dev/fd/N`)";

/// The device's numbers (`crw-rw-rw- 10, 229 /dev/fuse`).
const FUSE_MAJOR: u64 = 10;
const FUSE_MINOR: u64 = 229;

/// `N` if `mountpoint` is exactly `/dev/fd/N` with `N` a descriptor number (at most 9
/// digits, so it fits an `i32`).
pub(crate) fn fd_number(mountpoint: &Path) -> Option<RawFd> {
    let digits = mountpoint.to_str()?.strip_prefix("/dev/fd/")?;
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// For a `/dev/fd/N` mountpoint, the inherited descriptor, checked to be `/dev/fuse`;
/// `None` for an ordinary path.
pub(crate) fn inherited_device(mountpoint: &Path) -> Option<Result<OwnedFd, MountError>> {
    let n = fd_number(mountpoint)?;
    let not_open = |e: std::io::Error| {
        let detail = format!(
            "descriptor {n}: {e}; the parent process must leave the mounted /dev/fuse \
             descriptor open for this one (without close-on-exec)"
        );
        MountError::io(CONTEXT, std::io::Error::new(e.kind(), detail))
    };
    // Looked at before it is taken over: a descriptor that is not /dev/fuse stays untouched.
    let adopted = crate::sys::with_inherited_fd(n, |fd| check_device(&fd, n))
        .map_err(not_open)
        .and_then(|checked| checked)
        .and_then(|()| crate::sys::adopt_inherited_fd(n).map_err(not_open));
    Some(adopted)
}

/// Fails unless `fd` is the FUSE character device.
pub(crate) fn check_device(fd: &impl AsFd, n: RawFd) -> Result<(), MountError> {
    let stat = nix::sys::stat::fstat(fd).map_err(|e| MountError::io(CONTEXT, e))?;
    let is_char = stat.st_mode & libc::S_IFMT == libc::S_IFCHR;
    let rdev = stat.st_rdev;
    if is_char
        && nix::sys::stat::major(rdev) == FUSE_MAJOR
        && nix::sys::stat::minor(rdev) == FUSE_MINOR
    {
        return Ok(());
    }
    Err(MountError::io(
        CONTEXT,
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "descriptor {n} is not a /dev/fuse descriptor; `/dev/fd/N` as the mountpoint \
                 must name the mounted /dev/fuse descriptor the parent process passed down"
            ),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dev_fd_numbers_are_descriptors() {
        assert_eq!(fd_number(Path::new("/dev/fd/3")), Some(3));
        assert_eq!(fd_number(Path::new("/dev/fd/0")), Some(0));
        assert_eq!(fd_number(Path::new("/dev/fd/123456789")), Some(123456789));
        for not in [
            "/dev/fd/",
            "/dev/fd/-1",
            "/dev/fd/+3",
            "/dev/fd/3/",
            "/dev/fd/3x",
            "/dev/fd/ 3",
            "/dev/fd/1234567890",
            "dev/fd/3",
            "/dev/fd/../fd/3",
            "/proc/self/fd/3",
            "/mnt",
        ] {
            assert_eq!(fd_number(Path::new(not)), None, "{not}");
        }
    }

    #[test]
    fn a_descriptor_that_is_not_open_or_not_fuse_is_refused() {
        let closed = inherited_device(Path::new("/dev/fd/999999999"))
            .expect("a /dev/fd path")
            .expect_err("not open");
        assert!(
            closed.to_string().contains("descriptor 999999999"),
            "{closed}"
        );
        let file = tempfile::tempfile().expect("temp file");
        let err = check_device(&file, 7).expect_err("a regular file");
        assert!(
            err.to_string().contains("not a /dev/fuse descriptor"),
            "{err}"
        );
    }
}
