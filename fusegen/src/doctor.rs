//! [`doctor`]: what this machine offers FUSE filesystems, and what is missing, in one report.
//!
//! Mount errors point here. The checks read system files, and, where this process may mount,
//! mount a throwaway filesystem for a moment to read the kernel's INIT offer (protocol
//! version and capabilities) without serving anything.

use std::fmt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::time::Duration;

use crate::mount::{self, MountMethod, MountOptions};
use crate::proto::abi;
use crate::proto::request::{self, Operation};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Works.
    Ok,
    /// Works with a limitation, or only for some uses.
    Warn,
    /// Mounting will fail until this is fixed.
    Fail,
    /// Facts, neither good nor bad.
    Info,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was found, and what to do about it.
    pub detail: String,
}

/// The result of [`doctor`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The kernel's FUSE protocol minor version, if a probe mount could read it.
    pub kernel_minor: Option<u32>,
    /// The capability flags the kernel offers (kernel numbering), if known.
    pub kernel_flags: Option<u64>,
}

impl Report {
    fn push(&mut self, name: &'static str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            status,
            detail: detail.into(),
        });
    }

    /// Whether any check failed.
    pub fn has_failures(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let tag = match c.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
                Status::Info => "info",
            };
            writeln!(f, "[{tag}] {:<22} {}", c.name, c.detail)?;
        }
        Ok(())
    }
}

/// Checks this machine for FUSE: `/dev/fuse`, privileges, `fusermount3`, `/etc/fuse.conf`,
/// the kernel's protocol version and capabilities (passthrough, io_uring), and limits.
///
/// ```no_run
/// let report = fusegen::doctor();
/// print!("{report}");
/// ```
pub fn doctor() -> Report {
    let mut r = Report::default();
    let root = nix::unistd::geteuid().is_root();
    check_device(&mut r);
    r.push(
        "privileges",
        Status::Info,
        if root {
            "running as root: mounts use mount(2) directly".to_string()
        } else {
            "not root: mounts go through fusermount3".to_string()
        },
    );
    check_fusermount(&mut r, root);
    check_fuse_conf(&mut r);
    check_kernel(&mut r, root);
    check_limits(&mut r);
    r
}

fn check_device(r: &mut Report) {
    match std::fs::metadata("/dev/fuse") {
        Err(e) => r.push(
            "/dev/fuse",
            Status::Fail,
            format!("missing ({e}): load the fuse module with `modprobe fuse`"),
        ),
        Ok(m) if !m.file_type().is_char_device() => r.push(
            "/dev/fuse",
            Status::Fail,
            "exists but is not a character device",
        ),
        Ok(m) => {
            let mode = m.permissions().mode() & 0o777;
            match std::fs::OpenOptions::new().read(true).write(true).open("/dev/fuse") {
                Ok(_) => r.push("/dev/fuse", Status::Ok, format!("present and openable (mode {mode:o})")),
                Err(e) => r.push(
                    "/dev/fuse",
                    Status::Warn,
                    format!(
                        "present (mode {mode:o}) but not openable by this user ({e}); fusermount3 can still mount"
                    ),
                ),
            }
        }
    }
}

fn check_fusermount(r: &mut Report, root: bool) {
    match mount::fusermount_path() {
        Some(path) => {
            let setuid = std::fs::metadata(&path).is_ok_and(|m| m.mode() & 0o4000 != 0);
            let (status, note) = if setuid || root {
                (Status::Ok, "")
            } else {
                (
                    Status::Warn,
                    " but not setuid root: unprivileged mounts will fail",
                )
            };
            r.push("fusermount3", status, format!("{}{note}", path.display()));
        }
        None => r.push(
            "fusermount3",
            if root { Status::Warn } else { Status::Fail },
            "not found: install the fuse3 package (`apt-get install fuse3`); needed for \
             unprivileged mounts and `auto_unmount`",
        ),
    }
}

