//! mount / main / terminate / close, as pyfuse3 defines them.

use std::time::Duration;

use fusegen::{MountOptions, Workers};

use crate::mount::common::{
    CALL_TIMEOUT, TestMount, fuse_available, is_mounted, wait_unmounted, within,
};
use crate::mount::fixture::TestFs;

fn hello_fs() -> TestFs {
    TestFs::new(&[("hello", b"Hello World!\n"), ("empty", b"")])
}

#[test]
fn mount_read_unmount() {
    let Some(()) = fuse_available("mount_read_unmount") else {
        return;
    };
    let fs = hello_fs();
    let probe = fs.probe.clone();
    let m = TestMount::new(fs);
    let file = m.join("hello");
    let data = within(CALL_TIMEOUT, "read hello", move || std::fs::read(file)).unwrap();
    assert_eq!(data, b"Hello World!\n");
    let root = m.path().to_path_buf();
    let mut names: Vec<String> = within(CALL_TIMEOUT, "readdir", move || {
        std::fs::read_dir(root).map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
    })
    .unwrap();
    names.sort();
    assert_eq!(names, ["empty", "hello"]);
    assert!(
        probe.initialized.load(std::sync::atomic::Ordering::SeqCst),
        "init handler ran"
    );
    let path = m.path().to_path_buf();
    drop(m);
    assert!(!is_mounted(&path), "dropping the TestMount unmounted it");
}

#[test]
fn missing_file_is_enoent() {
    let Some(()) = fuse_available("missing_file_is_enoent") else {
        return;
    };
    let m = TestMount::new(hello_fs());
    let file = m.join("nope");
    let err = within(CALL_TIMEOUT, "stat nope", move || std::fs::metadata(file)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
}

#[test]
fn terminate_from_another_os_thread_returns_main() {
    let Some(()) = fuse_available("terminate_from_another_os_thread_returns_main") else {
        return;
    };
    let mut m = TestMount::new(hello_fs());
    let handle = m.handle();
    std::thread::spawn(move || {
        handle.terminate();
        handle.terminate(); // idempotent
    })
    .join()
    .unwrap();
    assert_eq!(m.join_server(CALL_TIMEOUT), Ok(()));
    // The server thread closes the session after main returns, which unmounts.
    assert!(wait_unmounted(m.path(), CALL_TIMEOUT));
}

#[test]
fn close_twice_is_harmless_and_unmounts() {
    let Some(()) = fuse_available("close_twice_is_harmless_and_unmounts") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut session = fusegen::mount(hello_fs(), dir.path(), MountOptions::default()).unwrap();
    assert!(is_mounted(dir.path()));
    session.close(true);
    assert!(!is_mounted(dir.path()));
    session.close(true);
    session.close(false);
    // main after close is an error, not a hang or a panic.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt.block_on(session.main(Workers::default())).unwrap_err();
    assert!(err.to_string().contains("not running"), "{err}");
}

#[test]
fn drop_without_main_unmounts() {
    let Some(()) = fuse_available("drop_without_main_unmounts") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let session = fusegen::mount(hello_fs(), dir.path(), MountOptions::default()).unwrap();
    assert!(is_mounted(dir.path()));
    drop(session);
    assert!(!is_mounted(dir.path()));
}

#[test]
fn ten_rapid_mount_unmount_cycles() {
    let Some(()) = fuse_available("ten_rapid_mount_unmount_cycles") else {
        return;
    };
    for i in 0..10 {
        let m = TestMount::new(hello_fs());
        let file = m.join("hello");
        let data = within(CALL_TIMEOUT, "read", move || std::fs::read(file)).unwrap();
        assert_eq!(data, b"Hello World!\n", "cycle {i}");
        let path = m.path().to_path_buf();
        drop(m);
        assert!(!is_mounted(&path), "cycle {i} left a mount");
    }
}

#[test]
fn external_umount_makes_main_return() {
    let Some(()) = fuse_available("external_umount_makes_main_return") else {
        return;
    };
    let fs = hello_fs();
    let probe = fs.probe.clone();
    let mut m = TestMount::new(fs);
    let path = m.path().to_path_buf();
    // A concurrent test that forks can hold a transient reference (EBUSY); retry briefly.
    let mut last = String::new();
    let unmounted = (0..20).any(|_| {
        let out = std::process::Command::new("umount")
            .arg(&path)
            .output()
            .expect("run umount");
        last = String::from_utf8_lossy(&out.stderr).into_owned();
        out.status.success() || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            false
        }
    });
    assert!(unmounted, "umount kept failing: {last}");
    assert_eq!(m.join_server(CALL_TIMEOUT), Ok(()));
    assert!(
        probe.destroyed.load(std::sync::atomic::Ordering::SeqCst),
        "destroy ran on unmount"
    );
}

#[test]
fn external_fusermount_unmount_makes_main_return() {
    let Some(()) = fuse_available("external_fusermount_unmount_makes_main_return") else {
        return;
    };
    let mut m = TestMount::new(hello_fs());
    let status = std::process::Command::new("fusermount3")
        .arg("-u")
        .arg(m.path())
        .status()
        .expect("fusermount3 must be installed (.ci/run installs fuse3)");
    assert!(status.success(), "fusermount3 -u failed: {status}");
    assert_eq!(m.join_server(CALL_TIMEOUT), Ok(()));
}

#[test]
fn two_filesystems_in_one_process() {
    let Some(()) = fuse_available("two_filesystems_in_one_process") else {
        return;
    };
    let a = TestMount::new(TestFs::new(&[("a", b"first")]));
    let b = TestMount::new(TestFs::new(&[("b", b"second")]));
    let (fa, fb) = (a.join("a"), b.join("b"));
    assert_eq!(
        within(CALL_TIMEOUT, "read a", move || std::fs::read(fa)).unwrap(),
        b"first"
    );
    assert_eq!(
        within(CALL_TIMEOUT, "read b", move || std::fs::read(fb)).unwrap(),
        b"second"
    );
    let missing = a.join("b");
    assert!(within(CALL_TIMEOUT, "stat a/b", move || std::fs::metadata(missing)).is_err());
}

#[test]
fn terminate_before_main_returns_immediately() {
    let Some(()) = fuse_available("terminate_before_main_returns_immediately") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut session = fusegen::mount(hello_fs(), dir.path(), MountOptions::default()).unwrap();
    session.handle().terminate();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), session.main(Workers::default()))
            .await
            .expect("main returned")
            .expect("main succeeded")
    });
    session.close(true);
    assert!(!is_mounted(dir.path()));
}
