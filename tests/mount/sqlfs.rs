//! The `sqlfs` example (files in a SQLite database) as a user runs it: the tree operations,
//! hard links and unlinked open files, and what survives an unmount and a `kill -9`.

use std::ffi::CString;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::examples::Example;
use crate::mount::common::{CALL_TIMEOUT, fuse_available, within};

fn on<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(CALL_TIMEOUT, what, f)
}

/// A fresh database path in its own temporary directory (kept alive by the returned guard).
fn database() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fs.db").to_str().unwrap().to_string();
    (dir, db)
}

fn mount(db: &str) -> Example {
    Example::start("sqlfs", &[db])
}

fn names(dir: &Path) -> Vec<String> {
    let dir = dir.to_path_buf();
    let mut names: Vec<String> = on("readdir", move || {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    });
    names.sort();
    names
}

fn meta(path: PathBuf) -> fs::Metadata {
    on("lstat", move || fs::symlink_metadata(path).unwrap())
}

fn setxattr(path: &Path, name: &str, value: &[u8]) {
    let (p, n) = (
        CString::new(path.as_os_str().as_bytes()).unwrap(),
        CString::new(name).unwrap(),
    );
    let value = value.to_vec();
    let rc = on("setxattr", move || {
        // SAFETY: both strings are NUL-terminated and outlive the call; the value's
        // pointer and length come from one Vec.
        unsafe {
            libc::setxattr(
                p.as_ptr(),
                n.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        }
    });
    assert_eq!(
        rc,
        0,
        "setxattr {name}: {}",
        std::io::Error::last_os_error()
    );
}

fn getxattr(path: &Path, name: &str) -> Vec<u8> {
    let (p, n) = (
        CString::new(path.as_os_str().as_bytes()).unwrap(),
        CString::new(name).unwrap(),
    );
    on("getxattr", move || {
        let mut buf = vec![0u8; 4096];
        // SAFETY: as in `setxattr`; the buffer is writable for its length.
        let n =
            unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        assert!(n >= 0, "getxattr: {}", std::io::Error::last_os_error());
        buf.truncate(n as usize);
        buf
    })
}

#[test]
fn sqlfs_tree_operations_and_hard_links() {
    let Some(()) = fuse_available("sqlfs_tree_operations_and_hard_links") else {
        return;
    };
    let (_db_dir, db) = database();
    let ex = mount(&db);
    let root = ex.path().to_path_buf();
    on("build a tree", {
        let root = root.clone();
        move || {
            fs::create_dir_all(root.join("a/b")).unwrap();
            fs::write(root.join("a/b/f"), "data").unwrap();
            fs::hard_link(root.join("a/b/f"), root.join("a/g")).unwrap();
            std::os::unix::fs::symlink("b/f", root.join("a/l")).unwrap();
            fs::rename(root.join("a"), root.join("c")).unwrap();
        }
    });
    assert_eq!(names(&root), ["c"]);
    assert_eq!(names(&root.join("c")), ["b", "g", "l"]);
    let (f, g) = (meta(root.join("c/b/f")), meta(root.join("c/g")));
    assert_eq!(
        (f.ino(), f.nlink()),
        (g.ino(), 2),
        "hard links are one inode"
    );
    assert_eq!(
        meta(root.join("c")).nlink(),
        3,
        "a directory counts its subdirectories"
    );
    let target = on("readlink", {
        let root = root.clone();
        move || fs::read_link(root.join("c/l")).unwrap()
    });
    assert_eq!(target, Path::new("b/f"));
    assert_eq!(
        on("read through the link", {
            let root = root.clone();
            move || fs::read_to_string(root.join("c/l")).unwrap()
        }),
        "data"
    );
    let err = on("rmdir a non-empty directory", {
        let root = root.clone();
        move || fs::remove_dir(root.join("c/b")).unwrap_err()
    });
    assert_eq!(err.raw_os_error(), Some(libc::ENOTEMPTY));
    on("unlink one name", {
        let root = root.clone();
        move || fs::remove_file(root.join("c/b/f")).unwrap()
    });
    assert_eq!(meta(root.join("c/g")).nlink(), 1);
    on("rename over an existing file", {
        let root = root.clone();
        move || {
            fs::write(root.join("c/h"), "other").unwrap();
            fs::rename(root.join("c/h"), root.join("c/g")).unwrap();
        }
    });
    assert_eq!(
        on("read", {
            let root = root.clone();
            move || fs::read_to_string(root.join("c/g")).unwrap()
        }),
        "other"
    );
    on("remove the tree", {
        let root = root.clone();
        move || fs::remove_dir_all(root.join("c")).unwrap()
    });
    assert!(names(&root).is_empty());
    ex.interrupt();
}

fn renameat2(from: PathBuf, to: PathBuf, flags: u32) -> std::io::Result<()> {
    on("renameat2", move || {
        let (from, to) = (
            CString::new(from.as_os_str().as_bytes()).unwrap(),
            CString::new(to.as_os_str().as_bytes()).unwrap(),
        );
        // SAFETY: both paths are NUL-terminated and outlive the call.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                flags,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    })
}

#[test]
fn sqlfs_renameat2_noreplace_and_exchange() {
    let Some(()) = fuse_available("sqlfs_renameat2_noreplace_and_exchange") else {
        return;
    };
    let (_db_dir, db) = database();
    let ex = mount(&db);
    let root = ex.path().to_path_buf();
    on("make a file and a directory in two directories", {
        let root = root.clone();
        move || {
            fs::create_dir_all(root.join("x/dir/sub")).unwrap();
            fs::create_dir(root.join("y")).unwrap();
            fs::write(root.join("y/file"), "f").unwrap();
        }
    });
    let err = renameat2(
        root.join("y/file"),
        root.join("x/dir"),
        libc::RENAME_NOREPLACE,
    );
    assert_eq!(err.unwrap_err().raw_os_error(), Some(libc::EEXIST));
    // A directory and a file trade places across directories: the parents' link counts
    // follow the directory.
    renameat2(
        root.join("x/dir"),
        root.join("y/file"),
        libc::RENAME_EXCHANGE,
    )
    .unwrap();
    assert_eq!(names(&root.join("x")), ["dir"]);
    assert_eq!(names(&root.join("y")), ["file"]);
    assert!(meta(root.join("x/dir")).is_file());
    assert_eq!(names(&root.join("y/file")), ["sub"]);
    assert_eq!(meta(root.join("x")).nlink(), 2);
    assert_eq!(meta(root.join("y")).nlink(), 3);
    let err = renameat2(
        root.join("y/file"),
        root.join("x/dir"),
        libc::RENAME_WHITEOUT,
    );
    assert!(err.is_err(), "RENAME_WHITEOUT is not supported");
    ex.interrupt();
}

#[test]
fn sqlfs_remount_keeps_bytes_modes_owners_times_and_xattrs() {
    let Some(()) = fuse_available("sqlfs_remount_keeps_bytes_modes_owners_times_and_xattrs") else {
        return;
    };
    let (_db_dir, db) = database();
    // Bytes in several blocks, with a hole and an unaligned end.
    let bytes: Vec<u8> = (0..300_001u32).map(|i| (i * 7 % 253) as u8).collect();
    let mtime = UNIX_EPOCH + Duration::new(1_234_567_890, 123_456_789);
    let atime = UNIX_EPOCH + Duration::new(1_000_000_000, 987_654_321);
    let ex = mount(&db);
    let root = ex.path().to_path_buf();
    on("make files", {
        let (root, bytes) = (root.clone(), bytes.clone());
        move || {
            fs::create_dir(root.join("d")).unwrap();
            let mut f = fs::File::create(root.join("d/file")).unwrap();
            f.seek(SeekFrom::Start(200_000)).unwrap();
            f.write_all(&bytes).unwrap();
            f.set_times(fs::FileTimes::new().set_accessed(atime).set_modified(mtime))
                .unwrap();
            drop(f);
            // chown first: it clears set-group-ID on an executable file.
            std::os::unix::fs::chown(root.join("d/file"), Some(1234), Some(5678)).unwrap();
            fs::set_permissions(root.join("d/file"), fs::Permissions::from_mode(0o2751)).unwrap();
            std::os::unix::fs::symlink("file", root.join("d/link")).unwrap();
            nix::unistd::mkfifo(
                &root.join("d/fifo"),
                nix::sys::stat::Mode::from_bits_truncate(0o604),
            )
            .unwrap();
        }
    });
    setxattr(&root.join("d/file"), "user.colour", b"blue\0green");
    let before = meta(root.join("d/file"));
    assert_eq!(before.mode() & 0o7777, 0o2751);
    ex.interrupt();

    let ex = mount(&db);
    let root = ex.path().to_path_buf();
    assert_eq!(names(&root.join("d")), ["fifo", "file", "link"]);
    let after = meta(root.join("d/file"));
    assert_eq!(after.mode(), before.mode());
    assert_eq!((after.uid(), after.gid()), (1234, 5678));
    assert_eq!(after.size(), 500_001);
    assert_eq!(after.modified().unwrap(), mtime);
    assert_eq!(after.accessed().unwrap(), atime);
    assert_eq!(
        (after.ctime(), after.ctime_nsec()),
        (before.ctime(), before.ctime_nsec())
    );
    assert_eq!(
        getxattr(&root.join("d/file"), "user.colour"),
        b"blue\0green"
    );
    let read = on("read back", {
        let root = root.clone();
        move || fs::read(root.join("d/file")).unwrap()
    });
    assert!(
        read[..200_000].iter().all(|b| *b == 0),
        "the hole reads as zeros"
    );
    assert!(read[200_000..] == bytes[..], "every byte is back");
    let fifo = meta(root.join("d/fifo"));
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fifo.file_type()));
    assert_eq!(fifo.mode() & 0o777, 0o604 & !umask());
    let link = on("readlink", {
        let root = root.clone();
        move || fs::read_link(root.join("d/link")).unwrap()
    });
    assert_eq!(link, Path::new("file"));
    ex.interrupt();
}

#[test]
fn sqlfs_inode_numbers_survive_remount_and_hard_links_share_one() {
    let Some(()) = fuse_available("sqlfs_inode_numbers_survive_remount_and_hard_links_share_one")
    else {
        return;
    };
    let (_db_dir, db) = database();
    let ex = mount(&db);
    let root = ex.path().to_path_buf();
    let first = on("make files and stat them", {
        let root = root.clone();
        move || {
            fs::create_dir(root.join("d")).unwrap();
            for name in ["a", "b", "d/c"] {
                fs::write(root.join(name), name).unwrap();
            }
            fs::hard_link(root.join("a"), root.join("d/link")).unwrap();
            ["a", "b", "d", "d/c", "d/link"].map(|n| fs::metadata(root.join(n)).unwrap().ino())
        }
    });
    assert_eq!(first[0], first[4], "two names of one file, one st_ino");
    ex.interrupt();

    let ex = mount(&db);
    let root = ex.path().to_path_buf();
    // Looked up in another order than they were made: numbers handed out by the runtime in
    // lookup order would differ.
    let again = on("stat after remount", {
        let root = root.clone();
        move || {
            let mut inos = [0; 5];
            for i in [4, 3, 2, 1, 0] {
                let name = ["a", "b", "d", "d/c", "d/link"][i];
                inos[i] = fs::metadata(root.join(name)).unwrap().ino();
            }
            inos
        }
    });
    assert_eq!(again, first, "st_ino of a, b, d, d/c, d/link");
    // A fresh mount's listing shows the same numbers before any lookup of the names.
    ex.interrupt();
    let ex = mount(&db);
    let listed = on("readdir after remount", {
        let d = ex.path().join("d");
        move || {
            let mut entries: Vec<(String, u64)> = fs::read_dir(d)
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    let ino = std::os::unix::fs::DirEntryExt::ino(&e);
                    (e.file_name().into_string().unwrap(), ino)
                })
                .collect();
            entries.sort();
            entries
        }
    });
    assert_eq!(
        listed,
        [("c".to_string(), first[3]), ("link".to_string(), first[4])]
    );
    ex.interrupt();
}