fn check_fuse_conf(r: &mut Report) {
    match std::fs::read_to_string("/etc/fuse.conf") {
        Ok(text) => {
            let allowed = text.lines().any(|l| l.trim() == "user_allow_other");
            r.push(
                "user_allow_other",
                if allowed { Status::Ok } else { Status::Info },
                if allowed {
                    "set in /etc/fuse.conf: unprivileged mounts may use `allow_other`"
                } else {
                    "not set in /etc/fuse.conf: only root may use `allow_other`"
                },
            );
        }
        Err(_) => r.push(
            "user_allow_other",
            Status::Info,
            "/etc/fuse.conf not found: only root may use `allow_other`",
        ),
    }
}

fn check_kernel(r: &mut Report, root: bool) {
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    r.push("kernel", Status::Info, format!("Linux {release}"));
    match probe_init() {
        Ok(init) => {
            r.kernel_minor = Some(init.minor);
            r.kernel_flags = Some(init.flags);
            let status = if init.minor >= crate::proto::init::MIN_MINOR {
                Status::Ok
            } else {
                Status::Fail
            };
            r.push(
                "FUSE protocol",
                status,
                format!(
                    "kernel speaks 7.{}; fusegen speaks 7.{}..=7.{}",
                    init.minor,
                    crate::proto::init::MIN_MINOR,
                    crate::proto::init::OUR_MINOR
                ),
            );
            let passthrough = init.flags & abi::FUSE_PASSTHROUGH != 0;
            r.push(
                "passthrough",
                match (passthrough, root) {
                    (true, true) => Status::Ok,
                    (true, false) => Status::Warn,
                    (false, _) => Status::Info,
                },
                match (passthrough, root) {
                    (true, true) => "offered by the kernel and permitted (root)",
                    (true, false) => {
                        "offered by the kernel, but registering backing files needs CAP_SYS_ADMIN"
                    }
                    (false, _) => "not offered by this kernel (needs Linux 6.9+)",
                },
            );
            let uring = init.flags & abi::FUSE_OVER_IO_URING != 0;
            r.push(
                "io_uring transport",
                Status::Info,
                if uring {
                    "offered by the kernel"
                } else {
                    "not offered (see enable_uring)"
                },
            );
        }
        Err(why) => r.push(
            "FUSE protocol",
            Status::Warn,
            format!("could not probe the kernel: {why}"),
        ),
    }
    match std::fs::read_to_string("/sys/module/fuse/parameters/enable_uring") {
        Ok(v) => r.push(
            "enable_uring",
            Status::Info,
            format!(
                "{} (set `Y` in /sys/module/fuse/parameters/enable_uring to offer io_uring)",
                v.trim()
            ),
        ),
        Err(_) => r.push(
            "enable_uring",
            Status::Info,
            "parameter absent (kernel before 6.14)",
        ),
    }
}

fn check_limits(r: &mut Report) {
    match std::fs::read_to_string("/proc/sys/fs/fuse/max_pages_limit") {
        Ok(v) => {
            let pages: u64 = v.trim().parse().unwrap_or(0);
            r.push(
                "max_pages_limit",
                Status::Info,
                format!("{pages} pages: requests up to {} KiB", pages * 4),
            );
        }
        Err(_) => r.push(
            "max_pages_limit",
            Status::Info,
            "not exposed (kernel default: 256 pages)",
        ),
    }
}

/// Mounts a throwaway filesystem, reads the kernel's INIT offer, refuses it and unmounts.
fn probe_init() -> Result<request::InitIn, String> {
    let dir = std::env::temp_dir().join(format!("fusegen-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = (|| {
        let mut options = MountOptions::default().fsname("fusegen-doctor");
        options.method = MountMethod::Auto;
        let (fd, mut mount) = mount::mount(&dir, &options).map_err(|e| e.to_string())?;
        let init = read_init(&fd);
        if let Ok(unique) = &init.as_ref().map(|(u, _)| *u) {
            // Refuse the connection so nothing can be served; then remove the mount.
            let header = abi::fuse_out_header {
                len: 16,
                error: -libc::EPROTO,
                unique: *unique,
            };
            let _ = nix::unistd::write(&fd, zerocopy::IntoBytes::as_bytes(&header));
        }
        let _ = mount.unmount();
        init.map(|(_, init)| init)
    })();
    let _ = std::fs::remove_dir(&dir);
    result
}

