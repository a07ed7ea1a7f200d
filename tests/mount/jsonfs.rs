//! The jsonfs example on a real mount: a JSON document read as a tree, changed through the
//! tree, and saved back (on fsync, on close of a written file, at unmount).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::examples::Example;
use crate::mount::common::{CALL_TIMEOUT, fuse_available, within};

const DOC: &str = r#"{
  "name": "fusegen",
  "tags": ["fuse", "rust"],
  "stars": 5,
  "meta": {"a/b": "42", "ok": true, "none": null}
}
"#;

fn on<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(CALL_TIMEOUT, what, f)
}

fn saved(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Waits (bounded) until the document on disk equals `want`.
fn wait_saved(path: &Path, want: Value) {
    let deadline = Instant::now() + CALL_TIMEOUT;
    loop {
        let now = saved(path);
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "document never became\n{want}\nit is\n{now}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start(test: &str) -> Option<(Example, tempfile::TempDir, PathBuf)> {
    fuse_available(test)?;
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.json");
    fs::write(&doc, DOC).unwrap();
    let ex = Example::start("jsonfs", &[doc.to_str().unwrap()]);
    Some((ex, dir, doc))
}

#[test]
fn jsonfs_shows_the_document_as_a_tree() {
    let Some((ex, _dir, doc)) = start("jsonfs_shows_the_document_as_a_tree") else {
        return;
    };
    let root = ex.path().to_path_buf();
    on("read the tree", move || {
        assert_eq!(fs::read_to_string(root.join("name")).unwrap(), "fusegen\n");
        assert_eq!(fs::read_to_string(root.join("stars")).unwrap(), "5\n");
        assert_eq!(fs::read_to_string(root.join("tags/1")).unwrap(), "rust\n");
        // A string that reads like a number is shown quoted, `/` in a key escaped.
        assert_eq!(
            fs::read_to_string(root.join("meta/a%2Fb")).unwrap(),
            "\"42\"\n"
        );
        assert_eq!(
            fs::read_to_string(root.join("meta/none")).unwrap(),
            "null\n"
        );
        let mut names: Vec<String> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["meta", "name", "stars", "tags"]);
        assert!(fs::metadata(root.join("tags")).unwrap().is_dir());
        assert_eq!(fs::metadata(root.join("name")).unwrap().len(), 8);
    });
    ex.interrupt();
    // Nothing changed: the document is left as it was written, byte for byte.
    assert_eq!(fs::read_to_string(&doc).unwrap(), DOC);
}

#[test]
fn jsonfs_saves_writes_on_fsync_and_close() {
    let Some((ex, _dir, doc)) = start("jsonfs_saves_writes_on_fsync_and_close") else {
        return;
    };
    let root = ex.path().to_path_buf();
    {
        let root = root.clone();
        on("write and fsync", move || {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(root.join("stars"))
                .unwrap();
            f.write_all(b"6\n").unwrap();
            f.sync_all().unwrap();
        });
    }
    // fsync returned: the document is on disk already, the number still a number.
    assert_eq!(
        saved(&doc),
        json!({"name": "fusegen", "tags": ["fuse", "rust"], "stars": 6,
               "meta": {"a/b": "42", "ok": true, "none": null}})
    );
    {
        let root = root.clone();
        on("write and close", move || {
            fs::write(root.join("name"), "jsonfs\n").unwrap();
            fs::write(root.join("meta/ok"), "\"false\"").unwrap();
        });
    }
    // Saved when the kernel releases the file, which follows close() asynchronously.
    wait_saved(
        &doc,
        json!({"name": "jsonfs", "tags": ["fuse", "rust"], "stars": 6,
               "meta": {"a/b": "42", "ok": "false", "none": null}}),
    );
    ex.interrupt();
}

#[test]
fn jsonfs_namespace_changes_reach_the_document_at_unmount() {
    let Some((ex, dir, doc)) = start("jsonfs_namespace_changes_reach_the_document_at_unmount")
    else {
        return;
    };
    let root = ex.path().to_path_buf();
    on("change the tree", move || {
        fs::create_dir(root.join("owner")).unwrap();
        fs::write(root.join("owner/login"), "me\n").unwrap();
        fs::write(root.join("tags/2"), "fast\n").unwrap();
        fs::remove_file(root.join("tags/0")).unwrap();
        fs::rename(root.join("stars"), root.join("owner/stars")).unwrap();
        fs::remove_file(root.join("meta/none")).unwrap();
        fs::remove_file(root.join("meta/ok")).unwrap();
        fs::remove_file(root.join("meta/a%2Fb")).unwrap();
        fs::remove_dir(root.join("meta")).unwrap();
        // Errors the document's shape imposes.
        let err = |r: std::io::Result<()>| r.unwrap_err().raw_os_error();
        assert_eq!(
            err(fs::write(root.join("tags/first"), "x")),
            Some(libc::EINVAL)
        );
        assert_eq!(
            err(fs::remove_dir(root.join("owner"))),
            Some(libc::ENOTEMPTY)
        );
        assert_eq!(err(fs::remove_file(root.join("tags"))), Some(libc::EISDIR));
        use std::os::unix::fs::PermissionsExt;
        let chmod = fs::set_permissions(root.join("name"), fs::Permissions::from_mode(0o600));
        assert_eq!(err(chmod), Some(libc::EPERM));
    });
    ex.interrupt();
    assert_eq!(
        saved(&doc),
        json!({"name": "fusegen", "tags": ["rust", "fast"], "owner": {"login": "me", "stars": 5}})
    );
    // Saved through a temporary file that was renamed: nothing else is left next to it.
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["doc.json"]);
}

#[test]
fn jsonfs_refuses_a_document_that_is_not_a_tree() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("scalar.json");
    fs::write(&doc, "42").unwrap();
    let bin = crate::examples::example_binary("jsonfs");
    let out = std::process::Command::new(bin)
        .arg(&doc)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("scalar.json") && err.contains("object or an array"),
        "{err}"
    );
}
