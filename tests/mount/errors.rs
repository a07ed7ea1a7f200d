//! Every mount failure yields its own `MountError` variant with an actionable message.
//!
//! Cases that need another user or a missing device/helper re-run this test binary in a child
//! process (as `nobody`, or inside a private mount namespace where `/dev` or `fusermount3` is
//! hidden), which performs one mount and prints the outcome.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use fusegen::{MountError, MountMethod, MountOptions};

use crate::mount::common::{TestMount, fuse_available, is_mounted};
use crate::mount::fixture::TestFs;

fn fs() -> TestFs {
    TestFs::new(&[("f", b"x")])
}

fn mount_err(path: &Path, options: MountOptions) -> MountError {
    match fusegen::mount(fs(), path, options) {
        Ok(_) => panic!("mounting on {} unexpectedly succeeded", path.display()),
        Err(fusegen::Error::Mount(e)) => e,
        Err(other) => panic!("expected a mount error, got {other}"),
    }
}

#[test]
fn missing_mountpoint() {
    let Some(()) = fuse_available("missing_mountpoint") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("does-not-exist");
    let err = mount_err(&path, MountOptions::default());
    assert!(matches!(err, MountError::MountpointMissing(_)), "{err:?}");
    assert!(
        err.to_string().contains("mkdir -p"),
        "message says what to do: {err}"
    );
}

#[test]
fn mountpoint_is_a_file() {
    let Some(()) = fuse_available("mountpoint_is_a_file") else {
        return;
    };
    let file = tempfile::NamedTempFile::new().unwrap();
    let err = mount_err(file.path(), MountOptions::default());
    assert!(matches!(err, MountError::NotADirectory(_)), "{err:?}");
}

#[test]
fn already_mounted() {
    let Some(()) = fuse_available("already_mounted") else {
        return;
    };
    let m = TestMount::new(fs());
    let err = mount_err(m.path(), MountOptions::default());
    assert!(matches!(err, MountError::AlreadyMounted(_)), "{err:?}");
    assert!(err.to_string().contains("fusermount3 -u"), "{err}");
    // The first mount is untouched.
    assert!(is_mounted(m.path()));
}

