//! Real mounts, run as root: error cases of `mount()` that need no session, and mounts that
//! are unmounted before any `FUSE_INIT` (no daemon ever answers here).
//!
//! Never `stat`/`ls` a mountpoint mounted here: the kernel would wait for INIT forever. Every
//! check reads `/proc/self/mountinfo` instead, and every test holds a `Scratch` guard that
//! detaches the mount even if the test panics.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::mount::{MntFlags, umount2};
use tempfile::TempDir;

use super::mountinfo::fuse_mounted_at;
use super::{Mount, MountError, MountMethod, MountOptions, fusermount, mount, watcher};

/// A temporary directory with an empty `mnt/` in it. On drop, detaches whatever FUSE mount
/// is still on `mnt/`; if that fails, leaks the directory rather than let `TempDir` recurse
/// into a live mount.
struct Scratch {
    dir: Option<TempDir>,
    mountpoint: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("fusegen-mount-")
            .tempdir()
            .unwrap_or_else(|e| panic!("tempdir: {e}"));
        let mountpoint = dir.path().join("mnt");
        std::fs::create_dir(&mountpoint).unwrap_or_else(|e| panic!("mkdir: {e}"));
        // Canonical, to compare with mountinfo (the directory is not mounted yet, so this
        // stat is safe).
        let mountpoint =
            std::fs::canonicalize(&mountpoint).unwrap_or_else(|e| panic!("canonicalize: {e}"));
        Scratch {
            dir: Some(dir),
            mountpoint,
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for _ in 0..10 {
            if fuse_mounted_at(&self.mountpoint) == Some(false) {
                return;
            }
            let _ = umount2(&self.mountpoint, MntFlags::MNT_DETACH);
        }
        eprintln!("leaking {}: still mounted", self.mountpoint.display());
        if let Some(dir) = self.dir.take() {
            let _ = dir.keep();
        }
    }
}

fn can_mount_directly(test: &str) -> bool {
    let ok = nix::unistd::geteuid().is_root() && Path::new("/dev/fuse").exists();
    if !ok {
        eprintln!("skipping {test}: needs root and /dev/fuse");
    }
    ok
}

fn can_use_fusermount(test: &str) -> bool {
    let ok = Path::new("/dev/fuse").exists() && fusermount::find().is_some();
    if !ok {
        eprintln!("skipping {test}: needs /dev/fuse and fusermount3");
    }
    ok
}

fn is_mounted(path: &Path) -> bool {
    fuse_mounted_at(path) == Some(true)
}

/// The raw mountinfo line for `path` (test paths contain no characters needing escapes).
fn mountinfo_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let wanted = path.to_str()?;
    text.lines()
        .find(|l| l.split(' ').nth(4) == Some(wanted))
        .map(str::to_owned)
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

fn must_mount(path: &Path, opts: &MountOptions) -> (OwnedFd, Mount) {
    mount(path, opts).unwrap_or_else(|e| panic!("mount {}: {e}", path.display()))
}

fn assert_cloexec(fd: &OwnedFd) {
    let flags = fcntl(fd, FcntlArg::F_GETFD).unwrap_or_else(|e| panic!("F_GETFD: {e}"));
    assert!(FdFlag::from_bits_truncate(flags).contains(FdFlag::FD_CLOEXEC));
}

fn unmount_and_check(m: &mut Mount) {
    m.unmount().unwrap_or_else(|e| panic!("unmount: {e}"));
    assert!(
        !is_mounted(m.mountpoint()),
        "still in mountinfo after unmount"
    );
    // Idempotent.
    m.unmount()
        .unwrap_or_else(|e| panic!("second unmount: {e}"));
}

#[test]
fn missing_mountpoint_is_reported() {
    let dir = TempDir::new().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("absent");
    match mount(&path, &MountOptions::default()) {
        Err(e @ MountError::MountpointMissing(_)) => assert!(e.to_string().contains("mkdir -p")),
        other => panic!("expected MountpointMissing, got {other:?}"),
    }
    assert!(matches!(
        mount(Path::new(""), &MountOptions::default()),
        Err(MountError::MountpointMissing(_))
    ));
}

