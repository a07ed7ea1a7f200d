//! A filesystem process that dies or hangs: what it leaves behind and how that is cleared
//! (`docs/operations.md`).
//!
//! The filesystem runs in a child process: this test binary, run again for `crash::crash_child`
//! alone with [`CHILD_DIR`] set, mounts a trivial filesystem with `fusegen::mount` and serves it
//! until it is killed. Every test leaves no mount behind, also when it fails: the [`Daemon`]
//! guard kills the child and detaches whatever is still mounted.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fusegen::prelude::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::mount::common::{
    CALL_TIMEOUT, abort_connection, connection_number, fuse_available, is_mounted, wait_unmounted,
    within,
};

/// How soon after `kill -9` an `auto_unmount` mount must be gone (fusermount3's helper and
/// fusegen's watcher both act within milliseconds).
const AUTO_UNMOUNT_DEADLINE: Duration = Duration::from_secs(5);

/// The mountpoint, for the child.
const CHILD_DIR: &str = "FUSEGEN_CRASH_DIR";
/// Mount options (`-o` syntax), for the child.
const CHILD_OPTIONS: &str = "FUSEGEN_CRASH_OPTIONS";

/// Only a root directory. Nothing is cached, so every `stat` is a request: a dead or hung
/// server shows at once.
#[derive(Filesystem)]
#[fuse(fsname = "crash", attr_timeout = 0, entry_timeout = 0)]
struct Trivial;

#[fusegen::handlers]
impl Trivial {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        match ino {
            Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
            _ => Err(Errno::ENOENT),
        }
    }
}

/// Not a test of its own: the filesystem process of the tests below. Without [`CHILD_DIR`]
/// it does nothing.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let mut options = Trivial::mount_options();
    let extra = std::env::var(CHILD_OPTIONS).unwrap_or_default();
    if !extra.is_empty() {
        options.set(&extra).expect("child mount options");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut session = fusegen::mount(Trivial, &dir, options).expect("child mount");
        println!("SERVING {}", std::process::id());
        // Serves until killed; returns only if unmounted from outside.
        let result = session.main(Workers::default()).await;
        session.close(true);
        result
    })
    .expect("child session");
}