/// The test process's umask (read without changing it for longer than two calls).
fn umask() -> u32 {
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    nix::sys::stat::umask(old);
    old.bits()
}

#[test]
fn sqlfs_fsynced_data_survives_kill_9() {
    let Some(()) = fuse_available("sqlfs_fsynced_data_survives_kill_9") else {
        return;
    };
    let (_db_dir, db) = database();
    let ex = mount(&db);
    let root = ex.path().to_path_buf();
    let bytes: Vec<u8> = (0..150_000u32).map(|i| (i % 241) as u8).collect();
    let gone = on("write and fsync", {
        let (root, bytes) = (root.clone(), bytes.clone());
        move || {
            fs::create_dir(root.join("kept")).unwrap();
            let mut f = fs::File::create(root.join("kept/data")).unwrap();
            f.write_all(&bytes).unwrap();
            f.sync_all().unwrap();
            // Held open at the crash, unlinked: nothing may be left of it afterwards.
            let mut gone = fs::File::create(root.join("gone")).unwrap();
            gone.write_all(b"scratch").unwrap();
            fs::remove_file(root.join("gone")).unwrap();
            gone
        }
    });
    ex.kill9();
    drop(gone); // open until after the crash

    let ex = mount(&db);
    let root = ex.path().to_path_buf();
    assert_eq!(names(&root), ["kept"]);
    let read = on("read back", {
        let root = root.clone();
        move || fs::read(root.join("kept/data")).unwrap()
    });
    assert!(read == bytes, "the fsynced bytes are there after kill -9");
    ex.interrupt();
}