#[test]
fn file_as_mountpoint_is_not_a_directory() {
    let dir = TempDir::new().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        mount(&file, &MountOptions::default()),
        Err(MountError::NotADirectory(_))
    ));
    let below = file.join("sub");
    assert!(matches!(
        mount(&below, &MountOptions::default()),
        Err(MountError::NotADirectory(_))
    ));
}

#[test]
fn invalid_options_fail_before_mounting() {
    let s = Scratch::new();
    let opts = MountOptions::default()
        .auto_unmount(true)
        .method(MountMethod::Direct);
    assert!(matches!(
        mount(&s.mountpoint, &opts),
        Err(MountError::InvalidOption { .. })
    ));
    assert!(!is_mounted(&s.mountpoint));
}

#[test]
fn direct_mount_then_unmount() {
    if !can_mount_directly("direct_mount_then_unmount") {
        return;
    }
    let s = Scratch::new();
    let opts = MountOptions::default()
        .fsname("fusegen-test")
        .subtype("unit")
        .method(MountMethod::Direct);
    let (fd, mut m) = must_mount(&s.mountpoint, &opts);
    assert_eq!(m.method(), MountMethod::Direct);
    assert_eq!(m.mountpoint(), s.mountpoint);
    assert_cloexec(&fd);
    let line = mountinfo_line(&s.mountpoint).unwrap_or_default();
    assert!(line.contains(" - fuse.unit fusegen-test "), "{line}");
    assert!(
        line.contains("nosuid,nodev") && line.contains("default_permissions"),
        "{line}"
    );
    unmount_and_check(&mut m);
    drop(fd);
}

#[test]
fn auto_method_as_root_mounts_directly() {
    if !can_mount_directly("auto_method_as_root_mounts_directly") {
        return;
    }
    let s = Scratch::new();
    let (_fd, mut m) = must_mount(&s.mountpoint, &MountOptions::default().read_only(true));
    assert_eq!(m.method(), MountMethod::Direct);
    let line = mountinfo_line(&s.mountpoint).unwrap_or_default();
    assert!(
        line.contains(" ro,") && line.contains(" - fuse fusegen "),
        "{line}"
    );
    unmount_and_check(&mut m);
}