/// The filesystem process and its mountpoint. On drop: killed, reaped, and its mount (if any
/// is left) detached.
struct Daemon {
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts a child serving a fresh mountpoint with `options`; returns once it answers.
    fn start(options: &str) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("fusegen-crash-")
            .tempdir()
            .unwrap();
        let child = Command::new(std::env::current_exe().expect("test binary path"))
            .args([
                "--exact",
                "crash::crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_OPTIONS, options)
            // These tests pin down /dev/fuse crash semantics. Over io_uring the kernel tears
            // the ring down asynchronously after a SIGKILL (a stat in that window gets
            // ECONNABORTED, and fusermount3's auto_unmount finds nothing to do: fusegen's own
            // watcher detaches the mount, tested in tests/mount/uring.rs) and cannot abort a
            // request already handed to a stopped server's entry: docs/io_uring.md.
            .env(fusegen::TRANSPORT_ENV, "dev")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the filesystem process");
        let mut daemon = Daemon {
            child: Some(child),
            dir,
        };
        let deadline = Instant::now() + CALL_TIMEOUT;
        while !is_mounted(daemon.path()) {
            let child = daemon.child.as_mut().unwrap();
            if let Ok(Some(_)) = child.try_wait() {
                let out = daemon.child.take().unwrap().wait_with_output().unwrap();
                panic!(
                    "the filesystem process exited before mounting ({})\nstdout:\n{}\nstderr:\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            assert!(Instant::now() < deadline, "the child did not mount");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(stat(daemon.path()), Ok(()), "the live mount answers");
        daemon
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn signal(&self, signal: Signal) {
        let child = self.child.as_ref().expect("running");
        kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    }

    /// Waits until every thread of the process has stopped (after SIGSTOP): until then one
    /// of them may still answer a request.
    fn wait_stopped(&self) {
        let pid = self.child.as_ref().expect("running").id();
        let all_stopped = || {
            let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
                return false;
            };
            tasks.filter_map(|t| t.ok()).all(|t| {
                // `pid (comm) STATE ...`; comm may contain spaces, so look after the last ')'.
                std::fs::read_to_string(t.path().join("stat"))
                    .ok()
                    .and_then(|s| {
                        s.rsplit_once(')')
                            .map(|(_, rest)| rest.trim_start().starts_with('T'))
                    })
                    .unwrap_or(false)
            })
        };
        let deadline = Instant::now() + CALL_TIMEOUT;
        while !all_stopped() {
            assert!(Instant::now() < deadline, "the process did not stop");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `kill -9`, and reap the process.
    fn kill9(&mut self) {
        self.signal(Signal::SIGKILL);
        let mut child = self.child.take().unwrap();
        within(CALL_TIMEOUT, "the killed process to be reaped", move || {
            child.wait()
        })
        .unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGKILL also ends a stopped process, and closing its /dev/fuse descriptor ends
        // every request still waiting for it.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for _ in 0..10 {
            if !is_mounted(self.path()) {
                break;
            }
            let _ = nix::mount::umount2(self.path(), nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// `stat` on its own thread, bounded: `Ok(())` or the errno.
fn stat(path: &Path) -> Result<(), i32> {
    let path = path.to_path_buf();
    within(CALL_TIMEOUT, "stat", move || std::fs::metadata(path))
        .map(|_| ())
        .map_err(|e| e.raw_os_error().unwrap_or(0))
}

fn fusermount3() -> Option<&'static str> {
    ["/usr/bin/fusermount3", "/bin/fusermount3"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

fn run(program: &str, args: &[&str], path: &Path) -> std::process::Output {
    let mut cmd = Command::new(program);
    cmd.args(args).arg(path);
    let what = format!("{program} {args:?}");
    within(CALL_TIMEOUT, &what, move || cmd.output()).expect("run the unmount command")
}

#[test]
fn with_auto_unmount_a_killed_filesystem_leaves_no_mount() {
    let Some(()) = fuse_available("with_auto_unmount_a_killed_filesystem_leaves_no_mount") else {
        return;
    };
    if fusermount3().is_none() {
        eprintln!("skipping: auto_unmount needs fusermount3 (apt-get install fuse3)");
        return;
    }
    let mut fs = Daemon::start("auto_unmount");
    let n = connection_number(fs.path()).expect("the daemon's mount is in mountinfo");
    let killed = Instant::now();
    fs.kill9();
    let gone = wait_unmounted(fs.path(), AUTO_UNMOUNT_DEADLINE);
    if !gone {
        // Daemon's drop detaches the mount; end whatever waits on the connection too.
        let _ = abort_connection(n);
    }
    assert!(
        gone,
        "still mounted {AUTO_UNMOUNT_DEADLINE:?} after the filesystem process was killed"
    );
    eprintln!(
        "with_auto_unmount_a_killed_filesystem_leaves_no_mount: unmounted {:?} after SIGKILL",
        killed.elapsed()
    );
    assert_eq!(
        stat(fs.path()),
        Ok(()),
        "the mountpoint is a plain directory again"
    );
}

/// Kills a filesystem mounted without `auto_unmount` and checks the dead mount it leaves.
fn killed_without_auto_unmount() -> Daemon {
    let mut fs = Daemon::start("");
    fs.kill9();
    assert!(
        is_mounted(fs.path()),
        "a dead mount stays without auto_unmount"
    );
    assert_eq!(
        stat(fs.path()),
        Err(libc::ENOTCONN),
        "a dead mount answers ENOTCONN"
    );
    let path = fs.path().to_path_buf();
    let listed = within(CALL_TIMEOUT, "readdir", move || {
        std::fs::read_dir(path).map(|_| ())
    });
    assert_eq!(
        listed.map_err(|e| e.raw_os_error()),
        Err(Some(libc::ENOTCONN))
    );
    fs
}

#[test]
fn without_auto_unmount_a_killed_filesystem_answers_enotconn_until_fusermount3_u() {
    let Some(()) = fuse_available(
        "without_auto_unmount_a_killed_filesystem_answers_enotconn_until_fusermount3_u",
    ) else {
        return;
    };
    let Some(fusermount3) = fusermount3() else {
        eprintln!("skipping: needs fusermount3 (apt-get install fuse3)");
        return;
    };
    let fs = killed_without_auto_unmount();
    let out = run(fusermount3, &["-u"], fs.path());
    assert!(
        out.status.success(),
        "fusermount3 -u failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !is_mounted(fs.path()),
        "fusermount3 -u removed the dead mount"
    );
    assert_eq!(stat(fs.path()), Ok(()));
}

#[test]
fn without_auto_unmount_a_killed_filesystem_answers_enotconn_until_umount() {
    let Some(()) =
        fuse_available("without_auto_unmount_a_killed_filesystem_answers_enotconn_until_umount")
    else {
        return;
    };
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipping: umount(8) needs root");
        return;
    }
    let fs = killed_without_auto_unmount();
    let out = run("/usr/bin/umount", &[], fs.path());
    assert!(
        out.status.success(),
        "umount failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!is_mounted(fs.path()), "umount removed the dead mount");
    assert_eq!(stat(fs.path()), Ok(()));
}

#[test]
fn a_hung_filesystem_is_released_by_aborting_its_connection() {
    let Some(()) = fuse_available("a_hung_filesystem_is_released_by_aborting_its_connection")
    else {
        return;
    };
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipping: writing to /sys/fs/fuse/connections needs root");
        return;
    }
    let mut fs = Daemon::start("");
    // A stopped process never answers: from now on every request waits.
    fs.signal(Signal::SIGSTOP);
    fs.wait_stopped();
    let (tx, rx) = mpsc::channel();
    let path = fs.path().to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(std::fs::metadata(path).map_err(|e| e.raw_os_error()));
    });
    // Cannot pass while the server is stopped (nothing is cached); a short look is enough.
    let early = rx.recv_timeout(Duration::from_millis(300));
    assert!(
        matches!(early, Err(mpsc::RecvTimeoutError::Timeout)),
        "stat of a stopped filesystem waits, but returned {early:?}"
    );

    let n = connection_number(fs.path()).expect("the mount is in mountinfo");
    abort_connection(n).expect("abort through fusectl");
    let waiting = rx
        .recv_timeout(CALL_TIMEOUT)
        .expect("the abort ended the waiting stat");
    // Requests pending at the abort end with ECONNABORTED, later ones with ENOTCONN.
    assert_eq!(waiting.map(|_| ()), Err(Some(libc::ECONNABORTED)));
    assert_eq!(stat(fs.path()), Err(libc::ENOTCONN));

    // The process is still there (stopped) but the mount is dead; unmount it.
    let out = run("/usr/bin/umount", &[], fs.path());
    assert!(
        out.status.success(),
        "umount failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!is_mounted(fs.path()));
    fs.kill9();
}
