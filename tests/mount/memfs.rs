//! The `memfs` example as users run it (`memfs [--size N] [-o OPTS] DIR`, spawned from
//! `target/<profile>/examples/memfs`): POSIX behaviour through `std::fs`, `nix` and `libc`,
//! lookup counting and freeing, the size limit, and real tools (git, tar, cp -a, rsync,
//! cargo) working on it. Every mount is unmounted by a guard, also when a test fails.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::mount::common::{CALL_TIMEOUT, fuse_available, is_mounted, wait_unmounted, within};

/// `target/<profile>/examples/memfs`, built once per test run.
fn memfs_binary() -> PathBuf {
    crate::examples::example_binary("memfs")
}

/// A running `memfs` process mounted on a fresh directory; Ctrl-C (SIGINT) on drop, then a
/// lazy unmount and SIGKILL if it does not go by itself.
pub(crate) struct Memfs {
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Memfs {
    pub(crate) fn start(test: &str, args: &[&str]) -> Option<Memfs> {
        fuse_available(test)?;
        let dir = tempfile::Builder::new()
            .prefix("memfs-")
            .tempdir()
            .expect("mountpoint");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().to_path_buf();
        let child = Command::new(memfs_binary())
            .arg("-f")
            .args(args)
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start memfs");
        let mut m = Memfs {
            child: Some(child),
            dir: Some(dir),
            path,
        };
        let deadline = Instant::now() + CALL_TIMEOUT;
        while !is_mounted(&m.path) {
            if let Ok(Some(status)) = m.child.as_mut().unwrap().try_wait() {
                panic!("memfs exited early: {status}");
            }
            assert!(Instant::now() < deadline, "memfs did not mount");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(m)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn join(&self, rel: &str) -> PathBuf {
        self.path.join(rel)
    }

    fn statvfs(&self) -> nix::sys::statvfs::Statvfs {
        let path = self.path.clone();
        within(CALL_TIMEOUT, "statvfs", move || {
            nix::sys::statvfs::statvfs(&path)
        })
        .unwrap()
    }

    /// Ctrl-C: memfs must unmount and exit successfully.
    fn stop(mut self) {
        let mut child = self.child.take().expect("running");
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        let status = within(CALL_TIMEOUT, "memfs to exit after Ctrl-C", move || {
            child.wait()
        })
        .unwrap();
        assert!(status.success(), "memfs exited with {status}");
        assert!(
            wait_unmounted(&self.path, Duration::from_secs(5)),
            "Ctrl-C left the mount behind"
        );
    }

    /// Inodes in use, as `statfs` reports them (`f_files - f_ffree`).
    fn inodes_used(&self) -> u64 {
        let s = self.statvfs();
        s.files() - s.files_free()
    }

    /// Blocks in use (`f_blocks - f_bfree`).
    fn blocks_used(&self) -> u64 {
        let s = self.statvfs();
        s.blocks() - s.blocks_free()
    }
}

impl Drop for Memfs {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            let deadline = Instant::now() + CALL_TIMEOUT;
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if !wait_unmounted(&self.path, Duration::from_secs(2)) {
            let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
            if let Some(dir) = self.dir.take() {
                let _ = dir.keep();
            }
        }
    }
}

/// Runs `f` against the mount with the standard timeout.
fn on<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(CALL_TIMEOUT, what, f)
}

/// Runs a command to completion within `timeout`, killing it otherwise; panics on failure.
fn run(cmd: &mut Command, timeout: Duration) -> String {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let deadline = Instant::now() + timeout;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn errno(e: &io::Error) -> Option<i32> {
    e.raw_os_error()
}

// ---- xattrs through libc (nix has no wrapper) ----------------------------------------------

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn setxattr(p: &Path, name: &str, value: &[u8], flags: i32) -> io::Result<()> {
    let (p, n) = (cpath(p), CString::new(name).unwrap());
    // SAFETY: `p` and `n` are NUL-terminated and outlive the call; the pointer and length
    // describe the live slice `value`.
    let r = unsafe {
        libc::setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `getxattr` into a buffer of `size` bytes (0 probes the size); returns the bytes read.
fn getxattr(p: &Path, name: &str, size: usize) -> io::Result<Vec<u8>> {
    let (p, n) = (cpath(p), CString::new(name).unwrap());
    let mut buf = vec![0u8; size];
    // SAFETY: `p` and `n` are NUL-terminated and outlive the call; `buf` has `size` writable
    // bytes (a null-sized probe writes nothing).
    let r = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), size) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(if size == 0 { 0 } else { r as usize });
    if size == 0 {
        buf = vec![0; r as usize]; // report the probed size as the length
    }
    Ok(buf)
}

fn listxattr(p: &Path) -> io::Result<Vec<String>> {
    let p = cpath(p);
    let mut buf = vec![0u8; 4096];
    // SAFETY: `p` is NUL-terminated and outlives the call; `buf` has `buf.len()` writable bytes.
    let r = unsafe { libc::listxattr(p.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(buf[..r as usize]
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect())
}

fn removexattr(p: &Path, name: &str) -> io::Result<()> {
    let (p, n) = (cpath(p), CString::new(name).unwrap());
    // SAFETY: both strings are NUL-terminated and outlive the call.
    let r = unsafe { libc::removexattr(p.as_ptr(), n.as_ptr()) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `copy_file_range(2)` with explicit offsets (nix offers it only with its `zerocopy` feature).
fn copy_file_range(
    src: &File,
    off_in: &mut i64,
    dst: &File,
    off_out: &mut i64,
    len: usize,
) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: both descriptors are open for the duration of the call, and the offset pointers
    // come from live `&mut i64`s.
    let r =
        unsafe { libc::copy_file_range(src.as_raw_fd(), off_in, dst.as_raw_fd(), off_out, len, 0) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

// ---- POSIX behaviour -----------------------------------------------------------------------

#[test]
fn memfs_files_directories_links_and_special_nodes() {
    let Some(m) = Memfs::start("memfs_files_directories_links_and_special_nodes", &[]) else {
        return;
    };
    let root = m.path.clone();
    on("file, directory, link and rename operations", move || {
        let f = root.join("file");
        fs::write(&f, b"hello").unwrap();
        let mut a = OpenOptions::new().append(true).open(&f).unwrap();
        a.write_all(b" world").unwrap();
        drop(a);
        assert_eq!(fs::read(&f).unwrap(), b"hello world");

        let excl = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&f)
            .unwrap_err();
        assert_eq!(
            errno(&excl),
            Some(libc::EEXIST),
            "O_CREAT|O_EXCL on an existing file"
        );
        OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&f)
            .unwrap();
        assert_eq!(
            fs::metadata(&f).unwrap().len(),
            0,
            "O_TRUNC empties the file"
        );
        fs::write(&f, b"data").unwrap();

        fs::create_dir(root.join("d")).unwrap();
        fs::create_dir(root.join("d/sub")).unwrap();
        assert_eq!(
            fs::metadata(root.join("d")).unwrap().nlink(),
            3,
            "2 + one subdirectory"
        );
        fs::hard_link(&f, root.join("d/link")).unwrap();
        assert_eq!(fs::metadata(&f).unwrap().nlink(), 2);
        assert_eq!(
            fs::metadata(&f).unwrap().ino(),
            fs::metadata(root.join("d/link")).unwrap().ino()
        );
        symlink("../file", root.join("d/sym")).unwrap();
        assert_eq!(
            fs::read_link(root.join("d/sym")).unwrap(),
            Path::new("../file")
        );
        assert_eq!(fs::read(root.join("d/sym")).unwrap(), b"data");

        nix::unistd::mkfifo(
            &root.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        nix::sys::stat::mknod(
            &root.join("null"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(1, 3),
        )
        .unwrap();
        let null = fs::symlink_metadata(root.join("null")).unwrap();
        assert_eq!(null.mode() & libc::S_IFMT, libc::S_IFCHR);
        assert_eq!(null.rdev(), nix::sys::stat::makedev(1, 3));
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(
            &fs::symlink_metadata(root.join("fifo")).unwrap().file_type()
        ));

        let err = fs::remove_dir(root.join("d")).unwrap_err();
        assert_eq!(errno(&err), Some(libc::ENOTEMPTY));
        let err = fs::remove_file(root.join("d")).unwrap_err();
        assert_eq!(errno(&err), Some(libc::EISDIR));

        let mut names: Vec<String> = fs::read_dir(root.join("d"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["link", "sub", "sym"]);

        // renameat2 flags.
        use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
        fs::write(root.join("x"), b"X").unwrap();
        fs::write(root.join("y"), b"Y").unwrap();
        let e = renameat2(
            AT_FDCWD,
            &root.join("x"),
            AT_FDCWD,
            &root.join("y"),
            RenameFlags::RENAME_NOREPLACE,
        )
        .unwrap_err();
        assert_eq!(e, Errno::EEXIST);
        renameat2(
            AT_FDCWD,
            &root.join("x"),
            AT_FDCWD,
            &root.join("d/sub"),
            RenameFlags::RENAME_EXCHANGE,
        )
        .unwrap();
        assert!(root.join("x").is_dir() && root.join("d/sub").is_file());
        assert_eq!(fs::read(root.join("d/sub")).unwrap(), b"X");
        assert_eq!(
            fs::metadata(root.join("d")).unwrap().nlink(),
            2,
            "the subdirectory left d"
        );
        fs::rename(root.join("y"), root.join("d/sub")).unwrap();
        assert_eq!(fs::read(root.join("d/sub")).unwrap(), b"Y");
        assert!(!root.join("y").exists());
        fs::create_dir(root.join("x/inner")).unwrap();
        let err = fs::rename(root.join("x"), root.join("x/inner/x")).unwrap_err();
        assert_eq!(
            errno(&err),
            Some(libc::EINVAL),
            "a directory cannot move below itself"
        );
        fs::rename(root.join("x"), root.join("d/x2")).unwrap();
        assert_eq!(fs::metadata(root.join("d")).unwrap().nlink(), 3);
        assert_eq!(fs::metadata(root.join("d/x2")).unwrap().nlink(), 3);
        assert_eq!(
            fs::metadata(root.join("d/x2/..")).unwrap().ino(),
            fs::metadata(root.join("d")).unwrap().ino()
        );

        let long = "n".repeat(256);
        let err = fs::write(root.join(&long), b"").unwrap_err();
        assert_eq!(errno(&err), Some(libc::ENAMETOOLONG));
    });
    m.stop();
}

#[test]
fn memfs_timestamps_follow_posix() {
    let Some(m) = Memfs::start("memfs_timestamps_follow_posix", &[]) else {
        return;
    };
    let root = m.path.clone();
    on("timestamp updates", move || {
        let nap = || std::thread::sleep(Duration::from_millis(20));
        let times = |p: &Path| {
            let md = fs::symlink_metadata(p).unwrap();
            ((md.mtime(), md.mtime_nsec()), (md.ctime(), md.ctime_nsec()))
        };
        let dir = root.join("d");
        fs::create_dir(&dir).unwrap();
        let (dm0, dc0) = times(&dir);
        nap();
        fs::write(dir.join("f"), b"1").unwrap();
        let (dm1, dc1) = times(&dir);
        assert!(
            dm1 > dm0 && dc1 > dc0,
            "creating an entry updates the directory"
        );
        let (fm1, fc1) = times(&dir.join("f"));
        nap();
        fs::write(dir.join("f"), b"22").unwrap();
        let (fm2, fc2) = times(&dir.join("f"));
        assert!(fm2 > fm1 && fc2 > fc1, "a write updates mtime and ctime");
        nap();
        fs::set_permissions(dir.join("f"), fs::Permissions::from_mode(0o600)).unwrap();
        let (fm3, fc3) = times(&dir.join("f"));
        assert!(fm3 == fm2 && fc3 > fc2, "chmod updates only ctime");
        nap();
        fs::hard_link(dir.join("f"), dir.join("g")).unwrap();
        let (_, fc4) = times(&dir.join("f"));
        assert!(fc4 > fc3, "link updates the inode's ctime");
        nap();
        fs::rename(dir.join("g"), root.join("g")).unwrap();
        let (_, fc5) = times(&root.join("g"));
        assert!(fc5 > fc4, "rename updates the moved inode's ctime");
        let t = nix::sys::time::TimeSpec::new(1_000_000_000, 123_456_789);
        nix::sys::stat::utimensat(
            nix::fcntl::AT_FDCWD,
            &root.join("g"),
            &t,
            &t,
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();
        let md = fs::metadata(root.join("g")).unwrap();
        assert_eq!((md.mtime(), md.mtime_nsec()), (1_000_000_000, 123_456_789));
        assert_eq!((md.atime(), md.atime_nsec()), (1_000_000_000, 123_456_789));
    });
}

/// memfs lets the kernel cache names, negative entries and attributes for a day: every change
/// made through the mount must still show at once.
#[test]
fn memfs_long_cache_timeouts_still_show_every_change() {
    let Some(m) = Memfs::start("memfs_long_cache_timeouts_still_show_every_change", &[]) else {
        return;
    };
    let root = m.path.clone();
    on("changes under long timeouts", move || {
        let (f, g) = (root.join("f"), root.join("g"));
        assert_eq!(
            errno(&fs::metadata(root.join("new")).unwrap_err()),
            Some(libc::ENOENT)
        );
        fs::write(root.join("new"), b"x").unwrap();
        assert_eq!(
            fs::metadata(root.join("new")).unwrap().len(),
            1,
            "negative entry replaced"
        );

        fs::write(&f, b"abc").unwrap();
        let mut other = OpenOptions::new().append(true).open(&f).unwrap();
        other.write_all(&[1u8; 10_000]).unwrap();
        let md = fs::metadata(&f).unwrap();
        assert_eq!(
            (md.len(), md.blocks()),
            (10_003, 24),
            "size and blocks after a write"
        );

        fs::hard_link(&f, &g).unwrap();
        assert_eq!(fs::metadata(&f).unwrap().nlink(), 2);
        fs::remove_file(&g).unwrap();
        assert_eq!(fs::metadata(&f).unwrap().nlink(), 1);

        // relatime: a read after a change moves atime (memfs sets it; the kernel must ask).
        let old = nix::sys::time::TimeSpec::new(1_000_000_000, 0);
        nix::sys::stat::utimensat(
            nix::fcntl::AT_FDCWD,
            &f,
            &old,
            &old,
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();
        assert_eq!(fs::metadata(&f).unwrap().atime(), 1_000_000_000);
        if fs::write("/proc/sys/vm/drop_caches", "1").is_ok() {
            assert_eq!(fs::read(&f).unwrap().len(), 10_003);
            assert!(
                fs::metadata(&f).unwrap().atime() > 1_000_000_000,
                "atime after a read"
            );
        }

        symlink("one", root.join("l")).unwrap();
        assert_eq!(fs::read_link(root.join("l")).unwrap(), Path::new("one"));
        fs::remove_file(root.join("l")).unwrap();
        symlink("two", root.join("l")).unwrap();
        assert_eq!(fs::read_link(root.join("l")).unwrap(), Path::new("two"));
    });
}

/// With the write-back cache the kernel positions appends itself and writes pages back at
/// their offsets; memfs must not move those writes to the end of the file.
#[test]
fn memfs_appends_under_writeback_cache() {
    let Some(m) = Memfs::start(
        "memfs_appends_under_writeback_cache",
        &["-o", "writeback_cache"],
    ) else {
        return;
    };
    let path = m.join("log");
    on("appends", move || {
        for line in ["one\n", "two\n", "three\n"] {
            let mut f = OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .unwrap();
            f.write_all(line.as_bytes()).unwrap();
            f.sync_all().unwrap();
        }
        let _ = fs::write("/proc/sys/vm/drop_caches", "1");
        assert_eq!(fs::read_to_string(&path).unwrap(), "one\ntwo\nthree\n");
    });
}

#[test]
fn memfs_extended_attributes() {
    let Some(m) = Memfs::start("memfs_extended_attributes", &[]) else {
        return;
    };
    let f = m.join("f");
    on("xattr calls", move || {
        fs::write(&f, b"").unwrap();
        assert_eq!(
            errno(&getxattr(&f, "user.none", 64).unwrap_err()),
            Some(libc::ENODATA)
        );
        setxattr(&f, "user.a", b"alpha", 0).unwrap();
        setxattr(&f, "user.b", b"", 0).unwrap();
        let e = setxattr(&f, "user.a", b"again", libc::XATTR_CREATE).unwrap_err();
        assert_eq!(errno(&e), Some(libc::EEXIST));
        let e = setxattr(&f, "user.c", b"x", libc::XATTR_REPLACE).unwrap_err();
        assert_eq!(errno(&e), Some(libc::ENODATA));
        setxattr(&f, "user.a", b"alphabet", libc::XATTR_REPLACE).unwrap();
        assert_eq!(getxattr(&f, "user.a", 0).unwrap().len(), 8, "size probe");
        assert_eq!(getxattr(&f, "user.a", 64).unwrap(), b"alphabet");
        assert_eq!(
            errno(&getxattr(&f, "user.a", 3).unwrap_err()),
            Some(libc::ERANGE)
        );
        assert_eq!(getxattr(&f, "user.b", 64).unwrap(), b"");
        let mut names = listxattr(&f).unwrap();
        names.sort();
        assert_eq!(names, ["user.a", "user.b"]);
        removexattr(&f, "user.a").unwrap();
        assert_eq!(
            errno(&removexattr(&f, "user.a").unwrap_err()),
            Some(libc::ENODATA)
        );
        assert_eq!(listxattr(&f).unwrap(), ["user.b"]);
    });
}

#[test]
fn memfs_sparse_files_fallocate_seek_and_copy_file_range() {
    let Some(m) = Memfs::start("memfs_sparse_files_fallocate_seek_and_copy_file_range", &[]) else {
        return;
    };
    let root = m.path.clone();
    on("sparse file operations", move || {
        use nix::fcntl::{FallocateFlags, fallocate};
        use nix::unistd::{Whence, lseek};
        let path = root.join("sparse");
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        f.seek(SeekFrom::Start(1 << 20)).unwrap();
        f.write_all(&[7u8; 8192]).unwrap();
        let md = f.metadata().unwrap();
        assert_eq!(md.len(), (1 << 20) + 8192);
        assert_eq!(md.blocks(), 16, "only the written pages are allocated");
        let fd = f.as_fd();
        assert_eq!(lseek(fd, 0, Whence::SeekData).unwrap(), 1 << 20);
        assert_eq!(lseek(fd, 0, Whence::SeekHole).unwrap(), 0);
        assert_eq!(
            lseek(fd, 1 << 20, Whence::SeekHole).unwrap(),
            (1 << 20) + 8192
        );
        assert_eq!(
            lseek(fd, (1 << 20) + 8192, Whence::SeekData).unwrap_err(),
            Errno::ENXIO
        );

        fallocate(
            fd,
            FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE,
            1 << 20,
            4096,
        )
        .unwrap();
        let md = f.metadata().unwrap();
        assert_eq!((md.len(), md.blocks()), ((1 << 20) + 8192, 8));
        let mut back = vec![0u8; 8192];
        (&f).seek(SeekFrom::Start(1 << 20)).unwrap();
        (&f).read_exact(&mut back).unwrap();
        assert!(back[..4096].iter().all(|&b| b == 0) && back[4096..].iter().all(|&b| b == 7));

        fallocate(fd, FallocateFlags::empty(), 0, 16384).unwrap();
        assert_eq!(
            f.metadata().unwrap().blocks(),
            8 + 32,
            "preallocated pages count"
        );
        fallocate(fd, FallocateFlags::FALLOC_FL_KEEP_SIZE, 4 << 20, 4096).unwrap();
        assert_eq!(
            f.metadata().unwrap().len(),
            (1 << 20) + 8192,
            "KEEP_SIZE keeps the size"
        );

        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(root.join("src"), &data).unwrap();
        let src = File::open(root.join("src")).unwrap();
        let dst = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(root.join("dst"))
            .unwrap();
        let mut copied = 0;
        let (mut off_in, mut off_out) = (0i64, 10i64);
        while copied < data.len() {
            let n = copy_file_range(&src, &mut off_in, &dst, &mut off_out, data.len() - copied)
                .unwrap();
            assert!(n > 0);
            copied += n;
        }
        let out = fs::read(root.join("dst")).unwrap();
        assert_eq!(out.len(), 10 + data.len());
        assert!(out[..10].iter().all(|&b| b == 0));
        assert!(out[10..] == data[..]);
    });
}

#[test]
fn memfs_posix_and_flock_locks() {
    let Some(m) = Memfs::start("memfs_posix_and_flock_locks", &[]) else {
        return;
    };
    let path = m.join("locked");
    on("locks", move || {
        use nix::fcntl::{FcntlArg, Flock, FlockArg, fcntl};
        fs::write(&path, vec![0u8; 100]).unwrap();
        // Open-file-description locks: two opens in one process are two owners.
        let a = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let b = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let lock = |typ: i32, start: i64, len: i64| libc::flock {
            l_type: typ as i16,
            l_whence: libc::SEEK_SET as i16,
            l_start: start,
            l_len: len,
            l_pid: 0,
        };
        fcntl(&a, FcntlArg::F_OFD_SETLK(&lock(libc::F_WRLCK, 0, 50))).unwrap();
        assert_eq!(
            fcntl(&b, FcntlArg::F_OFD_SETLK(&lock(libc::F_RDLCK, 10, 1))).unwrap_err(),
            Errno::EAGAIN
        );
        fcntl(&b, FcntlArg::F_OFD_SETLK(&lock(libc::F_WRLCK, 50, 50))).unwrap();
        let mut probe = lock(libc::F_WRLCK, 0, 0);
        fcntl(&b, FcntlArg::F_OFD_GETLK(&mut probe)).unwrap();
        assert_eq!(
            (probe.l_type as i32, probe.l_start, probe.l_len),
            (libc::F_WRLCK, 0, 50)
        );
        // A blocked F_OFD_SETLKW is granted when the holder unlocks.
        let waiter = {
            let b = b.try_clone().unwrap();
            std::thread::spawn(move || {
                fcntl(&b, FcntlArg::F_OFD_SETLKW(&lock(libc::F_WRLCK, 0, 10)))
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(!waiter.is_finished(), "the lock is held by `a`");
        fcntl(&a, FcntlArg::F_OFD_SETLK(&lock(libc::F_UNLCK, 0, 0))).unwrap();
        waiter.join().unwrap().unwrap();
        drop((a, b));

        let x = Flock::lock(File::open(&path).unwrap(), FlockArg::LockExclusiveNonblock)
            .map_err(|(_, e)| e)
            .unwrap();
        let y = File::open(&path).unwrap();
        let (y, e) = Flock::lock(y, FlockArg::LockSharedNonblock).unwrap_err();
        assert_eq!(e, Errno::EWOULDBLOCK);
        drop(x); // closing the descriptor releases its flock
        let _shared = Flock::lock(y, FlockArg::LockSharedNonblock)
            .map_err(|(_, e)| e)
            .unwrap();
    });
}

#[test]
fn memfs_ownership_setgid_directories_and_umask() {
    let Some(m) = Memfs::start(
        "memfs_ownership_setgid_directories_and_umask",
        &["-o", "allow_other"],
    ) else {
        return;
    };
    if fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("skipping memfs_ownership_setgid_directories_and_umask: needs root");
        return;
    }
    let root = m.path.clone();
    on("ownership", move || {
        let shared = root.join("shared");
        fs::create_dir(&shared).unwrap();
        std::os::unix::fs::chown(&shared, None, Some(1234)).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o2777)).unwrap();
        fs::write(shared.join("f"), b"").unwrap();
        assert_eq!(
            fs::metadata(shared.join("f")).unwrap().gid(),
            1234,
            "group of the setgid parent"
        );
        fs::create_dir(shared.join("sub")).unwrap();
        let sub = fs::metadata(shared.join("sub")).unwrap();
        assert_eq!(sub.gid(), 1234);
        assert!(
            sub.mode() & libc::S_ISGID != 0,
            "subdirectories inherit setgid"
        );

        // A file created by another user belongs to that user (and the parent's group).
        let f2 = shared.join("by-nobody");
        let out = Command::new("sh")
            .arg("-c")
            .arg("umask 027 && : > \"$0\" && mkdir \"$0.d\"")
            .arg(&f2)
            .uid(65534)
            .gid(65534)
            .status()
            .unwrap();
        assert!(out.success());
        let md = fs::metadata(&f2).unwrap();
        assert_eq!((md.uid(), md.gid()), (65534, 1234));
        assert_eq!(md.mode() & 0o7777, 0o640, "the creator's umask applies");
        let md = fs::metadata(shared.join("by-nobody.d")).unwrap();
        assert_eq!(md.mode() & 0o7777, 0o2750);

        fs::create_dir(root.join("plain")).unwrap();
        fs::set_permissions(root.join("plain"), fs::Permissions::from_mode(0o777)).unwrap();
        let f3 = root.join("plain/mine");
        let ok = Command::new("touch")
            .arg(&f3)
            .uid(65534)
            .gid(65534)
            .status()
            .unwrap();
        assert!(ok.success());
        let md = fs::metadata(&f3).unwrap();
        assert_eq!((md.uid(), md.gid()), (65534, 65534));
    });
}

// ---- lifetime of inodes --------------------------------------------------------------------

#[test]
fn memfs_open_unlinked_file_stays_readable_until_closed() {
    let Some(m) = Memfs::start("memfs_open_unlinked_file_stays_readable_until_closed", &[]) else {
        return;
    };
    let base = m.inodes_used();
    let path = m.join("gone");
    on("unlinked open file", move || {
        fs::write(&path, b"still here").unwrap();
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        fs::remove_file(&path).unwrap();
        assert!(!path.exists());
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "still here");
        f.write_all(b", and more").unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        s.clear();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "still here, and more");
        assert_eq!(f.metadata().unwrap().nlink(), 0);
    });
    wait_for("the closed, unlinked file to be freed", || {
        m.inodes_used() == base
    });
}

/// Polls `cond` for up to 20 s.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + CALL_TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn memfs_forgotten_inodes_and_deleted_data_are_freed() {
    let Some(m) = Memfs::start("memfs_forgotten_inodes_and_deleted_data_are_freed", &[]) else {
        return;
    };
    let (inodes0, blocks0) = (m.inodes_used(), m.blocks_used());
    let dir = m.join("many");
    const N: usize = 2000;
    {
        let dir = dir.clone();
        on("create files", move || {
            fs::create_dir(&dir).unwrap();
            for i in 0..N {
                fs::write(dir.join(format!("f{i}")), vec![1u8; 5000]).unwrap();
            }
        });
    }
    assert_eq!(m.inodes_used(), inodes0 + N as u64 + 1);
    assert_eq!(
        m.blocks_used(),
        blocks0 + 2 * N as u64,
        "two pages per file"
    );
    // Listing with READDIRPLUS counts a lookup per entry; dropping the kernel's caches
    // forgets them all, and the files (still linked) stay.
    let listed = {
        let dir = dir.clone();
        on("list", move || fs::read_dir(&dir).unwrap().count())
    };
    assert_eq!(listed, N);
    let drop_caches = fs::write("/proc/sys/vm/drop_caches", "2").is_ok();
    assert_eq!(m.inodes_used(), inodes0 + N as u64 + 1);
    {
        let dir = dir.clone();
        on("read back", move || {
            for i in (0..N).step_by(97) {
                assert_eq!(
                    fs::read(dir.join(format!("f{i}"))).unwrap(),
                    vec![1u8; 5000]
                );
            }
        });
    }
    on("delete", move || fs::remove_dir_all(&dir).unwrap());
    if drop_caches {
        let _ = fs::write("/proc/sys/vm/drop_caches", "2");
    }
    wait_for("deleted inodes to be freed", || m.inodes_used() == inodes0);
    assert_eq!(m.blocks_used(), blocks0, "the data's memory is back");
}

#[test]
fn memfs_size_limit_gives_enospc_and_keeps_data() {
    let Some(m) = Memfs::start(
        "memfs_size_limit_gives_enospc_and_keeps_data",
        &["--size", "1M"],
    ) else {
        return;
    };
    let s = m.statvfs();
    assert_eq!(
        (s.fragment_size() * s.blocks(), s.blocks_free()),
        (1 << 20, 256)
    );
    let root = m.path.clone();
    on("fill the filesystem", move || {
        let keep: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        fs::write(root.join("keep"), &keep).unwrap();
        let mut big = File::create(root.join("big")).unwrap();
        let chunk = vec![9u8; 64 * 1024];
        let mut written = 0usize;
        let err = loop {
            match big.write(&chunk) {
                Ok(n) => written += n,
                Err(e) => break e,
            }
            assert!(written < (2 << 20), "writes beyond the limit must fail");
        };
        assert_eq!(errno(&err), Some(libc::ENOSPC));
        assert!(
            written >= (1 << 20) - 300_000 - 8192,
            "the space up to the limit is usable: {written}"
        );
        drop(big);
        assert_eq!(
            fs::read(root.join("keep")).unwrap(),
            keep,
            "nothing stored is lost"
        );
        let back = fs::read(root.join("big")).unwrap();
        assert_eq!(back.len(), written);
        assert!(back.iter().all(|&b| b == 9));
        let st = nix::sys::statvfs::statvfs(&root).unwrap();
        assert_eq!(st.blocks_free(), 0, "statfs shows the filesystem full");
        let e = nix::fcntl::fallocate(
            File::open(root.join("keep")).unwrap().as_fd(),
            nix::fcntl::FallocateFlags::empty(),
            0,
            1 << 20,
        );
        assert!(e.is_err());
        fs::remove_file(root.join("big")).unwrap();
    });
    wait_for("space to come back", || m.statvfs().blocks_free() > 150);
}

#[test]
fn memfs_readdir_offsets_survive_concurrent_changes() {
    let Some(m) = Memfs::start("memfs_readdir_offsets_survive_concurrent_changes", &[]) else {
        return;
    };
    let dir = m.join("d");
    on("readdir while entries come and go", move || {
        fs::create_dir(&dir).unwrap();
        const KEEP: usize = 1500;
        for i in 0..KEEP {
            fs::write(dir.join(format!("keep-{i:05}")), b"").unwrap();
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let churn = {
            let (dir, stop) = (dir.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let p = dir.join(format!("churn-{i}"));
                    fs::write(&p, b"").unwrap();
                    if i.is_multiple_of(2) {
                        fs::remove_file(&p).unwrap();
                    }
                    i += 1;
                }
            })
        };
        for _ in 0..5 {
            let mut seen = BTreeMap::<String, usize>::new();
            for e in fs::read_dir(&dir).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                *seen.entry(name).or_default() += 1;
            }
            let keeps: Vec<_> = seen
                .iter()
                .filter(|(n, _)| n.starts_with("keep-"))
                .collect();
            assert_eq!(keeps.len(), KEEP, "every stable entry is listed");
            assert!(keeps.iter().all(|(_, c)| **c == 1), "and listed once");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        churn.join().unwrap();
    });
}

// ---- real tools ----------------------------------------------------------------------------

/// A small tree with what archivers care about: nested directories, sizes across page
/// boundaries, an executable, a private file, symlinks, a hard link and old timestamps.
fn make_tree(root: &Path) {
    fs::create_dir_all(root.join("a/b/c")).unwrap();
    for (i, size) in [0usize, 1, 4095, 4096, 4097, 100_000, 1 << 20]
        .iter()
        .enumerate()
    {
        let data: Vec<u8> = (0..*size).map(|j| (j * 31 + i) as u8).collect();
        fs::write(root.join(format!("a/f{i}")), data).unwrap();
    }
    fs::write(root.join("a/b/run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(root.join("a/b/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(root.join("a/b/c/secret"), b"s").unwrap();
    fs::set_permissions(root.join("a/b/c/secret"), fs::Permissions::from_mode(0o600)).unwrap();
    symlink("../f1", root.join("a/b/rel-link")).unwrap();
    symlink("/nonexistent/target", root.join("a/dangling")).unwrap();
    fs::hard_link(root.join("a/f2"), root.join("a/b/hard")).unwrap();
    let t = nix::sys::time::TimeSpec::new(1_500_000_000, 0);
    for p in ["a/f0", "a/b/run.sh", "a/b/c"] {
        nix::sys::stat::utimensat(
            nix::fcntl::AT_FDCWD,
            &root.join(p),
            &t,
            &t,
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();
    }
}

/// What is compared of one path: mode (type included), size, mtime, owner, and the
/// contents (or link target) as a checksum.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    mode: u32,
    size: u64,
    mtime: i64,
    owner: (u32, u32),
    sum: u64,
}

fn checksum(bytes: &[u8]) -> u64 {
    // FNV-1a: enough to tell contents apart in a test.
    bytes.iter().fold(0xcbf29ce484222325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

fn snapshot(root: &Path, with_mtime: bool) -> BTreeMap<PathBuf, Seen> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let md = fs::symlink_metadata(&p).unwrap();
            let sum = if md.is_file() {
                checksum(&fs::read(&p).unwrap())
            } else if md.file_type().is_symlink() {
                checksum(fs::read_link(&p).unwrap().as_os_str().as_bytes())
            } else {
                stack.push(p.clone());
                0
            };
            let seen = Seen {
                mode: md.mode(),
                size: if md.is_dir() { 0 } else { md.len() },
                mtime: if with_mtime && md.is_file() {
                    md.mtime()
                } else {
                    0
                },
                owner: (md.uid(), md.gid()),
                sum,
            };
            out.insert(p.strip_prefix(root).unwrap().to_path_buf(), seen);
        }
    }
    out
}

/// Panics naming the first path that differs.
fn assert_same_tree(got: &BTreeMap<PathBuf, Seen>, want: &BTreeMap<PathBuf, Seen>, what: &str) {
    for (path, w) in want {
        match got.get(path) {
            None => panic!("{what}: {} is missing", path.display()),
            Some(g) => assert_eq!(g, w, "{what}: {} differs", path.display()),
        }
    }
    for path in got.keys() {
        assert!(
            want.contains_key(path),
            "{what}: unexpected {}",
            path.display()
        );
    }
}

/// [`snapshot`] of a tree in the mount, within the call timeout.
fn snap(root: &Path) -> BTreeMap<PathBuf, Seen> {
    let root = root.to_path_buf();
    on("snapshot of a tree", move || snapshot(&root, true))
}

#[test]
fn memfs_tar_extract_and_cp_a_round_trip() {
    let Some(m) = Memfs::start("memfs_tar_extract_and_cp_a_round_trip", &[]) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    make_tree(&src);
    let want = snapshot(&src, true);
    let long = Duration::from_secs(60);

    // tar: archive outside, extract inside, compare (and archive again from the mount).
    let tarball = work.path().join("t.tar");
    run(
        Command::new("tar")
            .arg("-cf")
            .arg(&tarball)
            .arg("-C")
            .arg(&src)
            .arg("."),
        long,
    );
    let x = m.join("x");
    let dir = x.clone();
    on("mkdir", move || fs::create_dir(dir).unwrap());
    run(
        Command::new("tar")
            .arg("-xpf")
            .arg(&tarball)
            .arg("-C")
            .arg(&x),
        long,
    );
    assert_same_tree(&snap(&x), &want, "tar extract");
    let (f2, hard) = (x.join("a/f2"), x.join("a/b/hard"));
    let (a, b) = on("stat", move || {
        (
            fs::metadata(f2).unwrap().ino(),
            fs::metadata(hard).unwrap().ino(),
        )
    });
    assert_eq!(a, b, "hard links survive");
    run(
        Command::new("tar")
            .arg("-cf")
            .arg(m.join("again.tar"))
            .arg("-C")
            .arg(&x)
            .arg("."),
        long,
    );
    run(
        Command::new("tar").arg("-tf").arg(m.join("again.tar")),
        long,
    );

    // cp -a in and back out, metadata included.
    run(
        Command::new("cp").arg("-a").arg(&src).arg(m.join("cp")),
        long,
    );
    assert_same_tree(&snap(&m.join("cp")), &want, "cp -a into memfs");
    let back = work.path().join("back");
    run(
        Command::new("cp").arg("-a").arg(m.join("cp")).arg(&back),
        long,
    );
    assert_same_tree(&snapshot(&back, true), &want, "cp -a out of memfs");

    if have("rsync") {
        run(
            Command::new("rsync")
                .arg("-aH")
                .arg(format!("{}/", src.display()))
                .arg(m.join("rs")),
            long,
        );
        assert_same_tree(&snap(&m.join("rs")), &want, "rsync -aH");
        // A second run finds nothing to do.
        let out = run(
            Command::new("rsync")
                .arg("-aHi")
                .arg(format!("{}/", src.display()))
                .arg(m.join("rs")),
            long,
        );
        assert!(out.trim().is_empty(), "rsync found differences: {out}");
    } else {
        eprintln!("memfs_tar_extract_and_cp_a_round_trip: rsync not installed, skipping its part");
    }
}

#[test]
fn memfs_git_init_add_commit() {
    if !have("git") {
        eprintln!("skipping memfs_git_init_add_commit: git not installed");
        return;
    }
    let Some(m) = Memfs::start("memfs_git_init_add_commit", &[]) else {
        return;
    };
    let repo = m.join("repo");
    let tree = repo.clone();
    on("make a tree", move || make_tree(&tree));
    let long = Duration::from_secs(120);
    let git = |args: &[&str]| {
        let mut c = Command::new("git");
        c.arg("-C")
            .arg(&repo)
            .args([
                "-c",
                "user.name=memfs",
                "-c",
                "user.email=memfs@example.com",
            ])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &repo);
        run(&mut c, long)
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "first"]);
    let tree = repo.clone();
    on("edit the tree", move || {
        fs::write(tree.join("a/f1"), b"changed").unwrap();
        fs::remove_file(tree.join("a/f3")).unwrap();
    });
    git(&["commit", "-q", "-a", "-m", "second"]);
    assert!(git(&["status", "--porcelain"]).trim().is_empty());
    assert_eq!(git(&["rev-list", "--count", "HEAD"]).trim(), "2");
    git(&["gc", "-q"]);
    git(&["fsck", "--strict"]);
    git(&["checkout", "-q", "HEAD~1"]);
    let f3 = repo.join("a/f3");
    assert!(
        on("stat", move || f3.exists()),
        "checkout restores the file"
    );
}

#[test]
fn memfs_cargo_builds_a_crate() {
    let Some(m) = Memfs::start("memfs_cargo_builds_a_crate", &[]) else {
        return;
    };
    let cargo = env!("CARGO");
    let long = Duration::from_secs(300);
    run(
        Command::new(cargo)
            .args(["new", "--offline", "--vcs", "none", "--name", "tiny"])
            .arg(m.join("tiny")),
        long,
    );
    run(
        Command::new(cargo)
            .args(["build", "--offline", "--quiet"])
            .current_dir(m.join("tiny"))
            .env("CARGO_TARGET_DIR", m.join("tiny/target")),
        long,
    );
    let out = run(&mut Command::new(m.join("tiny/target/debug/tiny")), long);
    assert_eq!(out, "Hello, world!\n");
}
