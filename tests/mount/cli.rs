//! The examples' shared command line (`fusegen::cli`) as a user meets it: `--help`, a
//! mistyped `-o` option, detaching without `-f` (the command returns with the mount live),
//! and a mount failure reported by the detached process through the command.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::examples::example_binary;
use crate::mount::common::{CALL_TIMEOUT, fuse_available, is_mounted, wait_unmounted, within};

fn run(name: &str, args: &[&str]) -> Output {
    let bin = example_binary(name);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    within(CALL_TIMEOUT, "the example to exit", move || {
        Command::new(bin).args(args).output()
    })
    .expect("run the example")
}

/// Pids of the processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

/// Unmounts `dir` if still mounted (a failed test must not leave a mount behind).
struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        if is_mounted(self.0) {
            let _ = nix::mount::umount2(self.0, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

#[test]
fn help_prints_the_usage_and_exits_0() {
    let out = run("hello", &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for part in [
        "Usage:",
        "-o <OPT[,OPT...]>",
        "-f, --foreground",
        "-d, --debug",
        "<MOUNTPOINT>",
    ] {
        assert!(text.contains(part), "{part} missing from --help:\n{text}");
    }
    assert!(!text.contains("flatten"), "rustdoc text in --help:\n{text}");
    let memfs = run("memfs", &["--help"]);
    assert_eq!(memfs.status.code(), Some(0));
    let text = String::from_utf8_lossy(&memfs.stdout);
    assert!(
        text.contains("--size") && text.contains("-f, --foreground"),
        "{text}"
    );
}

#[test]
fn a_mistyped_mount_option_is_an_error_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let _guard = Unmount(dir.path());
    let out = run(
        "hello",
        &["-o", "ro,alow_other", dir.path().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("hello: ") && err.contains("did you mean `allow_other`?"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert!(!is_mounted(dir.path()));
}

#[test]
fn usage_errors_exit_1_on_stderr() {
    let missing = run("hello", &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("<MOUNTPOINT>"));
    let unknown = run("memfs", &["--sise", "1M", "/tmp"]);
    assert_eq!(unknown.status.code(), Some(1));
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(err.contains("--sise") && err.contains("--size"), "{err}");
}

#[test]
fn without_foreground_the_command_returns_with_the_mount_live() {
    let Some(()) = fuse_available("without_foreground_the_command_returns_with_the_mount_live")
    else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("detached-")
        .tempdir()
        .unwrap();
    let _guard = Unmount(dir.path());
    let mountpoint = dir.path().to_str().unwrap().to_string();
    let out = run("hello", &[&mountpoint]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No waiting: the command returned only once the mount existed.
    assert!(is_mounted(dir.path()), "hello returned before mounting");
    let file = dir.path().join("hello");
    let text = within(CALL_TIMEOUT, "read hello", move || {
        std::fs::read_to_string(file)
    });
    assert_eq!(text.unwrap(), "Hello World!\n");
    let daemons = processes_mentioning(&mountpoint);
    assert_eq!(daemons.len(), 1, "one background process serves the mount");

    // An external unmount ends the background process.
    nix::mount::umount2(dir.path(), nix::mount::MntFlags::empty()).expect("umount");
    assert!(wait_unmounted(dir.path(), Duration::from_secs(5)));
    let deadline = Instant::now() + CALL_TIMEOUT;
    while !processes_mentioning(&mountpoint).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the background process outlived its mount"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_detached_mount_failure_is_reported_by_the_command() {
    let Some(()) = fuse_available("a_detached_mount_failure_is_reported_by_the_command") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-there");
    let out = run("hello", &[missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // Written by the background process, printed by the command.
    assert!(
        err.starts_with("hello: ") && err.contains("does not exist") && err.contains("not-there"),
        "{err}"
    );
    assert!(processes_mentioning(missing.to_str().unwrap()).is_empty());
}
