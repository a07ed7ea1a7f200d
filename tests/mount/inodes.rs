//! Lookup counting end to end: 100 000 files created and deleted on the `memfs` example
//! (whose nodes live in `fusegen::inodes::InodeTable`) leave its inode table exactly as big as
//! before, once the kernel's FORGETs have arrived. memfs reports the table's entry count as
//! the inodes in use (`f_files - f_ffree`). The daemon's resident memory is printed, not
//! asserted: the allocator may keep freed memory.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::mount::common::{CALL_TIMEOUT, fuse_available, is_mounted, wait_unmounted, within};

/// `memfs` mounted on a fresh directory; SIGINT on drop, lazy unmount if it stays.
struct Memfs {
    child: Child,
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Memfs {
    fn start(test: &str) -> Option<Memfs> {
        fuse_available(test)?;
        let dir = tempfile::Builder::new()
            .prefix("inodes-")
            .tempdir()
            .expect("mountpoint");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().to_path_buf();
        // `-f`: stay in the foreground, so the test owns the daemon's process.
        let child = Command::new(crate::examples::example_binary("memfs"))
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start memfs");
        let mut m = Memfs {
            child,
            dir: Some(dir),
            path,
        };
        let deadline = Instant::now() + CALL_TIMEOUT;
        while !is_mounted(&m.path) {
            if let Ok(Some(status)) = m.child.try_wait() {
                panic!("memfs exited early: {status}");
            }
            assert!(Instant::now() < deadline, "memfs did not mount");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(m)
    }

    /// Entries of memfs's inode table (`f_files - f_ffree`).
    fn table_len(&self) -> u64 {
        let path = self.path.clone();
        let s = within(CALL_TIMEOUT, "statvfs", move || {
            nix::sys::statvfs::statvfs(&path)
        })
        .unwrap();
        s.files() - s.files_free()
    }

    /// The daemon's resident set size in KiB (`VmRSS`).
    fn rss_kib(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Memfs {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = Instant::now() + CALL_TIMEOUT;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !wait_unmounted(&self.path, Duration::from_secs(2)) {
            let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
            if let Some(dir) = self.dir.take() {
                let _ = dir.keep();
            }
        }
    }
}

/// Polls `table_len` until it equals `want` or `timeout` passes; returns the last value.
fn settle(m: &Memfs, want: u64, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        let n = m.table_len();
        if n == want || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn on<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(Duration::from_secs(120), what, f)
}

const FILES: usize = 100_000;

/// `mknod` of empty regular files: one MKNOD each (after a negative LOOKUP), where
/// `File::create` would add CREATE, FLUSH and RELEASE round trips.
fn create_all(dir: &Path, n: usize) {
    use nix::sys::stat::{Mode, SFlag, mknod};
    fs::create_dir(dir).unwrap();
    for i in 0..n {
        mknod(
            &dir.join(format!("f{i}")),
            SFlag::S_IFREG,
            Mode::from_bits_truncate(0o644),
            0,
        )
        .unwrap();
    }
}

#[test]
fn table_returns_to_baseline_after_100k_files_are_created_listed_and_deleted() {
    let Some(m) = Memfs::start("table_returns_to_baseline_after_100k_files") else {
        return;
    };
    let (base, rss0) = (m.table_len(), m.rss_kib());
    let dir = m.path.join("many");
    let started = Instant::now();
    {
        let dir = dir.clone();
        on("create", move || create_all(&dir, FILES));
    }
    let t_create = started.elapsed();
    let created = m.table_len();
    assert_eq!(
        created,
        base + FILES as u64 + 1,
        "every file and the directory"
    );
    let rss_full = m.rss_kib();
    // A listing (READDIRPLUS, or READDIR plus lookups) adds lookups the kernel gives back
    // later; they must not keep anything alive once the files are gone.
    let listed = {
        let dir = dir.clone();
        on("list", move || {
            let mut n = 0;
            for entry in fs::read_dir(&dir).unwrap() {
                entry.unwrap().metadata().unwrap();
                n += 1;
            }
            n
        })
    };
    assert_eq!(listed, FILES);
    let t_list = started.elapsed();
    {
        let dir = dir.clone();
        on("delete", move || fs::remove_dir_all(&dir).unwrap());
    }
    let t_delete = started.elapsed();
    // Unlinking drops the kernel's dentry, and the inode with it: FORGET follows without any
    // cache dropping. drop_caches is the fallback if some were still cached.
    let mut left = settle(&m, base, Duration::from_secs(10));
    let mut dropped_caches = false;
    if left != base {
        dropped_caches = fs::write("/proc/sys/vm/drop_caches", "2").is_ok();
        left = settle(&m, base, Duration::from_secs(20));
    }
    let rss_after = m.rss_kib();
    eprintln!(
        "inode table: {base} entries before, {created} with the files, {left} after deleting \
         them (drop_caches needed: {dropped_caches}); daemon RSS: {rss0} KiB before, \
         {rss_full} KiB with the files, {rss_after} KiB after; created by {t_create:.1?}, \
         listed by {t_list:.1?}, deleted by {t_delete:.1?}, settled by {:.1?}",
        started.elapsed()
    );
    assert_eq!(left, base, "the table is back to its baseline");
}

/// Files that stay linked stay in the table after the kernel forgets them, and their
/// lookups, counted again on the next access, still balance: deleting them afterwards frees
/// them all.
#[test]
fn forgotten_but_linked_files_stay_and_are_freed_when_deleted() {
    let Some(m) = Memfs::start("forgotten_but_linked_files_stay") else {
        return;
    };
    let base = m.table_len();
    let dir = m.path.join("kept");
    {
        let dir = dir.clone();
        on("create", move || create_all(&dir, 2000));
    }
    // Dropping the dentry cache makes the kernel forget the files (they stay in memfs).
    if fs::write("/proc/sys/vm/drop_caches", "2").is_err() {
        eprintln!("skipping the drop_caches step: /proc/sys/vm/drop_caches is not writable");
    }
    assert_eq!(m.table_len(), base + 2001);
    {
        let dir = dir.clone();
        on("stat all", move || {
            for i in 0..2000 {
                fs::metadata(dir.join(format!("f{i}"))).unwrap();
            }
        });
    }
    on("delete", move || fs::remove_dir_all(&dir).unwrap());
    let left = settle(&m, base, Duration::from_secs(10));
    if left != base {
        let _ = fs::write("/proc/sys/vm/drop_caches", "2");
    }
    assert_eq!(settle(&m, base, Duration::from_secs(20)), base);
}
