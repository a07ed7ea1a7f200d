//! The system-call layer: where blocking calls run, acting as the caller when creating files,
//! `/proc/self/fd` paths, open-flag translation, and `stat` to [`EntryAttributes`].
//!
//! Nothing here knows about inode numbers or handles; `inodes.rs` and `files.rs` do.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fusegen::{EntryAttributes, FileType, Inode, RequestContext};
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode};
use nix::unistd::{Gid, Uid};

/// Where the handlers' system calls run (`--blocking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Blocking {
    /// On the tokio worker thread that runs the handler: cheapest (measured), but a slow call
    /// holds one of the runtime's `--threads` threads while it lasts.
    Inline,
    /// `tokio::task::block_in_place`: the worker thread blocks, its other tasks move away.
    BlockInPlace,
    /// `tokio::task::spawn_blocking`: tokio's blocking pool; one thread hand-off per call.
    Spawn,
}

static BLOCKING: OnceLock<Blocking> = OnceLock::new();

/// Chooses where [`blocking`] runs its calls; set once at startup.
pub fn set_blocking(mode: Blocking) {
    let _ = BLOCKING.set(mode);
}

/// The mode chosen with [`set_blocking`].
pub fn blocking_mode() -> Blocking {
    BLOCKING.get().copied().unwrap_or(Blocking::Inline)
}

/// Runs `f`, a short sequence of system calls, as configured by [`set_blocking`].
pub async fn blocking<R, F>(f: F) -> R
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match blocking_mode() {
        Blocking::Inline => f(),
        Blocking::BlockInPlace => tokio::task::block_in_place(f),
        Blocking::Spawn => match tokio::task::spawn_blocking(f).await {
            Ok(r) => r,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        },
    }
}

/// Whether files are created as the caller (the daemon runs as root).
static AS_CALLER: AtomicBool = AtomicBool::new(false);

/// Prepares the process for creating files as the caller: when running as root, keeps the
/// capabilities that `setfsuid` would drop (`SECBIT_NO_SETUID_FIXUP`), so the source's own
/// permission checks never refuse what the kernel (`default_permissions`) already allowed.
/// Must run before any thread is started: threads inherit the setting.
pub fn init_credentials() -> io::Result<bool> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(false);
    }
    use rustix::thread::{CapabilitiesSecureBits, capabilities_secure_bits};
    let bits = capabilities_secure_bits()?;
    rustix::thread::set_capabilities_secure_bits(bits | CapabilitiesSecureBits::NO_SETUID_FIXUP)?;
    AS_CALLER.store(true, Ordering::Relaxed);
    Ok(true)
}

/// While alive, this thread creates files owned by the caller (`setfsuid`/`setfsgid` change
/// only the calling thread); the daemon's identity comes back on drop.
#[must_use]
pub struct AsCaller(bool);

impl AsCaller {
    /// Switches this thread's filesystem identity to the caller's, when running as root.
    pub fn switch(ctx: &RequestContext) -> io::Result<AsCaller> {
        if !AS_CALLER.load(Ordering::Relaxed) || (ctx.uid == 0 && ctx.gid == 0) {
            return Ok(AsCaller(false));
        }
        let guard = AsCaller(true);
        nix::unistd::setfsgid(Gid::from_raw(ctx.gid));
        nix::unistd::setfsuid(Uid::from_raw(ctx.uid));
        // setfs[ug]id report the previous value whether or not they succeeded: ask again.
        if nix::unistd::setfsuid(Uid::from_raw(ctx.uid)).as_raw() != ctx.uid
            || nix::unistd::setfsgid(Gid::from_raw(ctx.gid)).as_raw() != ctx.gid
        {
            return Err(io::Error::from_raw_os_error(libc::EPERM));
        }
        Ok(guard)
    }
}

impl Drop for AsCaller {
    fn drop(&mut self) {
        if self.0 {
            nix::unistd::setfsuid(Uid::from_raw(0));
            nix::unistd::setfsgid(Gid::from_raw(0));
        }
    }
}

/// `/proc/self/fd/N`: reaches the file behind any descriptor, `O_PATH` ones included, without
/// resolving a path in the source tree.
pub fn proc_path(fd: BorrowedFd<'_>) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL in a number")
}

