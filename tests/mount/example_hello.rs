//! The `hello` example as a user runs it: `cargo run --example hello -- DIR`, `cat DIR/hello`,
//! then Ctrl-C (SIGINT) unmounts and leaves nothing behind.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::mount::common::{CALL_TIMEOUT, fuse_available, is_mounted, wait_unmounted, within};

/// `target/<profile>/examples/hello`, built next to this test binary by `cargo test`.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let bin = profile_dir.join("examples").join("hello");
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "hello"])
            .status()
            .expect("cargo build --example hello");
        assert!(status.success());
    }
    bin
}

#[test]
fn hello_example_mounts_serves_and_unmounts_on_ctrl_c() {
    let Some(()) = fuse_available("hello_example_mounts_serves_and_unmounts_on_ctrl_c") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(example_binary())
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hello example");
    let deadline = Instant::now() + CALL_TIMEOUT;
    while !is_mounted(dir.path()) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("hello exited early: {status}");
        }
        assert!(Instant::now() < deadline, "hello did not mount");
        std::thread::sleep(Duration::from_millis(20));
    }
    let file = dir.path().join("hello");
    let text = within(CALL_TIMEOUT, "cat hello", move || {
        std::fs::read_to_string(file)
    })
    .unwrap();
    assert_eq!(text, "Hello World!\n");
    let file = dir.path().join("hello");
    let err = within(CALL_TIMEOUT, "write hello", move || {
        std::fs::write(file, "x")
    })
    .unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::EROFS),
        "hello is mounted read-only"
    );

    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = within(CALL_TIMEOUT, "hello to exit", move || {
        child.wait_with_output()
    })
    .unwrap();
    assert!(
        status.status.success(),
        "hello failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        wait_unmounted(dir.path(), Duration::from_secs(5)),
        "Ctrl-C left the mount behind"
    );
}
