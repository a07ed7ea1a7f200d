//! The mount-test guard and helpers come from `fusegen::testing`, which users get too.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

use fusegen::{MountOptions, Workers};

use crate::mount::fixture::TestFs;

pub use fusegen::testing::{
    CALL_TIMEOUT, TestMount, fuse_available, is_mounted, wait_unmounted, within,
};

/// Polls `cond` until it holds; fails the test after [`CALL_TIMEOUT`].
pub fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + CALL_TIMEOUT;
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Mounts a `TestFs` with `options` (which must include `intr` and `direct_io`), blocks a
/// `cat` in the read handler of `slow`, signals it, and checks that the handler was cancelled
/// and the caller ended. Returns the mount, still serving, for further checks.
pub fn interrupt_a_slow_read(options: MountOptions) -> TestMount {
    let fs = TestFs::new(&[("slow", b"never read"), ("fine", b"ok")]);
    let probe = fs.probe.clone();
    let m = TestMount::start(fs, options, Workers::default()).expect("mount");
    let reader = signal_a_reader_in_its_handler(&m, &probe);
    // The gate is never opened: only the interrupt can end this read.
    let mut reader = reader;
    let status = within(CALL_TIMEOUT, "interrupted cat to exit", move || {
        reader.wait()
    })
    .unwrap();
    assert!(!status.success(), "cat was interrupted");
    eventually("the handler to be cancelled", || {
        probe.cancelled.load(Ordering::SeqCst) == 1
    });
    assert_eq!(probe.in_flight.load(Ordering::SeqCst), 0);
    m
}

/// Starts `cat` on the mount's `slow` file, waits until its read is in the handler, then
/// signals `cat` (SIGTERM, not SIGINT: a background job of a non-interactive shell, as CI may
/// run us, starts with SIGINT ignored, and `cat` would inherit that and never be interrupted).
pub fn signal_a_reader_in_its_handler(
    m: &TestMount,
    probe: &crate::mount::fixture::Probe,
) -> std::process::Child {
    let reader = start_a_reader_in_its_handler(m, probe);
    let pid = nix::unistd::Pid::from_raw(reader.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    reader
}

/// Starts `cat` on the mount's `slow` file and waits until its read is in the handler.
pub fn start_a_reader_in_its_handler(
    m: &TestMount,
    probe: &crate::mount::fixture::Probe,
) -> std::process::Child {
    let reader = Command::new("cat")
        .arg(m.join("slow"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    eventually("the read to reach its handler", || {
        probe.in_flight.load(Ordering::SeqCst) == 1
    });
    reader
}

/// The FUSE connection number of the mount at `path`: its device minor, the `0:N` in the
/// third field of `/proc/self/mountinfo`. `None` when it is not mounted.
#[allow(
    dead_code,
    reason = "not every test binary including this module aborts connections"
)]
pub fn connection_number(path: &Path) -> Option<u32> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let target = path.to_string_lossy();
    let line = info
        .lines()
        .find(|l| l.split(' ').nth(4) == Some(target.as_ref()))?;
    let (major, minor) = line.split(' ').nth(2)?.split_once(':')?;
    (major == "0").then_some(())?;
    minor.parse().ok()
}

/// Aborts FUSE connection `n` through `/sys/fs/fuse/connections/N/abort`, so that every call
/// stuck on it ends. When fusectl is not mounted there, mounts it in a private mount namespace
/// first, leaving this process's mounts as they are.
#[allow(
    dead_code,
    reason = "not every test binary including this module aborts connections"
)]
pub fn abort_connection(n: u32) -> Result<(), String> {
    let abort = format!("/sys/fs/fuse/connections/{n}/abort");
    if Path::new(&abort).exists() {
        return std::fs::write(&abort, "1").map_err(|e| format!("write {abort}: {e}"));
    }
    let script = format!("mount -t fusectl fusectl /sys/fs/fuse/connections && echo 1 > {abort}");
    let out = within(CALL_TIMEOUT, "abort through fusectl", move || {
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "/bin/sh", "-c"])
            .arg(script)
            .output()
    })
    .map_err(|e| format!("run unshare: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "aborting connection {n} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
