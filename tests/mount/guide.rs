//! The filesystem docs/guide.md builds, mounted, and driven with the shell commands the guide
//! shows (step 3 for `guide_ro`, step 5 for `guide`): their output and errors must be what
//! the guide says.

use std::path::Path;
use std::process::Command;

use crate::examples::Example;
use crate::mount::common::{CALL_TIMEOUT, fuse_available, within};

/// Runs `script` in `sh` with `$M` set to the mountpoint; returns (success, stdout, stderr).
fn sh(mnt: &Path, script: &str) -> (bool, String, String) {
    let mnt = mnt.to_path_buf();
    let script = script.to_string();
    let out = within(CALL_TIMEOUT, "sh", move || {
        Command::new("sh")
            .arg("-c")
            .arg(&script)
            .env("M", &mnt)
            .env("LC_ALL", "C")
            .output()
    })
    .expect("run sh");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(mnt: &Path, script: &str) -> String {
    let (success, stdout, stderr) = sh(mnt, script);
    assert!(success, "`{script}` failed: {stderr}");
    stdout
}

fn fails_with(mnt: &Path, script: &str, message: &str) {
    let (success, _, stderr) = sh(mnt, script);
    assert!(!success, "`{script}` should fail");
    assert!(stderr.contains(message), "`{script}`: {stderr}");
}

#[test]
fn guide_step_3_is_a_read_only_filesystem() {
    let Some(()) = fuse_available("guide_step_3_is_a_read_only_filesystem") else {
        return;
    };
    let ex = Example::start("guide_ro", &[]);
    let m = ex.path();
    assert_eq!(ok(m, "ls $M"), "README\n");
    let owner = ok(m, "stat -c %u $M/README");
    assert_eq!(
        owner.trim(),
        ok(m, "id -u").trim(),
        "owned by whoever runs it"
    );
    assert_eq!(ok(m, "cat $M/README"), "Notes: a small FUSE filesystem.\n");
    fails_with(m, "cat $M/missing", "No such file or directory");
    fails_with(m, "echo hi > $M/x", "Read-only file system");
    ex.interrupt();
}

#[test]
fn guide_step_5_is_a_read_write_filesystem() {
    read_write_notes("guide", "guide_step_5_is_a_read_write_filesystem");
}

/// Step 6 writes step 5's filesystem with path-level handlers: it must behave the same.
#[test]
fn guide_step_6_paths_serve_the_same_filesystem() {
    read_write_notes(
        "guide_paths",
        "guide_step_6_paths_serve_the_same_filesystem",
    );
}

fn read_write_notes(example: &str, test: &str) {
    let Some(()) = fuse_available(test) else {
        return;
    };
    let ex = Example::start(example, &[]);
    let m = ex.path();
    ok(m, "echo 'buy milk' > $M/todo");
    assert_eq!(ok(m, "cat $M/todo"), "buy milk\n");
    ok(m, "echo 'call mum' >> $M/todo");
    assert_eq!(ok(m, "wc -l < $M/todo").trim(), "2");
    assert_eq!(ok(m, "truncate -s 3 $M/todo && cat $M/todo"), "buy");
    assert_eq!(ok(m, "rm $M/README && ls $M"), "todo\n");
    fails_with(m, "chmod 600 $M/todo", "Operation not permitted");
    fails_with(m, "mkdir $M/dir", "Function not implemented");
    // Beyond the guide's commands: the limits it describes.
    fails_with(m, "truncate -s 65M $M/todo", "File too large");
    ok(m, "printf x | dd of=$M/sparse bs=1 seek=10 status=none");
    assert_eq!(ok(m, "od -An -c $M/sparse").split_whitespace().count(), 11);
    ex.interrupt();
}