#[test]
fn invalid_option_names_the_option_and_suggests() {
    let err = MountOptions::parse(["alow_other"]).unwrap_err();
    assert!(matches!(err, MountError::InvalidOption { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("alow_other") && msg.contains("allow_other"),
        "{msg}"
    );
    let err = MountOptions::parse(["attr_timeout=soon"]).unwrap_err();
    assert!(err.to_string().contains("attr_timeout"), "{err}");
}

/// Runs this test binary's `child_probe` in a child process and returns its outcome line.
fn probe_in_child(scenario: &str, configure: impl FnOnce(&mut Command)) -> String {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "errors::child_probe",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("FUSEGEN_CHILD_SCENARIO", scenario);
    configure(&mut cmd);
    let out = cmd.output().expect("spawn child test process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("OUTCOME ").map(|(_, o)| o))
        .map(str::to_string)
        .unwrap_or_else(|| {
            panic!(
                "child printed no outcome; status {}\nstdout:\n{stdout}\nstderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// Wraps the child in a private mount namespace with `setup` applied first.
fn in_namespace(cmd: &mut Command, setup: &str) {
    let exe = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut script = format!("{setup} && exec \"$0\"");
    for i in 1..=args.len() {
        script.push_str(&format!(" \"${i}\""));
    }
    // Absolute paths: the child may run with a PATH that finds nothing.
    let mut wrapped = Command::new("/usr/bin/unshare");
    wrapped
        .args([
            "--mount",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            &script,
        ])
        .arg(exe)
        .args(args);
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            wrapped.env(k, v);
        }
    }
    *cmd = wrapped;
}

/// Not a test of its own: the body of the child processes above. Without the scenario
/// variable it does nothing.
#[test]
fn child_probe() {
    let Ok(scenario) = std::env::var("FUSEGEN_CHILD_SCENARIO") else {
        return;
    };
    let dir = std::env::var("FUSEGEN_CHILD_DIR").expect("FUSEGEN_CHILD_DIR");
    let method = match scenario.as_str() {
        "direct" => MountMethod::Direct,
        "fusermount" => MountMethod::Fusermount,
        _ => MountMethod::Auto,
    };
    let options = MountOptions::default().method(method);
    let outcome = match fusegen::mount(fs(), &dir, options) {
        Ok(mut session) => {
            session.close(true);
            "mounted".to_string()
        }
        Err(fusegen::Error::Mount(e)) => {
            let variant = format!("{e:?}");
            let name = variant
                .split(['(', ' ', '{'])
                .next()
                .unwrap_or_default()
                .to_string();
            format!("{name} {e}")
        }
        Err(e) => format!("other {e}"),
    };
    println!("OUTCOME {outcome}");
}

fn root_owned_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("fusegen-perm-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}

#[test]
fn unprivileged_user_on_a_directory_it_cannot_write_is_permission_denied() {
    let Some(()) =
        fuse_available("unprivileged_user_on_a_directory_it_cannot_write_is_permission_denied")
    else {
        return;
    };
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipping: needs root to switch to the nobody user");
        return;
    }
    let dir = root_owned_dir();
    let outcome = probe_in_child("auto", |c| {
        c.env("FUSEGEN_CHILD_DIR", dir.path()).uid(65534).gid(65534);
    });
    assert!(outcome.starts_with("PermissionDenied"), "{outcome}");
    assert!(!is_mounted(dir.path()));
}

#[test]
fn unprivileged_direct_mount_cannot_open_the_device() {
    let Some(()) = fuse_available("unprivileged_direct_mount_cannot_open_the_device") else {
        return;
    };
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipping: needs root to switch to the nobody user");
        return;
    }
    let dir = root_owned_dir();
    let outcome = probe_in_child("direct", |c| {
        c.env("FUSEGEN_CHILD_DIR", dir.path()).uid(65534).gid(65534);
    });
    // /dev/fuse is root-only here (0600) or, where it is world-writable, mount(2) is refused.
    assert!(
        outcome.starts_with("DeviceUnavailable") || outcome.starts_with("PermissionDenied"),
        "{outcome}"
    );
}

#[test]
fn missing_dev_fuse_is_device_unavailable() {
    let Some(()) = fuse_available("missing_dev_fuse_is_device_unavailable") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let outcome = probe_in_child("direct", |c| {
        c.env("FUSEGEN_CHILD_DIR", dir.path());
        in_namespace(c, "/bin/mount -t tmpfs none /dev");
    });
    assert!(outcome.starts_with("DeviceUnavailable"), "{outcome}");
    assert!(
        outcome.contains("modprobe fuse"),
        "message says what to do: {outcome}"
    );
}

#[test]
fn missing_fusermount3_is_reported() {
    let Some(()) = fuse_available("missing_fusermount3_is_reported") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let outcome = probe_in_child("fusermount", |c| {
        c.env("FUSEGEN_CHILD_DIR", dir.path())
            .env("PATH", "/nonexistent");
        in_namespace(
            c,
            "for f in /usr/bin/fusermount3 /bin/fusermount3; do [ -e $f ] && /bin/mount --bind /dev/null $f; done; true",
        );
    });
    assert!(outcome.starts_with("FusermountMissing"), "{outcome}");
    assert!(outcome.contains("apt-get install fuse3"), "{outcome}");
}

#[test]
fn both_mount_methods_serve_requests() {
    let Some(()) = fuse_available("both_mount_methods_serve_requests") else {
        return;
    };
    for method in [MountMethod::Direct, MountMethod::Fusermount] {
        let options = MountOptions::default().method(method);
        let m = TestMount::start(fs(), options, fusegen::Workers::default())
            .unwrap_or_else(|e| panic!("{method:?}: {e}"));
        let f = m.join("f");
        let data =
            crate::mount::common::within(crate::mount::common::CALL_TIMEOUT, "read", move || {
                std::fs::read(f)
            });
        assert_eq!(data.unwrap(), b"x", "{method:?}");
        let path = m.path().to_path_buf();
        drop(m);
        assert!(!is_mounted(&path), "{method:?} left a mount");
    }
}