#[test]
fn sqlfs_unlinked_open_file_stays_usable_until_closed() {
    let Some(()) = fuse_available("sqlfs_unlinked_open_file_stays_usable_until_closed") else {
        return;
    };
    let (_db_dir, db) = database();
    let ex = mount(&db);
    let root = ex.path().to_path_buf();
    on("use a file after unlinking it", {
        let root = root.clone();
        move || {
            let path = root.join("tmp");
            let mut f = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
                .unwrap();
            f.write_all(b"before").unwrap();
            fs::remove_file(&path).unwrap();
            // The name is free again: a new file there is another file.
            fs::write(&path, "new file").unwrap();
            f.write_all(b" after").unwrap();
            f.seek(SeekFrom::Start(0)).unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            assert_eq!(s, "before after");
            let m = f.metadata().unwrap();
            assert_eq!((m.nlink(), m.len()), (0, 12));
            f.set_len(3).unwrap();
            assert_eq!(f.metadata().unwrap().len(), 3);
            assert_eq!(fs::read_to_string(&path).unwrap(), "new file");
        }
    });
    assert_eq!(names(&root), ["tmp"]);
    on("write and remove a large file", {
        let root = root.clone();
        move || {
            fs::write(root.join("large"), vec![1u8; 4 << 20]).unwrap();
            fs::remove_file(root.join("large")).unwrap();
        }
    });
    ex.interrupt();
    let size = fs::metadata(&db).unwrap().len();
    assert!(
        size < 1 << 20,
        "the space of removed files goes back at unmount: {size} bytes"
    );
}