#[test]
fn fusermount_mount_then_unmount() {
    if !can_use_fusermount("fusermount_mount_then_unmount") {
        return;
    }
    let s = Scratch::new();
    let opts = MountOptions::parse([
        r"fsname=a\,b,subtype=unit,ro,allow_other,nonempty,mount_method=fusermount",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let (fd, mut m) = must_mount(&s.mountpoint, &opts);
    assert_eq!(m.method(), MountMethod::Fusermount);
    assert!(m.helper.is_none(), "no helper without auto_unmount");
    assert_cloexec(&fd);
    let line = mountinfo_line(&s.mountpoint).unwrap_or_default();
    assert!(line.contains(" - fuse.unit a,b "), "{line}");
    assert!(
        line.contains(" ro,") && line.contains("allow_other"),
        "{line}"
    );
    unmount_and_check(&mut m);
}

#[test]
fn already_mounted_is_detected_without_blocking() {
    if !can_mount_directly("already_mounted_is_detected_without_blocking") {
        return;
    }
    let s = Scratch::new();
    let (fd, mut m) = must_mount(
        &s.mountpoint,
        &MountOptions::default().method(MountMethod::Direct),
    );
    for method in [
        MountMethod::Direct,
        MountMethod::Fusermount,
        MountMethod::Auto,
    ] {
        match mount(&s.mountpoint, &MountOptions::default().method(method)) {
            Err(MountError::AlreadyMounted(p)) => assert_eq!(p, s.mountpoint),
            other => panic!("{method}: expected AlreadyMounted, got {other:?}"),
        }
    }
    // With the device closed the mount is dead (ENOTCONN); still reported, still no hang.
    drop(fd);
    assert!(matches!(
        mount(&s.mountpoint, &MountOptions::default()),
        Err(MountError::AlreadyMounted(_))
    ));
    // Below a dead mount, lookups fail with ENOTCONN; the error names the dead mount. (Safe
    // only because the connection is aborted: nothing waits for INIT any more.)
    match mount(&s.mountpoint.join("sub"), &MountOptions::default()) {
        Err(MountError::AlreadyMounted(p)) => assert_eq!(p, s.mountpoint),
        other => panic!("expected AlreadyMounted below a dead mount, got {other:?}"),
    }
    unmount_and_check(&mut m);
}

#[test]
fn unmount_after_external_umount_is_ok() {
    if !can_mount_directly("unmount_after_external_umount_is_ok") {
        return;
    }
    let s = Scratch::new();
    let (_fd, mut m) = must_mount(&s.mountpoint, &MountOptions::default());
    umount2(&s.mountpoint, MntFlags::MNT_DETACH).unwrap_or_else(|e| panic!("umount2: {e}"));
    unmount_and_check(&mut m);
}

#[test]
fn unmount_through_fusermount3() {
    if !can_mount_directly("unmount_through_fusermount3")
        || !can_use_fusermount("unmount_through_fusermount3")
    {
        return;
    }
    let s = Scratch::new();
    let (_fd, mut m) = must_mount(&s.mountpoint, &MountOptions::default());
    let program = fusermount::find().unwrap_or_default();
    fusermount::unmount(&program, &s.mountpoint).unwrap_or_else(|e| panic!("fusermount3 -u: {e}"));
    assert!(!is_mounted(&s.mountpoint));
    // Unmounting a path that is no longer mounted is reported, not ignored, by the helper.
    assert!(matches!(
        fusermount::unmount(&program, &s.mountpoint),
        Err(MountError::FusermountFailed { .. })
    ));
    unmount_and_check(&mut m);
}

#[test]
fn drop_unmounts() {
    if !can_mount_directly("drop_unmounts") {
        return;
    }
    let s = Scratch::new();
    let (fd, m) = must_mount(&s.mountpoint, &MountOptions::default());
    assert!(is_mounted(&s.mountpoint));
    drop(m);
    assert!(!is_mounted(&s.mountpoint));
    drop(fd);
}

fn process_gone(pid: Option<u32>) -> bool {
    // A zombie still has a /proc entry, so this also proves the helper was reaped.
    pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
}

#[test]
fn auto_unmount_drop_unmounts_and_reaps() {
    if !can_use_fusermount("auto_unmount_drop_unmounts_and_reaps") {
        return;
    }
    let s = Scratch::new();
    let (fd, m) = must_mount(&s.mountpoint, &MountOptions::default().auto_unmount(true));
    assert_eq!(m.method(), MountMethod::Fusermount);
    let pid = m.helper.as_ref().map(fusermount::Helper::pid);
    assert!(pid.is_some(), "auto_unmount keeps fusermount3 running");
    let watcher = m.watcher.as_ref().map(watcher::Watcher::pid);
    assert!(watcher.is_some(), "auto_unmount starts fusegen's watcher");
    assert!(mountinfo_line(&s.mountpoint).is_some_and(|l| l.contains(" - fuse fusegen ")));
    drop(fd);
    drop(m);
    assert!(wait_until(Duration::from_secs(5), || !is_mounted(
        &s.mountpoint
    )));
    assert!(
        process_gone(pid),
        "fusermount3 helper left running or unreaped"
    );
    assert!(process_gone(watcher), "watcher left running or unreaped");
}

/// What a crash over io_uring looks like to fusermount3's helper: the process is gone but
/// the connection lives on (here: the device fd stays open), so the helper finds nothing to
/// do. fusegen's watcher, told of the death by EOF on its pipe, detaches the mount itself.
#[test]
fn auto_unmount_watcher_detaches_a_mount_whose_connection_outlives_the_process() {
    let test = "auto_unmount_watcher_detaches_a_mount_whose_connection_outlives_the_process";
    if !can_use_fusermount(test) {
        return;
    }
    let s = Scratch::new();
    let (fd, mut m) = must_mount(&s.mountpoint, &MountOptions::default().auto_unmount(true));
    let watcher = m.watcher.take().unwrap_or_else(|| panic!("no watcher"));
    let pid = Some(watcher.pid());
    // The pipe's write end closes as it would when the process dies; the session's device
    // fd does not (the ring would still hold it).
    watcher.release();
    assert!(
        !is_mounted(&s.mountpoint),
        "the watcher exited without detaching the mount"
    );
    assert!(process_gone(pid), "watcher left running or unreaped");
    // The helper sees the mount gone and leaves it at that.
    unmount_and_check(&mut m);
    drop(fd);
}

/// The mount ID and device are reused at once by the next mount at the same path; the
/// watcher must still tell that mount from its own (through fusectl).
#[test]
fn auto_unmount_watcher_leaves_a_later_mount_at_the_same_path_alone() {
    let test = "auto_unmount_watcher_leaves_a_later_mount_at_the_same_path_alone";
    if !can_use_fusermount(test) || !can_mount_directly(test) {
        return;
    }
    let s = Scratch::new();
    let (fd, mut m) = must_mount(&s.mountpoint, &MountOptions::default().auto_unmount(true));
    let first = super::mountinfo::identity(&s.mountpoint);
    // Someone else unmounts it and mounts another filesystem there.
    umount2(&s.mountpoint, MntFlags::MNT_DETACH).unwrap_or_else(|e| panic!("umount2: {e}"));
    drop(fd);
    let (other_fd, mut other) = must_mount(
        &s.mountpoint,
        &MountOptions::default().method(MountMethod::Direct),
    );
    let second = super::mountinfo::identity(&s.mountpoint);
    eprintln!("{test}: first {first:?}, then {second:?}");
    let watcher = m.watcher.take().unwrap_or_else(|| panic!("no watcher"));
    watcher.release();
    assert!(
        is_mounted(&s.mountpoint),
        "the watcher unmounted a later mount"
    );
    unmount_and_check(&mut other);
    unmount_and_check(&mut m);
    drop(other_fd);
}

/// A watcher told to stand down (normal unmount) exits without touching the mount, even one
/// still there.
#[test]
fn auto_unmount_watcher_dismissed_leaves_the_mount_alone() {
    let test = "auto_unmount_watcher_dismissed_leaves_the_mount_alone";
    if !can_use_fusermount(test) {
        return;
    }
    let s = Scratch::new();
    let (fd, mut m) = must_mount(&s.mountpoint, &MountOptions::default().auto_unmount(true));
    let watcher = m.watcher.take().unwrap_or_else(|| panic!("no watcher"));
    let pid = Some(watcher.pid());
    watcher.dismiss();
    assert!(process_gone(pid), "watcher left running or unreaped");
    assert!(is_mounted(&s.mountpoint), "a dismissed watcher unmounted");
    unmount_and_check(&mut m);
    drop(fd);
}

#[test]
fn auto_unmount_survives_our_death() {
    if !can_use_fusermount("auto_unmount_survives_our_death") {
        return;
    }
    let s = Scratch::new();
    let (fd, mut m) = must_mount(&s.mountpoint, &MountOptions::default().auto_unmount(true));
    // What a crash does: the device fd and the helper's socket close, nobody calls umount.
    drop(fd);
    let helper = m.helper.take();
    let pid = helper.as_ref().map(fusermount::Helper::pid);
    if let Some(helper) = helper {
        helper.close();
    }
    assert!(
        wait_until(Duration::from_secs(5), || !is_mounted(&s.mountpoint)),
        "fusermount3 did not unmount"
    );
    assert!(process_gone(pid));
    unmount_and_check(&mut m);
}

#[test]
fn blksize_is_explained() {
    if !can_mount_directly("blksize_is_explained") || !can_use_fusermount("blksize_is_explained") {
        return;
    }
    let s = Scratch::new();
    for method in [MountMethod::Direct, MountMethod::Fusermount] {
        let mut opts = MountOptions::default().method(method);
        opts.set("blksize=4096").unwrap_or_else(|e| panic!("{e}"));
        match mount(&s.mountpoint, &opts) {
            Err(MountError::InvalidOption { option, reason }) => {
                assert_eq!(option, "blksize=4096");
                assert!(reason.contains("fuseblk"), "{reason}");
            }
            other => panic!("{method}: expected InvalidOption, got {other:?}"),
        }
        assert!(!is_mounted(&s.mountpoint));
    }
}
