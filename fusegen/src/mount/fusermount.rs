//! Unprivileged mounting through the setuid helper `fusermount3`: spawn it with one end of a
//! socketpair, receive the `/dev/fuse` fd it opened over `SCM_RIGHTS`, and for `auto_unmount`
//! keep it alive (it unmounts when our end of the socket closes). Also `fusermount3 -u`.
//!
//! The protocol (libfuse `util/fusermount.c`): the socket's fd number is in `_FUSE_COMMFD`;
//! the helper mounts, sends the device fd with one dummy byte, and exits, unless the options
//! contain `auto_unmount`: then it stays, waits for EOF on the socket, and unmounts if the
//! filesystem is still mounted and its connection is gone.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout};

use super::direct::{blksize_error, source};
use super::{Atime, MountError, MountOptions};

const PROGRAM: &str = "fusermount3";

/// How long fusermount3 may take to mount before we give up on it (it normally takes
/// milliseconds; a hung parent filesystem on the mountpoint's path could stall it).
const MOUNT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an `auto_unmount` helper may take to exit once its socket is closed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Finds `fusermount3` in `$PATH`, then in `/usr/bin` and `/bin` (for a sparse `$PATH`).
pub(crate) fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/bin")])
        .map(|dir| dir.join(PROGRAM))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Escapes `,` and `\` with a backslash, as fusermount3 expects inside `fsname=`/`subtype=`.
pub(crate) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == ',' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `-o` argument for fusermount3. `nonempty` is dropped (obsolete in FUSE 3), and
/// `allow_root` is sent as `allow_other` because fusermount3 rejects `allow_root` as unknown;
/// the session enforces the root-only part.
pub(crate) fn option_string(opts: &MountOptions) -> String {
    // Always name the source, so it reads the same as a direct mount instead of "/dev/fuse".
    let mut list = vec![format!("fsname={}", escape(source(opts)))];
    if let Some(subtype) = &opts.subtype {
        list.push(format!("subtype={}", escape(subtype)));
    }
    if opts.read_only {
        list.push("ro".into());
    }
    // fusermount3 mounts `nosuid,nodev` unless told otherwise, and ignores `suid`/`dev` for
    // unprivileged users ("unsafe option ignored").
    for (on, name) in [
        (opts.suid, "suid"),
        (opts.dev, "dev"),
        (opts.noexec, "noexec"),
        (opts.sync, "sync"),
        (opts.dirsync, "dirsync"),
        (opts.atime == Atime::Noatime, "noatime"),
        (opts.atime == Atime::Strictatime, "strictatime"),
        (opts.nodiratime, "nodiratime"),
        (opts.lazytime, "lazytime"),
    ] {
        if on {
            list.push(name.into());
        }
    }
    if opts.default_permissions {
        list.push("default_permissions".into());
    }
    if opts.allow_other || opts.allow_root {
        list.push("allow_other".into());
    }
    if opts.auto_unmount {
        list.push("auto_unmount".into());
    }
    if let Some(n) = opts.max_read {
        list.push(format!("max_read={n}"));
    }
    if let Some(n) = opts.blksize {
        list.push(format!("blksize={n}"));
    }
    list.join(",")
}

/// A running `fusermount3 -o auto_unmount` process and our end of its socket. Closing the
/// socket tells it to unmount (if still mounted); [`Helper::close`] does that and reaps it.
#[derive(Debug)]
pub(crate) struct Helper {
    socket: UnixStream,
    child: Child,
}

impl Helper {
    /// The helper's process id, to check in tests that it was reaped.
    #[cfg(test)]
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes the socket, then waits (bounded) for the helper to exit so no zombie is left;
    /// kills it if it does not exit in time.
    pub(crate) fn close(self) {
        let Helper { socket, mut child } = self;
        drop(socket);
        reap(&mut child, EXIT_TIMEOUT, PROGRAM);
    }
}

/// Waits (bounded) for `child`, a helper named `what` in logs, to exit so no zombie is left;
/// kills it if it does not exit in time.
pub(super) fn reap(child: &mut Child, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                tracing::debug!(pid = child.id(), %status, "{what} exited");
                return;
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                tracing::warn!(pid = child.id(), "{what} did not exit in time, killing it");
                // SIGKILL cannot be blocked (the helpers block or ignore the others).
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
            Err(err) => {
                tracing::warn!(pid = child.id(), error = %err, "cannot wait for {what}");
                return;
            }
        }
    }
}

/// Mounts through `program` (from [`find`]). Returns the session fd and, for `auto_unmount`,
/// the helper that must be kept alive for the mount's lifetime.
pub(crate) fn mount(
    program: &Path,
    mountpoint: &Path,
    opts: &MountOptions,
) -> Result<(OwnedFd, Option<Helper>), MountError> {
    let (ours, theirs) = UnixStream::pair()
        .map_err(|e| MountError::io("creating a socketpair for fusermount3", e))?;
    let options = option_string(opts);
    tracing::debug!(program = %program.display(), mountpoint = %mountpoint.display(), %options, "spawning fusermount3");

    // The helper's end becomes its stdin, so it is fd 0 in the child: std dup2()s it there
    // without CLOEXEC, and no other descriptor of ours leaks into the helper.
    let mut command = Command::new(program);
    command
        .arg("-o")
        .arg(&options)
        .arg("--")
        .arg(mountpoint)
        .env("_FUSE_COMMFD", "0")
        .env_remove("_FUSE_COMMFD2")
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let spawned = command.spawn();
    // Close our copy of the helper's end now; otherwise its exit would never read as EOF.
    drop(command);
    let mut child = spawned.map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => MountError::FusermountMissing,
        _ => MountError::io("spawning fusermount3", e),
    })?;

    let received = match wait_readable(&ours, MOUNT_TIMEOUT) {
        Ok(true) => receive_fd(ours.as_fd()),
        Ok(false) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "fusermount3 did not answer within 30 s",
        )),
        Err(err) => Err(err),
    };
    match received {
        Ok(Some(fd)) if opts.auto_unmount => {
            // It stays alive with our stderr pipe; we never read it again.
            drop(child.stderr.take());
            Ok((
                fd,
                Some(Helper {
                    socket: ours,
                    child,
                }),
            ))
        }
        Ok(Some(fd)) => {
            drop(ours);
            match child.wait_with_output() {
                Ok(out) if !out.status.success() || !out.stderr.is_empty() => tracing::warn!(
                    status = %out.status,
                    stderr = %String::from_utf8_lossy(&out.stderr).trim(),
                    "fusermount3 mounted but complained"
                ),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "cannot wait for fusermount3"),
            }
            Ok((fd, None))
        }
        // EOF without a fd: the helper failed and said why on stderr.
        Ok(None) => {
            drop(ours);
            let out = child
                .wait_with_output()
                .map_err(|e| MountError::io("waiting for fusermount3", e))?;
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            Err(classify(mountpoint, opts, out.status, stderr))
        }
        Err(err) => {
            let _ = child.kill();
            reap(&mut child, EXIT_TIMEOUT, PROGRAM);
            // It may have mounted before we lost it; the mount would be useless without the fd.
            if super::mountinfo::fuse_mounted_at(mountpoint) == Some(true) {
                let _ = super::unmount_path(mountpoint);
            }
            Err(MountError::io(
                "receiving the /dev/fuse descriptor from fusermount3",
                err,
            ))
        }
    }
}

fn wait_readable(socket: &UnixStream, timeout: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let left = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, left) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
    }
}

/// Receives one byte and, with it, the device fd. `Ok(None)` on EOF (the helper exited
/// without sending). `MSG_CMSG_CLOEXEC` marks the fd close-on-exec atomically.
fn receive_fd(socket: BorrowedFd<'_>) -> io::Result<Option<OwnedFd>> {
    let (bytes, received) = crate::sys::recv_byte_with_fds(socket)?;
    if bytes == 0 && received.is_empty() {
        return Ok(None);
    }
    // Extra descriptors, if any, are closed as `received` drops.
    match received.into_iter().next() {
        Some(fd) => Ok(Some(fd)),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "fusermount3 sent a message without a descriptor",
        )),
    }
}

/// Turns fusermount3's exit status and stderr into the most specific error.
pub(crate) fn classify(
    mountpoint: &Path,
    opts: &MountOptions,
    status: std::process::ExitStatus,
    stderr: String,
) -> MountError {
    let path = mountpoint.to_path_buf();
    if stderr.contains("user_allow_other") {
        let detail = format!(
            "{stderr}; as root, add the line `user_allow_other` to /etc/fuse.conf, or drop the option"
        );
        return MountError::PermissionDenied { path, detail };
    }
    let denied = [
        "Permission denied",
        "Operation not permitted",
        "no write access",
        "not owned by user",
    ];
    if denied.iter().any(|d| stderr.contains(d)) {
        return MountError::PermissionDenied {
            path,
            detail: stderr,
        };
    }
    if stderr.contains("Transport endpoint is not connected") {
        return MountError::AlreadyMounted(path);
    }
    if stderr.contains("Invalid argument") && opts.blksize.is_some() {
        return blksize_error(opts);
    }
    if stderr.contains("fuse device not found") || stderr.contains("No such device") {
        return MountError::DeviceUnavailable {
            detail: format!("{stderr}; load the fuse kernel module with `modprobe fuse`"),
        };
    }
    MountError::FusermountFailed { status, stderr }
}

/// `fusermount3 -u` (then `-u -z` if busy): unmounting as a user who cannot `umount2(2)`.
pub(crate) fn unmount(program: &Path, mountpoint: &Path) -> Result<(), MountError> {
    let run = |lazy: bool| {
        let mut command = Command::new(program);
        command.arg("-u");
        if lazy {
            command.arg("-z");
        }
        command
            .arg("--")
            .arg(mountpoint)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        command
            .output()
            .map_err(|e| MountError::io("running fusermount3 -u", e))
    };
    let mut out = run(false)?;
    let busy = |stderr: &[u8]| String::from_utf8_lossy(stderr).contains("busy");
    if !out.status.success() && busy(&out.stderr) {
        out = run(true)?;
    }
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    Err(MountError::FusermountFailed {
        status: out.status,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    #[test]
    fn escape_commas_and_backslashes() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape(r"a,b\c"), r"a\,b\\c");
        assert_eq!(escape(",,"), r"\,\,");
    }

    #[test]
    fn option_string_defaults() {
        assert_eq!(
            option_string(&MountOptions::default()),
            "fsname=fusegen,default_permissions"
        );
    }

    #[test]
    fn option_string_everything() {
        let o = MountOptions::parse([r"fsname=a\,b,subtype=t,ro,allow_root,auto_unmount,max_read=4096,blksize=512,nonempty,debug,direct_io"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            option_string(&o),
            r"fsname=a\,b,subtype=t,ro,default_permissions,allow_other,auto_unmount,max_read=4096,blksize=512"
        );
    }

    #[test]
    fn option_string_passes_generic_flags_and_drops_userspace_ones() {
        let o = MountOptions::parse([
            "suid,dev,noexec,sync,dirsync,strictatime,nodiratime,lazytime,_netdev,x-systemd.after=a",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            option_string(&o),
            "fsname=fusegen,suid,dev,noexec,sync,dirsync,strictatime,nodiratime,lazytime,default_permissions"
        );
        let noatime = MountOptions::parse(["noatime"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(option_string(&noatime).contains(",noatime,"));
    }

    #[test]
    fn finds_installed_fusermount3() {
        match find() {
            Some(p) => assert!(p.ends_with("fusermount3"), "{}", p.display()),
            None => eprintln!("skipping finds_installed_fusermount3: fusermount3 is not installed"),
        }
    }

    #[test]
    fn stderr_is_classified() {
        let p = Path::new("/mnt/x");
        let o = MountOptions::default();
        let fail = ExitStatus::from_raw(1 << 8);
        let c = |s: &str| classify(p, &o, fail, s.into());
        let perm = c(
            "fusermount3: option allow_other only allowed if 'user_allow_other' is set in /etc/fuse.conf",
        );
        assert!(
            matches!(&perm, MountError::PermissionDenied { detail, .. } if detail.contains("add the line"))
        );
        assert!(matches!(
            c("fusermount3: user has no write access to mountpoint /mnt/x"),
            MountError::PermissionDenied { .. }
        ));
        assert!(matches!(
            c("fusermount3: bad mount point /mnt/x: Transport endpoint is not connected"),
            MountError::AlreadyMounted(_)
        ));
        assert!(matches!(
            c("fusermount3: fuse device not found, try 'modprobe fuse' first"),
            MountError::DeviceUnavailable { .. }
        ));
        let other = c("fusermount3: unknown option 'x'");
        assert!(
            matches!(&other, MountError::FusermountFailed { stderr, .. } if stderr.contains("unknown option"))
        );
        let mut b = o.clone();
        b.blksize = Some(4096);
        let bl = classify(
            p,
            &b,
            fail,
            "fusermount3: mount failed: Invalid argument".into(),
        );
        assert!(matches!(bl, MountError::InvalidOption { .. }));
    }
}