#[test]
fn sqlfs_refuses_a_second_daemon_on_one_database() {
    let Some(()) = fuse_available("sqlfs_refuses_a_second_daemon_on_one_database") else {
        return;
    };
    let (_db_dir, db) = database();
    let ex = mount(&db);
    names(ex.path()); // INIT answered: the first daemon has the database open
    let mnt = tempfile::tempdir().unwrap();
    let bin = crate::examples::example_binary("sqlfs");
    let out = on("start a second sqlfs", {
        let (db, mnt) = (db.clone(), mnt.path().to_path_buf());
        move || {
            std::process::Command::new(bin)
                .arg(db)
                .arg(mnt)
                .output()
                .unwrap()
        }
    });
    assert!(!out.status.success(), "a second daemon must be refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("in use"), "unexpected message: {stderr}");
    ex.interrupt();
}

#[test]
fn sqlfs_concurrent_writers_lose_nothing() {
    let Some(()) = fuse_available("sqlfs_concurrent_writers_lose_nothing") else {
        return;
    };
    let (_db_dir, db) = database();
    let ex = mount(&db);
    let root = ex.path().to_path_buf();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let root = root.clone();
            std::thread::spawn(move || {
                on("write files", move || {
                    fs::create_dir(root.join(format!("w{w}"))).unwrap();
                    for i in 0..20 {
                        let data = vec![(w * 20 + i) as u8; 10_000 + i * 1000];
                        fs::write(root.join(format!("w{w}/{i}")), data).unwrap();
                    }
                })
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    for w in 0..8usize {
        for i in 0..20usize {
            let path = root.join(format!("w{w}/{i}"));
            let data = on("read", move || fs::read(path).unwrap());
            assert_eq!(data.len(), 10_000 + i * 1000);
            assert!(data.iter().all(|b| *b == (w * 20 + i) as u8));
        }
    }
    ex.interrupt();
}