fn read_init(fd: &std::os::fd::OwnedFd) -> Result<(u64, request::InitIn), String> {
    use std::os::fd::AsFd;
    let mut fds = [nix::poll::PollFd::new(
        fd.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    let timeout = nix::poll::PollTimeout::try_from(Duration::from_secs(2))
        .unwrap_or(nix::poll::PollTimeout::NONE);
    match nix::poll::poll(&mut fds, timeout) {
        Ok(n) if n > 0 => {}
        Ok(_) => return Err("the kernel sent no INIT within 2 s".into()),
        Err(e) => return Err(e.to_string()),
    }
    let mut buf = crate::transport::dev::ReadBuf::new(abi::FUSE_MIN_READ_BUFFER * 2);
    let bytes = buf.as_mut_bytes();
    let n = nix::unistd::read(fd, bytes).map_err(|e| e.to_string())?;
    let req = request::parse(&bytes[..n], Default::default()).map_err(|e| e.to_string())?;
    match req.op {
        Operation::Init { arg } => Ok((req.header.unique, arg)),
        _ => Err("the first request was not INIT".into()),
    }
}

/// Names of the capability bits set in `flags` (kernel numbering), for logs and reports.
pub fn flag_names(flags: u64) -> Vec<&'static str> {
    const NAMES: [&str; 43] = [
        "ASYNC_READ",
        "POSIX_LOCKS",
        "FILE_OPS",
        "ATOMIC_O_TRUNC",
        "EXPORT_SUPPORT",
        "BIG_WRITES",
        "DONT_MASK",
        "SPLICE_WRITE",
        "SPLICE_MOVE",
        "SPLICE_READ",
        "FLOCK_LOCKS",
        "HAS_IOCTL_DIR",
        "AUTO_INVAL_DATA",
        "DO_READDIRPLUS",
        "READDIRPLUS_AUTO",
        "ASYNC_DIO",
        "WRITEBACK_CACHE",
        "NO_OPEN_SUPPORT",
        "PARALLEL_DIROPS",
        "HANDLE_KILLPRIV",
        "POSIX_ACL",
        "ABORT_ERROR",
        "MAX_PAGES",
        "CACHE_SYMLINKS",
        "NO_OPENDIR_SUPPORT",
        "EXPLICIT_INVAL_DATA",
        "MAP_ALIGNMENT",
        "SUBMOUNTS",
        "HANDLE_KILLPRIV_V2",
        "SETXATTR_EXT",
        "INIT_EXT",
        "INIT_RESERVED",
        "SECURITY_CTX",
        "HAS_INODE_DAX",
        "CREATE_SUPP_GROUP",
        "HAS_EXPIRE_ONLY",
        "DIRECT_IO_ALLOW_MMAP",
        "PASSTHROUGH",
        "NO_EXPORT_SUPPORT",
        "HAS_RESEND",
        "ALLOW_IDMAP",
        "OVER_IO_URING",
        "REQUEST_TIMEOUT",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(bit, _)| flags & (1u64 << bit) != 0)
        .map(|(_, n)| *n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_follow_kernel_numbering() {
        assert_eq!(
            flag_names(abi::FUSE_ASYNC_READ | abi::FUSE_PASSTHROUGH),
            ["ASYNC_READ", "PASSTHROUGH"]
        );
        assert_eq!(flag_names(abi::FUSE_REQUEST_TIMEOUT), ["REQUEST_TIMEOUT"]);
        assert!(flag_names(0).is_empty());
    }

    #[test]
    fn report_renders_one_line_per_check() {
        let mut r = Report::default();
        r.push("a", Status::Ok, "fine");
        r.push("b", Status::Fail, "broken");
        assert!(r.has_failures());
        let text = r.to_string();
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains("[FAIL] b"), "{text}");
    }
}
