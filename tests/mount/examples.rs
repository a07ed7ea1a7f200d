//! The examples as a user runs them: `cargo run --example NAME -- -f DIR`, use the mount, then
//! Ctrl-C (SIGINT) unmounts and leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::mount::common::{CALL_TIMEOUT, fuse_available, is_mounted, wait_unmounted, within};

/// `target/<profile>/examples/NAME`, built (or brought up to date) once per test run.
///
/// `cargo test` builds examples that have their own unit tests (`test = true`) only as test
/// harnesses, never as runnable binaries, and a binary left by an earlier build may be stale;
/// so the binary is always built here, with the same profile as this test binary.
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let bin = profile_dir.join("examples").join(name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args([
                "build",
                "--quiet",
                "-p",
                "fusegen-examples",
                "--example",
                name,
            ])
            .arg("--manifest-path")
            .arg(&manifest);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("run cargo build --example");
        assert!(status.success(), "cargo build --example {name} failed");
        built.push(name.to_string());
    }
    assert!(bin.exists(), "{} missing after the build", bin.display());
    bin
}

/// A running example process with its mount; killed and unmounted on drop.
pub struct Example {
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Example {
    /// Starts `name` with `args` followed by a fresh mountpoint, and waits for the mount.
    pub fn start(name: &str, args: &[&str]) -> Example {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(example_binary(name))
            .arg("-f") // foreground: this process serves, and SIGINT unmounts
            .args(args)
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start example");
        let deadline = Instant::now() + CALL_TIMEOUT;
        while !is_mounted(dir.path()) {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{name} exited early: {status}");
            }
            assert!(Instant::now() < deadline, "{name} did not mount");
            std::thread::sleep(Duration::from_millis(20));
        }
        Example {
            child: Some(child),
            dir,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sends SIGINT (Ctrl-C), waits for a clean exit, and checks the mount is gone.
    pub fn interrupt(mut self) {
        let child = self.child.take().expect("running");
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        let out = within(CALL_TIMEOUT, "example to exit", move || {
            child.wait_with_output()
        })
        .unwrap();
        assert!(
            out.status.success(),
            "example failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            wait_unmounted(self.dir.path(), Duration::from_secs(5)),
            "Ctrl-C left the mount behind"
        );
    }
}

impl Example {
    /// `kill -9` of the daemon, as a crash: the mount is left dead (`ENOTCONN`), so it is
    /// detached here (`umount -l`), and must be gone afterwards.
    pub fn kill9(mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL the example");
        within(CALL_TIMEOUT, "killed example to exit", move || child.wait()).unwrap();
        let _ = nix::mount::umount2(self.dir.path(), nix::mount::MntFlags::MNT_DETACH);
        assert!(
            wait_unmounted(self.dir.path(), Duration::from_secs(5)),
            "the dead mount is still there"
        );
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if is_mounted(self.dir.path()) {
            let _ = nix::mount::umount2(self.dir.path(), nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

fn read(path: PathBuf) -> String {
    within(CALL_TIMEOUT, "read", move || std::fs::read_to_string(path)).unwrap()
}

#[test]
fn hello_example_mounts_serves_and_unmounts_on_ctrl_c() {
    let Some(()) = fuse_available("hello_example_mounts_serves_and_unmounts_on_ctrl_c") else {
        return;
    };
    let ex = Example::start("hello", &[]);
    assert_eq!(read(ex.path().join("hello")), "Hello World!\n");
    let file = ex.path().join("hello");
    let err = within(CALL_TIMEOUT, "write hello", move || {
        std::fs::write(file, "x")
    })
    .unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::EROFS),
        "hello is mounted read-only"
    );
    let root = ex.path().to_path_buf();
    let names: Vec<String> = within(CALL_TIMEOUT, "ls", move || {
        std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    });
    assert_eq!(names, ["hello"]);
    ex.interrupt();
}

#[test]
fn counter_example_adds_concurrent_writes_without_losing_any() {
    let Some(()) = fuse_available("counter_example_adds_concurrent_writes_without_losing_any")
    else {
        return;
    };
    let ex = Example::start("counter", &[]);
    let file = ex.path().join("counter");
    assert_eq!(read(file.clone()), "0\n");
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let file = file.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    within(CALL_TIMEOUT, "write", {
                        let file = file.clone();
                        // Append: `>`-style writes would truncate, which resets the counter.
                        move || {
                            use std::io::Write;
                            std::fs::OpenOptions::new()
                                .append(true)
                                .open(file)?
                                .write_all(b"1")
                        }
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(read(file.clone()), "400\n");
    let f = file.clone();
    within(CALL_TIMEOUT, "truncate", move || {
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(f)
    })
    .unwrap();
    assert_eq!(read(file), "0\n");
    ex.interrupt();
}

#[test]
fn doctor_example_reports_a_working_machine() {
    let Some(()) = fuse_available("doctor_example_reports_a_working_machine") else {
        return;
    };
    let bin = example_binary("doctor");
    let out = within(CALL_TIMEOUT, "doctor", move || Command::new(bin).output()).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "doctor found failures:\n{text}");
    assert!(
        text.contains("FUSE protocol") && text.contains("kernel offers:"),
        "{text}"
    );
}