/// Opens the file behind `fd` (usually an `O_PATH` descriptor) anew with `flags`.
pub fn reopen(fd: BorrowedFd<'_>, flags: OFlag) -> nix::Result<OwnedFd> {
    nix::fcntl::open(
        proc_path(fd).as_c_str(),
        flags | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// `O_PATH | O_NOFOLLOW` descriptor of `name` in the directory `dir`: the handle the inode
/// table keeps. Never follows a symlink, so nothing outside the source can be reached.
pub fn open_path(dir: BorrowedFd<'_>, name: &std::ffi::OsStr) -> nix::Result<OwnedFd> {
    nix::fcntl::openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// `fstat` of any descriptor, `O_PATH` ones and symlinks included.
pub fn stat_fd(fd: impl AsFd) -> nix::Result<FileStat> {
    nix::sys::stat::fstatat(
        fd,
        "",
        AtFlags::AT_EMPTY_PATH | AtFlags::AT_SYMLINK_NOFOLLOW,
    )
}

/// The flags to reopen a file with for an `open`/`create` request: the kernel's flags minus
/// those that only make sense on the path the caller used. `O_DIRECT` is dropped because the
/// handlers read into unaligned buffers (the page cache, or the caller's buffer under kernel
/// passthrough, is what honours it). With the writeback cache the kernel may read a
/// write-only file to fill partial pages, and it positions appends itself.
pub fn open_flags(flags: i32, writeback: bool) -> OFlag {
    let mut f = OFlag::from_bits_truncate(flags)
        & !(OFlag::O_CREAT
            | OFlag::O_EXCL
            | OFlag::O_NOCTTY
            | OFlag::O_NOFOLLOW
            | OFlag::O_DIRECT
            | OFlag::O_PATH
            | OFlag::O_TMPFILE);
    if writeback {
        if f & OFlag::O_ACCMODE == OFlag::O_WRONLY {
            f = (f & !OFlag::O_ACCMODE) | OFlag::O_RDWR;
        }
        f &= !OFlag::O_APPEND;
    }
    f | OFlag::O_CLOEXEC
}

/// `rdev` as the kernel encodes it in FUSE requests and replies (`new_encode_dev`).
pub fn encode_dev(dev: u64) -> u32 {
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// The inverse of [`encode_dev`], for `mknod`.
pub fn decode_dev(rdev: u32) -> libc::dev_t {
    let major = (rdev & 0xfff00) >> 8;
    let minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
    libc::makedev(major, minor)
}

fn time(secs: i64, nsecs: i64) -> SystemTime {
    let nsecs = u32::try_from(nsecs.clamp(0, 999_999_999)).unwrap_or(0);
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs.unsigned_abs(), nsecs)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nsecs.into())
    }
}

/// Attributes for the kernel from a `stat` of the source: everything as the source has it,
/// except the inode number, which is the one the kernel knows the file by.
pub fn attributes(ino: Inode, st: &FileStat) -> EntryAttributes {
    let kind = FileType::from_mode(st.st_mode).unwrap_or(FileType::RegularFile);
    let mut attr = EntryAttributes::new(ino, kind, st.st_mode);
    attr.mode = st.st_mode;
    attr.nlink = u32::try_from(st.st_nlink).unwrap_or(u32::MAX);
    attr.uid = st.st_uid;
    attr.gid = st.st_gid;
    attr.rdev = encode_dev(st.st_rdev);
    attr.size = u64::try_from(st.st_size).unwrap_or(0);
    attr.blksize = u32::try_from(st.st_blksize).unwrap_or(4096);
    attr.blocks = u64::try_from(st.st_blocks).unwrap_or(0);
    attr.atime = time(st.st_atime, st.st_atime_nsec);
    attr.mtime = time(st.st_mtime, st.st_mtime_nsec);
    attr.ctime = time(st.st_ctime, st.st_ctime_nsec);
    attr
}

/// `SystemTime` to the `timespec` that `utimensat` takes; `None` leaves the time alone.
pub fn timestamp(t: Option<SystemTime>) -> rustix::fs::Timespec {
    match t {
        None => rustix::fs::Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_OMIT,
        },
        Some(t) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => rustix::fs::Timespec {
                tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: d.subsec_nanos().into(),
            },
            Err(e) => {
                let d = e.duration();
                let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                match d.subsec_nanos() {
                    0 => rustix::fs::Timespec {
                        tv_sec: -secs,
                        tv_nsec: 0,
                    },
                    n => rustix::fs::Timespec {
                        tv_sec: -secs - 1,
                        tv_nsec: (1_000_000_000 - n).into(),
                    },
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_round_trip_through_the_kernel_encoding() {
        for (major, minor) in [(1, 3), (8, 17), (254, 0x1234), (4095, 0xfffff)] {
            let dev = libc::makedev(major, minor);
            assert_eq!(decode_dev(encode_dev(dev)), dev);
        }
        // Low numbers keep the classic 16-bit layout the kernel also uses.
        assert_eq!(encode_dev(libc::makedev(1, 3)), 0x0103);
    }

    #[test]
    fn open_flags_drop_path_only_flags() {
        let f = open_flags(
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_APPEND,
            false,
        );
        assert_eq!(f, OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CLOEXEC);
        let wb = open_flags(libc::O_WRONLY | libc::O_APPEND | libc::O_DIRECT, true);
        assert_eq!(wb, OFlag::O_RDWR | OFlag::O_CLOEXEC);
    }

    #[test]
    fn times_before_the_epoch_keep_nanoseconds_positive() {
        let t = UNIX_EPOCH - Duration::from_millis(1500);
        let ts = timestamp(Some(t));
        assert_eq!((ts.tv_sec, ts.tv_nsec), (-2, 500_000_000));
        assert_eq!(time(-2, 500_000_000), t);
    }
}
