//! `Errno`: the error a handler returns, which the runtime sends to the kernel.
//!
//! Handlers return [`Result<T>`](crate::Result); `?` converts `std::io::Error` and `nix` errors
//! so that calls into the standard library just work. The sign convention of the wire format
//! (negative errno in `fuse_out_header.error`) is applied in exactly one place, `proto/reply.rs`.

use std::fmt;
use std::num::NonZeroI32;

/// A positive, non-zero POSIX error number answered to the kernel (pyfuse3's `FUSEError`).
///
/// ```
/// use fusegen::Errno;
/// fn check(name: &str) -> fusegen::Result<()> {
///     if name.len() > 255 { return Err(Errno::ENAMETOOLONG); }
///     Ok(())
/// }
/// assert_eq!(check(&"x".repeat(300)), Err(Errno::ENAMETOOLONG));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(NonZeroI32);

/// The result type of every handler.
pub type Result<T, E = Errno> = std::result::Result<T, E>;

macro_rules! errno_consts {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub const $name: Errno = Errno::new_const(libc::$name);
            )*
        }
    };
}

errno_consts!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    EBADF,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    ERANGE,
    EDEADLK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENODATA,
    EOVERFLOW,
    EOPNOTSUPP,
    ENOTSUP,
    ETIMEDOUT,
    ESTALE,
    EDQUOT,
    ECANCELED,
    ENOTCONN,
    EWOULDBLOCK,
    EPROTO,
    EMSGSIZE,
);

impl Errno {
    /// pyfuse3's `ENOATTR`: "no such extended attribute" (`ENODATA` on Linux).
    pub const ENOATTR: Errno = Errno::ENODATA;

    const fn new_const(raw: i32) -> Errno {
        match NonZeroI32::new(raw) {
            Some(v) => Errno(v),
            None => panic!("errno constants are non-zero"),
        }
    }

    /// Wraps a raw errno. Zero or a negative value is a caller bug and becomes `EIO`, so a
    /// confused conversion can never answer "success" to the kernel.
    pub fn from_raw(raw: i32) -> Errno {
        match NonZeroI32::new(raw) {
            Some(v) if raw > 0 => Errno(v),
            _ => Errno::EIO,
        }
    }

    /// The positive errno value.
    pub fn raw(self) -> i32 {
        self.0.get()
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Errno({}: {})", self.raw(), self)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", nix::errno::Errno::from_raw(self.raw()).desc())
    }
}

impl std::error::Error for Errno {}

impl From<std::io::Error> for Errno {
    /// An `io::Error` without an OS code (e.g. a custom one) becomes `EIO`.
    fn from(e: std::io::Error) -> Errno {
        e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
    }
}

impl From<nix::errno::Errno> for Errno {
    fn from(e: nix::errno::Errno) -> Errno {
        Errno::from_raw(e as i32)
    }
}

impl From<Errno> for std::io::Error {
    fn from(e: Errno) -> std::io::Error {
        std::io::Error::from_raw_os_error(e.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_positive_raw_becomes_eio() {
        assert_eq!(Errno::from_raw(0), Errno::EIO);
        assert_eq!(Errno::from_raw(-2), Errno::EIO);
        assert_eq!(Errno::from_raw(2), Errno::ENOENT);
    }

    #[test]
    fn io_error_conversion_keeps_the_code() {
        let e = std::io::Error::from_raw_os_error(libc::EEXIST);
        assert_eq!(Errno::from(e), Errno::EEXIST);
        let custom = std::io::Error::other("no code");
        assert_eq!(Errno::from(custom), Errno::EIO);
    }

    #[test]
    fn display_is_strerror() {
        assert_eq!(Errno::ENOENT.to_string(), "No such file or directory");
    }
}
