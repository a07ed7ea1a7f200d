//! fusegen's own `auto_unmount` watcher: a process that outlives the filesystem process and
//! detaches the mount when that process dies without unmounting, whatever the transport.
//!
//! fusermount3's `auto_unmount` helper looks once, when its socket reaches EOF, and unmounts
//! only if opening the mountpoint fails with `ENOTCONN`. Over `/dev/fuse` the connection is
//! aborted as the dead process's descriptors close, so that one look succeeds. Over io_uring
//! the ring entries hold the device file and the kernel tears the rings down asynchronously:
//! the connection still looks alive at that moment, the helper leaves, and the dead mount
//! stays. This watcher does not depend on that timing.
//!
//! **Design.** A `/bin/sh` running [`SCRIPT`] (shell builtins only, then `exec fusermount3`),
//! spawned through [`std::process::Command`] right after mounting. Not a fork of this process:
//! forking a multithreaded tokio process to run Rust code is unsound unless the child limits
//! itself to async-signal-safe calls, and such a child would also keep a copy-on-write image
//! of the whole daemon for the mount's lifetime; re-executing `/proc/self/exe` would run the
//! library user's `main`. Every value reaches the script as a positional parameter, never as
//! script text.
//!
//! - Death: its stdin is a pipe whose only write end (close-on-exec) the daemon holds. A
//!   normal unmount writes a line first ([`Watcher::dismiss`]); EOF without one means the
//!   process died (or dropped the mount without unmounting it).
//! - Same mount: the mount ID and device (`0:N`) of the mount on top at the mountpoint,
//!   recorded from `/proc/self/mountinfo` at mount time, must still be what mountinfo shows.
//!   Both numbers are reused at once (an unmount and a new mount at the same path get the
//!   same pair), so the script also holds the connection's directory in fusectl (as its
//!   stdout, an `O_PATH` descriptor): the system's `/sys/fs/fuse/connections/N`, or, as root,
//!   the same directory in a fusectl instance of our own attached nowhere. Once the
//!   connection is gone (which happens when its superblock is destroyed) that directory has no
//!   `abort` file any more, even if a new connection reuses the number; checked after reading
//!   mountinfo, it proves the line read was this mount. Only an unprivileged user on a system
//!   without fusectl mounted is left with the two numbers, read within milliseconds of the
//!   death.
//! - Abort: with the directory, `echo 1 > abort` ends every request still waiting for the dead
//!   process (and the rings) at once instead of when the kernel's teardown gets there.
//! - Detach: `fusermount3 -u -z`, which as root is `umount2(MNT_DETACH)` and as the user who
//!   mounted is the only way allowed. `auto_unmount` always mounts through fusermount3, so it
//!   is installed.
//!
//! The script ignores terminal signals and runs in its own process group with `/` as its
//! working directory and stdio away from the daemon's (a pipe it kept would hold up whoever
//! reads the daemon's output). Like fusermount3's helper, it learns of the death only when
//! every copy of the pipe's write end is closed: a child forked by the daemon and not
//! exec'd keeps it open until it exits.

use std::io::{self, PipeWriter, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::fusermount::reap;
use super::mountinfo::{self, Identity};

/// Run by `/bin/sh -c` with `$1` = "MOUNT_ID MAJ:MIN", `$2` = the mount point as mountinfo
/// escapes it, `$3` = the mount point, `$4` = fusermount3, `$5` = `ctl` when stdout is the
/// connection's fusectl directory, `none` when it is `/dev/null`.
const SCRIPT: &str = r#"trap '' HUP INT QUIT TERM PIPE
IFS= read -r line && exit 0
ctl=/proc/self/fd/1
top=
while read -r id parent dev root mp rest; do
    if [ "$mp" = "$2" ]; then top="$id $dev"; fi
done < /proc/self/mountinfo
[ "$top" = "$1" ] || exit 0
if [ "$5" = ctl ]; then
    [ -e "$ctl/abort" ] || exit 0
    echo 1 > "$ctl/abort" || :
fi
exec "$4" -u -z -q -- "$3" > /dev/null
"#;

/// What a normal unmount writes before closing the pipe.
const GOODBYE: &[u8] = b"unmounted\n";

/// How long the watcher may take to exit once told (it runs `fusermount3 -u -z` at most).
const EXIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where fusectl is normally mounted.
const FUSECTL: &str = "/sys/fs/fuse/connections";

/// A running watcher and the write end of its pipe.
#[derive(Debug)]
pub(crate) struct Watcher {
    pipe: PipeWriter,
    child: Child,
}

impl Watcher {
    /// Starts watching the FUSE mount on top at `mountpoint` (canonical), which this process
    /// has just mounted; `fusermount` is the fusermount3 to detach it with.
    pub(crate) fn spawn(mountpoint: &Path, fusermount: &Path) -> io::Result<Watcher> {
        let id = mountinfo::identity(mountpoint).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "the new mount is not in /proc/self/mountinfo",
            )
        })?;
        let ctl = connection_dir(&id);
        let (reader, pipe) = io::pipe()?;
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(SCRIPT)
            .arg("fusegen-auto-unmount")
            .arg(format!("{} {}", id.mount_id, id.device))
            .arg(&id.escaped_mount_point)
            .arg(mountpoint)
            .arg(fusermount)
            .arg(if ctl.is_some() { "ctl" } else { "none" })
            .stdin(reader)
            .stdout(ctl.map_or_else(Stdio::null, Stdio::from))
            .stderr(Stdio::null())
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .current_dir("/")
            .process_group(0);
        crate::sys::close_inherited_fds_on_exec(&mut command);
        let spawned = command.spawn();
        // Our copies of the read end and of the fusectl directory go with the command.
        drop(command);
        let child = spawned?;
        tracing::debug!(
            pid = child.id(),
            mount_id = %id.mount_id,
            device = %id.device,
            "auto_unmount watcher started"
        );
        Ok(Watcher { pipe, child })
    }

    /// The watcher's process id, to check in tests that it was reaped.
    #[cfg(test)]
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// After a normal unmount: tells the watcher there is nothing to do and reaps it.
    pub(crate) fn dismiss(self) {
        let Watcher {
            mut pipe,
            mut child,
        } = self;
        // EPIPE: it is gone already; reaping tells the rest.
        let _ = pipe.write_all(GOODBYE);
        drop(pipe);
        reap(&mut child, EXIT_TIMEOUT, "auto_unmount watcher");
    }

    /// Without an unmount (it failed): closes the pipe as a death would, so the watcher
    /// detaches the mount if it is still this one, and reaps it.
    pub(crate) fn release(self) {
        let Watcher { pipe, mut child } = self;
        drop(pipe);
        reap(&mut child, EXIT_TIMEOUT, "auto_unmount watcher");
    }
}

/// The connection's directory in fusectl (`O_PATH`): in the system's fusectl mount, else in
/// an instance of our own that is attached nowhere (`fsopen`/`fsmount`, which need
/// `CAP_SYS_ADMIN`), so no mount table changes. fusectl has one superblock, so both show the
/// same directories. `None` when neither works (an unprivileged user without fusectl).
fn connection_dir(id: &Identity) -> Option<OwnedFd> {
    let n = id.connection()?.to_string();
    let open_in = |dir: BorrowedFd<'_>| {
        nix::fcntl::openat(
            dir,
            n.as_str(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(io::Error::from)
    };
    let system = nix::fcntl::open(
        FUSECTL,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(io::Error::from)
    .and_then(|dir| open_in(dir.as_fd()))
    // Only a fusectl mount has the connection's directory: an empty /sys/fs/fuse/connections
    // (fusectl not mounted) has none.
    .inspect_err(|e| tracing::debug!(error = %e, "no connection directory in {FUSECTL}"));
    if let Ok(dir) = system {
        return Some(dir);
    }
    let private = private_fusectl()
        .and_then(|mnt| open_in(mnt.as_fd()))
        .inspect_err(|e| tracing::debug!(error = %e, "no private fusectl instance"));
    private.ok()
}

/// A fusectl mount attached nowhere. The descriptor opened relative to it keeps it (and the
/// superblock) alive after this one is closed.
fn private_fusectl() -> io::Result<OwnedFd> {
    use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};
    let fs = rustix::mount::fsopen("fusectl", FsOpenFlags::FSOPEN_CLOEXEC)?;
    rustix::mount::fsconfig_create(&fs)?;
    Ok(rustix::mount::fsmount(
        &fs,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::empty(),
    )?)
}
