//! The `passthrough` example as users run it (`passthrough [OPTIONS] SOURCE MOUNTPOINT`,
//! spawned from `target/<profile>/examples/passthrough`): every operation through the mount
//! must show in the source with the source's own results, changes made in the source must show
//! through the mount, errors keep their errno, and the daemon lets go of every source file the
//! kernel forgets. Every mount is unmounted by a guard, also when a test fails.

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, FcntlArg, OFlag, RenameFlags, fcntl};

use crate::examples::example_binary;
use crate::mount::common::{CALL_TIMEOUT, fuse_available, is_mounted, wait_unmounted, within};

/// A running `passthrough SOURCE MOUNTPOINT`; Ctrl-C on drop, then a lazy unmount and
/// SIGKILL if it does not go by itself. Both directories are fresh and short-pathed.
pub(crate) struct Mirror {
    child: Option<Child>,
    src: tempfile::TempDir,
    mnt: Option<tempfile::TempDir>,
    log: PathBuf,
}

impl Mirror {
    /// Starts the example with `args` (before SOURCE and MOUNTPOINT); `None` without FUSE.
    pub(crate) fn start(test: &str, args: &[&str]) -> Option<Mirror> {
        fuse_available(test)?;
        let src = tempfile::Builder::new().prefix("pts-").tempdir().unwrap();
        let mnt = tempfile::Builder::new().prefix("ptm-").tempdir().unwrap();
        for d in [src.path(), mnt.path()] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let log = src.path().with_extension("log");
        let child = Command::new(example_binary("passthrough"))
            .arg("-f")
            .args(args)
            .arg(src.path())
            .arg(mnt.path())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("start passthrough");
        let mut m = Mirror {
            child: Some(child),
            src,
            mnt: Some(mnt),
            log,
        };
        let deadline = Instant::now() + CALL_TIMEOUT;
        while !is_mounted(m.mnt()) {
            if let Ok(Some(status)) = m.child.as_mut().unwrap().try_wait() {
                panic!("passthrough exited early: {status}\n{}", m.log_text());
            }
            assert!(Instant::now() < deadline, "passthrough did not mount");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(m)
    }

    pub(crate) fn mnt(&self) -> &Path {
        self.mnt.as_ref().expect("mounted").path()
    }

    /// `rel` under the mountpoint.
    pub(crate) fn m(&self, rel: &str) -> PathBuf {
        self.mnt().join(rel)
    }

    /// `rel` under the source.
    pub(crate) fn s(&self, rel: &str) -> PathBuf {
        self.src.path().join(rel)
    }

    pub(crate) fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The source files the daemon holds a descriptor of (the source root excluded).
    fn held(&self) -> Vec<String> {
        let pid = self.child.as_ref().expect("running").id();
        let root = self.src.path().to_string_lossy().into_owned();
        let mut held: Vec<String> = fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|dir| {
                dir.filter_map(|e| fs::read_link(e.ok()?.path()).ok())
                    .map(|p| p.to_string_lossy().into_owned())
                    .filter(|p| p.starts_with(&format!("{root}/")))
                    .collect()
            })
            .unwrap_or_default();
        held.sort();
        held
    }

    /// Waits until the daemon holds no descriptor of a file `pred` selects.
    fn wait_released(&self, what: &str, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left: Vec<String> = self.held().into_iter().filter(|p| pred(p)).collect();
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: the daemon still holds {} source files, e.g. {:?}",
                left.len(),
                &left[..left.len().min(5)]
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = Instant::now() + CALL_TIMEOUT;
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        let mnt = self.mnt.take().expect("mountpoint");
        if !wait_unmounted(mnt.path(), Duration::from_secs(2)) {
            let _ = nix::mount::umount2(mnt.path(), nix::mount::MntFlags::MNT_DETACH);
            let _ = mnt.keep();
        }
        let _ = fs::remove_file(&self.log);
        if std::thread::panicking() {
            eprintln!("passthrough log:\n{}", self.log_text());
        }
    }
}

/// Plain mode: reads and writes through the handlers.
pub(crate) const HANDLERS: &[&str] = &["--no-kernel-passthrough"];

fn on<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(CALL_TIMEOUT, what, f)
}

fn errno(r: io::Result<impl Sized>) -> Option<i32> {
    r.err().and_then(|e| e.raw_os_error())
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn setxattr(p: &Path, name: &str, value: &[u8], flags: i32) -> io::Result<()> {
    let (p, n) = (cpath(p), CString::new(name).unwrap());
    // SAFETY: NUL-terminated strings and a buffer of the given length, all alive for the call.
    let r = unsafe {
        libc::setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    };
    check(r).map(drop)
}

fn getxattr(p: &Path, name: &str) -> io::Result<Vec<u8>> {
    let (p, n) = (cpath(p), CString::new(name).unwrap());
    let mut buf = vec![0u8; 65536];
    // SAFETY: NUL-terminated strings and a writable buffer of the given length.
    let r = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    buf.truncate(usize::try_from(check(r as libc::c_int)?).unwrap());
    Ok(buf)
}

fn listxattr(p: &Path) -> io::Result<Vec<String>> {
    let p = cpath(p);
    let mut buf = vec![0u8; 65536];
    // SAFETY: a NUL-terminated string and a writable buffer of the given length.
    let r = unsafe { libc::listxattr(p.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    buf.truncate(usize::try_from(check(r as libc::c_int)?).unwrap());
    let mut names: Vec<String> = buf
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn removexattr(p: &Path, name: &str) -> io::Result<()> {
    let (p, n) = (cpath(p), CString::new(name).unwrap());
    // SAFETY: NUL-terminated strings alive for the call.
    check(unsafe { libc::removexattr(p.as_ptr(), n.as_ptr()) }).map(drop)
}

fn copy_range(from: &File, off_in: i64, to: &File, off_out: i64, len: usize) -> io::Result<usize> {
    let (mut a, mut b) = (off_in, off_out);
    // SAFETY: two open descriptors and two offsets that live across the call.
    let n =
        unsafe { libc::copy_file_range(from.as_raw_fd(), &mut a, to.as_raw_fd(), &mut b, len, 0) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

fn lock(typ: i32, start: i64, len: i64) -> libc::flock {
    libc::flock {
        l_type: typ as i16,
        l_whence: libc::SEEK_SET as i16,
        l_start: start,
        l_len: len,
        l_pid: 0,
    }
}

fn rw(p: &Path) -> File {
    OpenOptions::new().read(true).write(true).open(p).unwrap()
}

/// Runs `sh -c script` as `uid`:`gid` (std drops the supplementary groups).
fn sh_as(uid: u32, gid: u32, script: &str) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .uid(uid)
        .gid(gid)
        .output()
        .unwrap()
}

#[test]
fn passthrough_files_written_through_the_mount_land_in_the_source() {
    let Some(m) = Mirror::start("passthrough_files_written", HANDLERS) else {
        return;
    };
    let (mf, sf) = (m.m("file"), m.s("file"));
    on("write, append, overwrite, truncate, read", move || {
        fs::write(&mf, b"hello\n").unwrap();
        assert_eq!(fs::read(&sf).unwrap(), b"hello\n");
        OpenOptions::new()
            .append(true)
            .open(&mf)
            .unwrap()
            .write_all(b"world\n")
            .unwrap();
        assert_eq!(fs::read(&sf).unwrap(), b"hello\nworld\n");
        rw(&mf).write_all_at(b"HE", 0).unwrap();
        assert_eq!(fs::read(&sf).unwrap(), b"HEllo\nworld\n");
        // Large writes arrive in 1 MiB requests; reads come back whole.
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        fs::write(&mf, &big).unwrap();
        assert_eq!(fs::read(&sf).unwrap(), big);
        assert_eq!(fs::read(&mf).unwrap(), big);
        rw(&mf).set_len(10).unwrap();
        assert_eq!(fs::metadata(&sf).unwrap().len(), 10);
        // O_TRUNC on open.
        File::create(&mf).unwrap();
        assert_eq!(fs::metadata(&sf).unwrap().len(), 0);
        // Two opens of one file at once, then O_EXCL on an existing name.
        let (a, b) = (rw(&mf), File::open(&mf).unwrap());
        a.write_all_at(b"xy", 0).unwrap();
        let mut s = String::new();
        (&b).read_to_string(&mut s).unwrap();
        assert_eq!(s, "xy");
        let excl = OpenOptions::new().write(true).create_new(true).open(&mf);
        assert_eq!(errno(excl), Some(libc::EEXIST));
    });
    let (mf, sf) = (m.m("file"), m.s("file"));
    on("attributes", move || {
        let st = fs::metadata(&sf).unwrap();
        let mt = fs::metadata(&mf).unwrap();
        assert_eq!(
            mt.ino(),
            st.ino(),
            "the source's inode numbers show through"
        );
        fs::set_permissions(&mf, fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(fs::metadata(&sf).unwrap().mode() & 0o7777, 0o640);
        std::os::unix::fs::chown(&mf, Some(1234), Some(5678)).unwrap();
        let st = fs::metadata(&sf).unwrap();
        assert_eq!((st.uid(), st.gid()), (1234, 5678));
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
        let f = rw(&mf);
        f.set_times(fs::FileTimes::new().set_modified(t).set_accessed(t))
            .unwrap();
        let st = fs::metadata(&sf).unwrap();
        assert_eq!((st.mtime(), st.mtime_nsec()), (1_000_000_000, 123_456_789));
        assert_eq!((st.atime(), st.atime_nsec()), (1_000_000_000, 123_456_789));
        let mt = fs::metadata(&mf).unwrap();
        assert_eq!(
            (mt.mtime(), mt.mtime_nsec(), mt.mode()),
            (st.mtime(), st.mtime_nsec(), st.mode())
        );
    });
    let mnt = m.mnt().to_path_buf();
    let src = m.src.path().to_path_buf();
    on("statfs is the source's", move || {
        let (a, b) = (
            nix::sys::statvfs::statvfs(&mnt).unwrap(),
            nix::sys::statvfs::statvfs(&src).unwrap(),
        );
        assert_eq!(
            (a.blocks(), a.fragment_size(), a.name_max()),
            (b.blocks(), b.fragment_size(), b.name_max())
        );
        assert_eq!(a.files(), b.files());
    });
}

/// A running program cannot be truncated through the mount: the kernel refuses with ETXTBSY
/// before the source is touched (so the example does not ask for `atomic_o_trunc`).
#[test]
fn passthrough_running_program_is_not_truncated() {
    let Some(m) = Mirror::start("passthrough_running_program", HANDLERS) else {
        return;
    };
    let (mf, sf) = (m.m("sleep"), m.s("sleep"));
    let original = fs::read("/bin/sleep").unwrap();
    fs::write(&sf, &original).unwrap();
    fs::set_permissions(&sf, fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = Command::new(&mf).arg("30").spawn().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let r = on("open(O_RDONLY | O_TRUNC) of a running program", move || {
        nix::fcntl::open(
            &mf,
            OFlag::O_RDONLY | OFlag::O_TRUNC,
            nix::sys::stat::Mode::empty(),
        )
        .map(drop)
    });
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(r, Err(Errno::ETXTBSY));
    assert!(alive, "the program kept running");
    assert_eq!(fs::read(&sf).unwrap(), original);
}

#[test]
fn passthrough_directories_links_and_special_files() {
    let Some(m) = Mirror::start("passthrough_directories_links", HANDLERS) else {
        return;
    };
    let (mnt, src) = (m.mnt().to_path_buf(), m.src.path().to_path_buf());
    on(
        "mkdir, symlink, link, mknod, socket, rmdir, unlink",
        move || {
            use nix::sys::stat::{Mode, SFlag, mknod};
            fs::create_dir(mnt.join("d")).unwrap();
            fs::write(mnt.join("d/f"), b"x").unwrap();
            assert!(src.join("d").is_dir() && src.join("d/f").is_file());
            assert_eq!(errno(fs::remove_dir(mnt.join("d"))), Some(libc::ENOTEMPTY));
            assert_eq!(errno(fs::create_dir(mnt.join("d"))), Some(libc::EEXIST));

            symlink("d/f", mnt.join("l")).unwrap();
            assert_eq!(fs::read_link(src.join("l")).unwrap(), Path::new("d/f"));
            assert_eq!(fs::read_link(mnt.join("l")).unwrap(), Path::new("d/f"));
            assert_eq!(fs::read(mnt.join("l")).unwrap(), b"x");

            fs::hard_link(mnt.join("d/f"), mnt.join("hard")).unwrap();
            let (a, b) = (
                fs::metadata(mnt.join("hard")).unwrap(),
                fs::metadata(mnt.join("d/f")).unwrap(),
            );
            assert_eq!((a.ino(), a.nlink()), (b.ino(), 2));
            assert_eq!(
                fs::metadata(src.join("hard")).unwrap().ino(),
                fs::metadata(src.join("d/f")).unwrap().ino()
            );
            // A hard link to a symlink links the symlink itself.
            fs::hard_link(mnt.join("l"), mnt.join("l2")).unwrap();
            assert!(
                fs::symlink_metadata(src.join("l2"))
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );

            nix::unistd::mkfifo(&mnt.join("fifo"), Mode::from_bits_truncate(0o640)).unwrap();
            let st = fs::symlink_metadata(src.join("fifo")).unwrap();
            assert_eq!(st.mode() & libc::S_IFMT, libc::S_IFIFO);
            let dev = libc::makedev(1, 3);
            mknod(
                &mnt.join("null"),
                SFlag::S_IFCHR,
                Mode::from_bits_truncate(0o600),
                dev,
            )
            .unwrap();
            let st = fs::symlink_metadata(src.join("null")).unwrap();
            assert_eq!((st.mode() & libc::S_IFMT, st.rdev()), (libc::S_IFCHR, dev));
            assert_eq!(fs::symlink_metadata(mnt.join("null")).unwrap().rdev(), dev);
            let sock = std::os::unix::net::UnixListener::bind(mnt.join("sock")).unwrap();
            let st = fs::symlink_metadata(src.join("sock")).unwrap();
            assert_eq!(st.mode() & libc::S_IFMT, libc::S_IFSOCK);
            drop(sock);

            let mut names: Vec<String> = fs::read_dir(&mnt)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            assert_eq!(names, ["d", "fifo", "hard", "l", "l2", "null", "sock"]);

            for name in ["d/f", "hard", "l", "l2", "fifo", "null", "sock"] {
                fs::remove_file(mnt.join(name)).unwrap();
                assert!(
                    fs::symlink_metadata(src.join(name)).is_err(),
                    "{name} is gone"
                );
            }
            fs::remove_dir(mnt.join("d")).unwrap();
            assert_eq!(fs::read_dir(&src).unwrap().count(), 0);
        },
    );
}

#[test]
fn passthrough_rename_flags_reach_the_source() {
    let Some(m) = Mirror::start("passthrough_rename_flags", HANDLERS) else {
        return;
    };
    let (mnt, src) = (m.mnt().to_path_buf(), m.src.path().to_path_buf());
    on("rename, RENAME_NOREPLACE, RENAME_EXCHANGE", move || {
        let rename2 = |a: &str, b: &str, flags: RenameFlags| {
            nix::fcntl::renameat2(
                nix::fcntl::AT_FDCWD,
                &mnt.join(a),
                nix::fcntl::AT_FDCWD,
                &mnt.join(b),
                flags,
            )
        };
        fs::write(mnt.join("a"), b"A").unwrap();
        fs::write(mnt.join("b"), b"B").unwrap();
        fs::create_dir(mnt.join("dir")).unwrap();
        fs::rename(mnt.join("a"), mnt.join("dir/a2")).unwrap();
        assert_eq!(fs::read(src.join("dir/a2")).unwrap(), b"A");
        assert_eq!(
            rename2("dir/a2", "b", RenameFlags::RENAME_NOREPLACE),
            Err(Errno::EEXIST)
        );
        rename2("dir/a2", "b", RenameFlags::RENAME_EXCHANGE).unwrap();
        assert_eq!(fs::read(src.join("b")).unwrap(), b"A");
        assert_eq!(fs::read(src.join("dir/a2")).unwrap(), b"B");
        assert_eq!(fs::read(mnt.join("b")).unwrap(), b"A");
        // Replacing an open file: the open keeps the old contents, the name the new ones.
        let old = File::open(mnt.join("b")).unwrap();
        fs::rename(mnt.join("dir/a2"), mnt.join("b")).unwrap();
        assert_eq!(fs::read(mnt.join("b")).unwrap(), b"B");
        let mut s = String::new();
        (&old).read_to_string(&mut s).unwrap();
        assert_eq!(s, "A");
        assert_eq!(
            rename2("dir", "nowhere/x", RenameFlags::empty()),
            Err(Errno::ENOENT)
        );
    });
}

#[test]
fn passthrough_errors_keep_the_source_errno() {
    let Some(m) = Mirror::start("passthrough_errors", HANDLERS) else {
        return;
    };
    // A different filesystem inside the source: renames across it fail in the source (EXDEV).
    let inner = m.s("inner");
    fs::create_dir(&inner).unwrap();
    let tmpfs = nix::mount::mount(
        Some("tmpfs"),
        &inner,
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        Some("size=1m,mode=0755"),
    );
    let (mnt, src) = (m.mnt().to_path_buf(), m.src.path().to_path_buf());
    let inner_mounted = tmpfs.is_ok();
    on("errors", move || {
        assert_eq!(errno(File::open(mnt.join("missing"))), Some(libc::ENOENT));
        assert_eq!(
            errno(fs::create_dir(mnt.join("missing/x"))),
            Some(libc::ENOENT)
        );
        fs::write(mnt.join("f"), b"").unwrap();
        assert_eq!(errno(File::open(mnt.join("f/x"))), Some(libc::ENOTDIR));
        fs::create_dir(mnt.join("d")).unwrap();
        assert_eq!(errno(fs::remove_file(mnt.join("d"))), Some(libc::EISDIR));
        assert_eq!(errno(fs::remove_dir(mnt.join("f"))), Some(libc::ENOTDIR));
        let long = "n".repeat(300);
        assert_eq!(
            errno(File::create(mnt.join(&long))),
            Some(libc::ENAMETOOLONG)
        );
        assert_eq!(
            errno(getxattr(&mnt.join("f"), "user.none")),
            Some(libc::ENODATA)
        );
        // Out of the mount: the kernel's EXDEV.
        assert_eq!(
            errno(fs::rename(mnt.join("f"), src.join("g"))),
            Some(libc::EXDEV)
        );
        if inner_mounted {
            fs::write(mnt.join("inner/x"), b"inner").unwrap();
            assert_eq!(fs::read(src.join("inner/x")).unwrap(), b"inner");
            // Within the mount, across the source's own mount point: the source's EXDEV.
            assert_eq!(
                errno(fs::rename(mnt.join("inner/x"), mnt.join("x"))),
                Some(libc::EXDEV)
            );
            let (a, b) = (
                fs::metadata(mnt.join("inner/x")).unwrap(),
                fs::metadata(mnt.join("f")).unwrap(),
            );
            assert_ne!(a.ino(), b.ino());
        }
    });
    if inner_mounted {
        let _ = nix::mount::umount2(&inner, nix::mount::MntFlags::MNT_DETACH);
    }
}

#[test]
fn passthrough_creates_files_as_the_caller() {
    let Some(m) = Mirror::start(
        "passthrough_creates_as_caller",
        &["--no-kernel-passthrough", "-o", "allow_other"],
    ) else {
        return;
    };
    let (mnt, src) = (m.mnt().to_path_buf(), m.src.path().to_path_buf());
    on("ownership", move || {
        fs::create_dir(mnt.join("open")).unwrap();
        fs::set_permissions(mnt.join("open"), fs::Permissions::from_mode(0o777)).unwrap();
        let out = sh_as(
            65534,
            65534,
            &format!(
                "cd {} && touch f && mkdir d && ln -s f l && mkfifo p && echo x > e",
                mnt.join("open").display()
            ),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for name in ["f", "d", "l", "p", "e"] {
            let st = fs::symlink_metadata(src.join("open").join(name)).unwrap();
            assert_eq!(
                (st.uid(), st.gid()),
                (65534, 65534),
                "{name} belongs to its creator"
            );
        }
        // A setgid directory hands its group down, and its setgid bit to subdirectories.
        fs::create_dir(mnt.join("shared")).unwrap();
        std::os::unix::fs::chown(mnt.join("shared"), None, Some(1001)).unwrap();
        fs::set_permissions(mnt.join("shared"), fs::Permissions::from_mode(0o2777)).unwrap();
        let out = sh_as(
            65534,
            65534,
            &format!("cd {} && touch f && mkdir d", mnt.join("shared").display()),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let f = fs::metadata(src.join("shared/f")).unwrap();
        let d = fs::metadata(src.join("shared/d")).unwrap();
        assert_eq!((f.uid(), f.gid()), (65534, 1001));
        assert_eq!((d.gid(), d.mode() & 0o2000), (1001, 0o2000));
        // The kernel checks permissions with the caller's identity (default_permissions).
        fs::set_permissions(mnt.join("open"), fs::Permissions::from_mode(0o755)).unwrap();
        let out = sh_as(
            65534,
            65534,
            &format!("touch {}", mnt.join("open/g").display()),
        );
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("Permission denied"));
        // The daemon's umask does not apply; the caller's does.
        let out = sh_as(
            0,
            0,
            &format!("umask 027 && touch {}", mnt.join("open/m").display()),
        );
        assert!(out.status.success());
        assert_eq!(
            fs::metadata(src.join("open/m")).unwrap().mode() & 0o777,
            0o640
        );
    });
}

/// Symlink ownership and the sticky-directory rules, as a POSIX test suite exercises them:
/// `chown -h` by root and by the link's owner, then unlink and rename of another user's link
/// in a sticky directory. The kernel decides the sticky rules (`default_permissions`) from the
/// owners the daemon reports, so a `chown -h` that failed would show here twice.
fn symlinks_in_a_sticky_directory(m: &Mirror) {
    const NOBODY: u32 = 65534;
    const OTHER: u32 = 1001;
    let (mnt, src) = (m.m("sticky"), m.s("sticky"));
    on("chown -h, unlink and rename of symlinks", move || {
        let owner = |p: &Path| {
            let st = fs::symlink_metadata(p).unwrap();
            assert!(st.file_type().is_symlink(), "{} is a symlink", p.display());
            (st.uid(), st.gid())
        };
        let ok = |out: std::process::Output, what: &str| {
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let refused = |out: std::process::Output, what: &str| {
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!out.status.success(), "{what} succeeded");
            assert!(err.contains("Operation not permitted"), "{what}: {err}");
        };
        fs::create_dir(&mnt).unwrap();
        fs::set_permissions(&mnt, fs::Permissions::from_mode(0o1777)).unwrap();

        // Root gives a link away: the link changes, not its target (which does not exist).
        symlink("missing", mnt.join("root")).unwrap();
        std::os::unix::fs::lchown(mnt.join("root"), Some(NOBODY), Some(NOBODY)).unwrap();
        assert_eq!(owner(&mnt.join("root")), (NOBODY, NOBODY));
        assert_eq!(owner(&src.join("root")), (NOBODY, NOBODY));
        std::os::unix::fs::lchown(mnt.join("root"), Some(0), Some(0)).unwrap();
        assert_eq!(owner(&src.join("root")), (0, 0));
        // A link to an existing file: the file keeps its owner.
        fs::write(mnt.join("target"), b"x").unwrap();
        symlink("target", mnt.join("to-target")).unwrap();
        std::os::unix::fs::lchown(mnt.join("to-target"), Some(OTHER), Some(OTHER)).unwrap();
        assert_eq!(owner(&src.join("to-target")), (OTHER, OTHER));
        let target = fs::symlink_metadata(src.join("target")).unwrap();
        assert_eq!((target.uid(), target.gid()), (0, 0));

        // The owner may change a link's group to one of its own, nothing else.
        symlink("missing", mnt.join("mine")).unwrap();
        std::os::unix::fs::lchown(mnt.join("mine"), Some(NOBODY), Some(0)).unwrap();
        let mine = mnt.join("mine").display().to_string();
        ok(
            sh_as(NOBODY, NOBODY, &format!("chown -h :{NOBODY} {mine}")),
            "owner's chgrp to its group",
        );
        assert_eq!(owner(&src.join("mine")), (NOBODY, NOBODY));
        refused(
            sh_as(NOBODY, NOBODY, &format!("chown -h :{OTHER} {mine}")),
            "owner's chgrp to a foreign group",
        );
        refused(
            sh_as(NOBODY, NOBODY, &format!("chown -h {OTHER} {mine}")),
            "owner's chown to another user",
        );
        let root = mnt.join("root").display().to_string();
        refused(
            sh_as(NOBODY, NOBODY, &format!("chown -h :{NOBODY} {root}")),
            "chgrp of root's link",
        );
        assert_eq!(owner(&src.join("mine")), (NOBODY, NOBODY));
        assert_eq!(owner(&src.join("root")), (0, 0));

        // Sticky directory: another user's link can be neither removed nor renamed ...
        let dir = mnt.display().to_string();
        refused(
            sh_as(NOBODY, NOBODY, &format!("rm -f {dir}/to-target")),
            "unlink of another user's link",
        );
        refused(
            sh_as(NOBODY, NOBODY, &format!("mv {dir}/to-target {dir}/moved")),
            "rename of another user's link",
        );
        refused(
            sh_as(NOBODY, NOBODY, &format!("mv -f {dir}/mine {dir}/to-target")),
            "rename over another user's link",
        );
        assert_eq!(owner(&src.join("to-target")), (OTHER, OTHER));
        assert_eq!(owner(&src.join("mine")), (NOBODY, NOBODY));
        // ... while the owner moves and removes its own, and root anyone's.
        ok(
            sh_as(NOBODY, NOBODY, &format!("mv {dir}/mine {dir}/mine2")),
            "rename of one's own link",
        );
        assert_eq!(owner(&src.join("mine2")), (NOBODY, NOBODY));
        ok(
            sh_as(NOBODY, NOBODY, &format!("rm {dir}/mine2")),
            "unlink of one's own link",
        );
        fs::rename(mnt.join("to-target"), mnt.join("moved")).unwrap();
        assert_eq!(owner(&src.join("moved")), (OTHER, OTHER));
        for name in ["moved", "root", "target"] {
            fs::remove_file(mnt.join(name)).unwrap();
        }
        assert_eq!(fs::read_dir(&src).unwrap().count(), 0);
    });
}

#[test]
fn passthrough_symlink_ownership_in_a_sticky_directory() {
    let args = [HANDLERS, &["-o", "allow_other"]].concat();
    let Some(m) = Mirror::start("passthrough_symlink_ownership", &args) else {
        return;
    };
    symlinks_in_a_sticky_directory(&m);
}

#[test]
fn passthrough_kernel_mode_symlink_ownership_in_a_sticky_directory() {
    let test = "passthrough_kernel_mode_symlink_ownership";
    let Some(m) = Mirror::start(test, &["-o", "allow_other"]) else {
        return;
    };
    symlinks_in_a_sticky_directory(&m);
}

#[test]
fn passthrough_extended_attributes() {
    let Some(m) = Mirror::start("passthrough_extended_attributes", HANDLERS) else {
        return;
    };
    // ext4 keeps all of a file's xattrs in one 4 KiB block; a tmpfs inside the source takes
    // larger values (and is reached through the source's mount point).
    let big = m.s("big");
    fs::create_dir(&big).unwrap();
    let tmpfs = nix::mount::mount(
        Some("tmpfs"),
        &big,
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        Some("size=1m,mode=0755"),
    )
    .is_ok();
    let (mf, sf) = (m.m("f"), m.s("f"));
    let mnt = m.mnt().to_path_buf();
    on("xattrs", move || {
        fs::write(&mf, b"").unwrap();
        setxattr(&mf, "user.a", b"alpha", 0).unwrap();
        assert_eq!(getxattr(&sf, "user.a").unwrap(), b"alpha");
        setxattr(&sf, "user.b", &[7u8; 1000], 0).unwrap();
        assert_eq!(getxattr(&mf, "user.b").unwrap(), vec![7u8; 1000]);
        assert_eq!(listxattr(&mf).unwrap(), ["user.a", "user.b"]);
        assert_eq!(
            errno(setxattr(&mf, "user.a", b"x", libc::XATTR_CREATE)),
            Some(libc::EEXIST)
        );
        assert_eq!(
            errno(setxattr(&mf, "user.c", b"x", libc::XATTR_REPLACE)),
            Some(libc::ENODATA)
        );
        removexattr(&mf, "user.a").unwrap();
        assert_eq!(errno(getxattr(&sf, "user.a")), Some(libc::ENODATA));
        assert_eq!(errno(removexattr(&mf, "user.a")), Some(libc::ENODATA));
        fs::create_dir(mnt.join("d")).unwrap();
        setxattr(&mnt.join("d"), "user.dir", b"1", 0).unwrap();
        assert_eq!(listxattr(&mnt.join("d")).unwrap(), ["user.dir"]);
        if tmpfs {
            let f = mnt.join("big/f");
            fs::write(&f, b"").unwrap();
            setxattr(&f, "user.big", &[7u8; 10000], 0).unwrap();
            assert_eq!(
                getxattr(&f, "user.big").unwrap(),
                vec![7u8; 10000],
                "over 4 KiB"
            );
            let names: Vec<String> = (0..300).map(|i| format!("user.name-{i:03}")).collect();
            for n in &names {
                setxattr(&f, n, b"", 0).unwrap();
            }
            assert_eq!(listxattr(&f).unwrap().len(), 301, "a list over 4 KiB");
        }
    });
    if tmpfs {
        let _ = nix::mount::umount2(&m.s("big"), nix::mount::MntFlags::MNT_DETACH);
    }
}

#[test]
fn passthrough_without_xattrs_reports_them_unsupported() {
    let Some(m) = Mirror::start(
        "passthrough_without_xattrs",
        &["--no-kernel-passthrough", "--no-xattr"],
    ) else {
        return;
    };
    let (mf, sf) = (m.m("f"), m.s("f"));
    on("xattrs off", move || {
        fs::write(&mf, b"data").unwrap();
        setxattr(&sf, "user.a", b"alpha", 0).unwrap();
        assert_eq!(errno(getxattr(&mf, "user.a")), Some(libc::EOPNOTSUPP));
        assert_eq!(
            errno(setxattr(&mf, "user.b", b"", 0)),
            Some(libc::EOPNOTSUPP)
        );
        assert_eq!(fs::read(&mf).unwrap(), b"data");
    });
}

#[test]
fn passthrough_fallocate_holes_and_copy_file_range() {
    let Some(m) = Mirror::start("passthrough_fallocate_holes", HANDLERS) else {
        return;
    };
    let (mnt, src) = (m.mnt().to_path_buf(), m.src.path().to_path_buf());
    on(
        "fallocate, SEEK_DATA/SEEK_HOLE, copy_file_range",
        move || {
            use nix::fcntl::{FallocateFlags, fallocate};
            use nix::unistd::{Whence, lseek};
            const MIB: i64 = 1 << 20;
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(mnt.join("sparse"))
                .unwrap();
            f.write_all_at(&[1u8; 4096], 0).unwrap();
            f.write_all_at(&[2u8; 4096], MIB as u64).unwrap();
            f.sync_all().unwrap();
            assert_eq!(lseek(&f, 0, Whence::SeekHole).unwrap(), 4096);
            assert_eq!(lseek(&f, 4096, Whence::SeekData).unwrap(), MIB);
            assert_eq!(lseek(&f, MIB + 4096, Whence::SeekData), Err(Errno::ENXIO));
            // Allocation beyond the end, keeping the size; then punching a hole.
            fallocate(&f, FallocateFlags::FALLOC_FL_KEEP_SIZE, MIB + 4096, MIB).unwrap();
            let st = fs::metadata(src.join("sparse")).unwrap();
            assert_eq!(st.len(), (MIB + 4096) as u64);
            assert!(
                st.blocks() * 512 >= (MIB + 8192) as u64,
                "allocated in the source"
            );
            fallocate(
                &f,
                FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE,
                0,
                4096,
            )
            .unwrap();
            let data = fs::read(src.join("sparse")).unwrap();
            assert!(data[..4096].iter().all(|&b| b == 0));
            fallocate(&f, FallocateFlags::empty(), 0, 3 * MIB).unwrap();
            assert_eq!(
                fs::metadata(src.join("sparse")).unwrap().len(),
                (3 * MIB) as u64
            );

            let from = File::open(mnt.join("sparse")).unwrap();
            let to = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(mnt.join("copy"))
                .unwrap();
            let n = copy_range(&from, MIB, &to, 10, 4096).unwrap();
            assert_eq!(n, 4096);
            let copied = fs::read(src.join("copy")).unwrap();
            assert_eq!(copied.len(), 10 + 4096);
            assert!(copied[10..].iter().all(|&b| b == 2));
        },
    );
}

/// passthrough declares no lock handlers: the kernel's own lock manager serves the mount's
/// locks (docs/passthrough.md), with its semantics, and the source does not see them.
#[test]
fn passthrough_locks_are_the_kernels_own() {
    let Some(m) = Mirror::start("passthrough_locks", HANDLERS) else {
        return;
    };
    let (mf, sf) = (m.m("locked"), m.s("locked"));
    on("locks", move || {
        use nix::fcntl::{Flock, FlockArg};
        fs::write(&mf, vec![0u8; 100]).unwrap();
        // Open-file-description locks: two opens in one process are two owners.
        let (a, b) = (rw(&mf), rw(&mf));
        fcntl(&a, FcntlArg::F_OFD_SETLK(&lock(libc::F_WRLCK, 0, 50))).unwrap();
        assert_eq!(
            fcntl(&b, FcntlArg::F_OFD_SETLK(&lock(libc::F_RDLCK, 10, 1))),
            Err(Errno::EAGAIN)
        );
        // Local to the mount: a process using the source directly does not see them.
        let direct = rw(&sf);
        fcntl(&direct, FcntlArg::F_OFD_SETLK(&lock(libc::F_WRLCK, 0, 1))).unwrap();
        drop(direct);
        let mut probe = lock(libc::F_WRLCK, 0, 0);
        fcntl(&b, FcntlArg::F_OFD_GETLK(&mut probe)).unwrap();
        assert_eq!(
            (i32::from(probe.l_type), probe.l_start, probe.l_len),
            (libc::F_WRLCK, 0, 50)
        );
        // A blocked F_OFD_SETLKW is granted when the holder unlocks.
        let waiter = {
            let b = b.try_clone().unwrap();
            std::thread::spawn(move || {
                fcntl(&b, FcntlArg::F_OFD_SETLKW(&lock(libc::F_WRLCK, 0, 10)))
            })
        };
        std::thread::sleep(Duration::from_millis(150));
        assert!(!waiter.is_finished(), "the lock is held by `a`");
        fcntl(&a, FcntlArg::F_OFD_SETLK(&lock(libc::F_UNLCK, 0, 0))).unwrap();
        waiter.join().unwrap().unwrap();
        // Closing the holder's open file releases its locks at once.
        let c = rw(&mf);
        drop(b);
        fcntl(&c, FcntlArg::F_OFD_SETLK(&lock(libc::F_WRLCK, 0, 0))).unwrap();
        drop((a, c));

        let x = Flock::lock(File::open(&mf).unwrap(), FlockArg::LockExclusiveNonblock)
            .map_err(|(_, e)| e)
            .unwrap();
        let (y, e) =
            Flock::lock(File::open(&mf).unwrap(), FlockArg::LockSharedNonblock).unwrap_err();
        assert_eq!(e, Errno::EWOULDBLOCK);
        drop(x); // closing the descriptor releases its flock
        let _shared = Flock::lock(y, FlockArg::LockSharedNonblock)
            .map_err(|(_, e)| e)
            .unwrap();
    });
}

#[test]
fn passthrough_o_tmpfile_links_into_the_source() {
    let Some(m) = Mirror::start("passthrough_o_tmpfile", HANDLERS) else {
        return;
    };
    let (mnt, src) = (m.mnt().to_path_buf(), m.src.path().to_path_buf());
    on("O_TMPFILE", move || {
        let fd = nix::fcntl::open(
            &mnt,
            OFlag::O_TMPFILE | OFlag::O_RDWR | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        let f = File::from(fd);
        f.write_all_at(b"anonymous", 0).unwrap();
        assert_eq!(fs::read_dir(&src).unwrap().count(), 0);
        let proc = format!("/proc/self/fd/{}", f.as_fd().as_raw_fd());
        nix::unistd::linkat(
            nix::fcntl::AT_FDCWD,
            proc.as_str(),
            nix::fcntl::AT_FDCWD,
            &mnt.join("named"),
            AtFlags::AT_SYMLINK_FOLLOW,
        )
        .unwrap();
        assert_eq!(fs::read(src.join("named")).unwrap(), b"anonymous");
    });
}

#[test]
fn passthrough_source_changes_show_through_the_mount() {
    // attr_timeout=0 and entry_timeout=0: every stat and lookup asks the source.
    let Some(m) = Mirror::start(
        "passthrough_source_changes_uncached",
        &[
            "--no-kernel-passthrough",
            "-o",
            "attr_timeout=0,entry_timeout=0",
        ],
    ) else {
        return;
    };
    let (mnt, src) = (m.mnt().to_path_buf(), m.src.path().to_path_buf());
    on("changes in the source, no caching", move || {
        fs::write(src.join("f"), b"one").unwrap();
        assert_eq!(fs::read(mnt.join("f")).unwrap(), b"one");
        fs::write(src.join("f"), b"two, longer").unwrap();
        assert_eq!(fs::metadata(mnt.join("f")).unwrap().len(), 11);
        assert_eq!(fs::read(mnt.join("f")).unwrap(), b"two, longer");
        fs::rename(src.join("f"), src.join("g")).unwrap();
        assert!(fs::metadata(mnt.join("f")).is_err());
        assert_eq!(fs::read(mnt.join("g")).unwrap(), b"two, longer");
        fs::remove_file(src.join("g")).unwrap();
        assert_eq!(errno(fs::metadata(mnt.join("g"))), Some(libc::ENOENT));
    });
    drop(m);

    // The defaults: names and attributes are cached for 1 s.
    let Some(m) = Mirror::start("passthrough_source_changes_cached", HANDLERS) else {
        return;
    };
    let (mnt, src) = (m.mnt().to_path_buf(), m.src.path().to_path_buf());
    on("changes in the source, 1 s caches", move || {
        fs::write(src.join("f"), b"one").unwrap();
        assert_eq!(fs::read(mnt.join("f")).unwrap(), b"one");
        fs::write(src.join("f"), b"two, longer").unwrap();
        fs::write(src.join("new"), b"").unwrap();
        // Absent names are never cached: new files show at once.
        assert!(fs::metadata(mnt.join("new")).is_ok());
        std::thread::sleep(Duration::from_millis(1200));
        assert_eq!(fs::metadata(mnt.join("f")).unwrap().len(), 11);
        assert_eq!(
            fs::read(mnt.join("f")).unwrap(),
            b"two, longer",
            "each open rereads"
        );
        fs::remove_file(src.join("f")).unwrap();
        std::thread::sleep(Duration::from_millis(1200));
        assert_eq!(errno(fs::metadata(mnt.join("f"))), Some(libc::ENOENT));
    });
}

#[test]
fn passthrough_forgets_release_source_files() {
    let Some(m) = Mirror::start("passthrough_forgets_release", HANDLERS) else {
        return;
    };
    let (mnt, src) = (m.mnt().to_path_buf(), m.src.path().to_path_buf());
    // Enough entries that READDIRPLUS replies fill up and stop mid-batch.
    on("create, stat and list 600 files", move || {
        fs::create_dir(mnt.join("many")).unwrap();
        for i in 0..300 {
            fs::write(mnt.join(format!("many/created-{i:04}")), b"x").unwrap();
            fs::write(
                src.join(format!("many/direct-with-a-longer-name-{i:04}")),
                b"y",
            )
            .unwrap();
        }
        let mut seen = 0;
        for e in fs::read_dir(mnt.join("many")).unwrap() {
            let e = e.unwrap();
            assert!(e.metadata().unwrap().is_file());
            seen += 1;
        }
        assert_eq!(seen, 600);
    });
    assert!(m.held().len() >= 600, "the kernel holds what it listed");
    let mnt = m.mnt().to_path_buf();
    on("delete them through the mount", move || {
        for e in fs::read_dir(mnt.join("many")).unwrap() {
            fs::remove_file(e.unwrap().path()).unwrap();
        }
    });
    // Each unlinked inode is evicted and forgotten at once: nothing deleted stays open.
    m.wait_released("after deleting", |p| p.contains("/many/"));
    let mnt = m.mnt().to_path_buf();
    on("rmdir", move || fs::remove_dir(mnt.join("many")).unwrap());
    m.wait_released("after rmdir", |_| true);
}

#[test]
fn passthrough_writeback_cache_mode() {
    let Some(m) = Mirror::start("passthrough_writeback_cache", &["-o", "writeback_cache"]) else {
        return;
    };
    let (mf, sf) = (m.m("f"), m.s("f"));
    on("writes through the kernel's cache", move || {
        // Write-only and append opens: the kernel reads pages and positions appends itself.
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&mf)
            .unwrap();
        f.write_all(b"0123456789").unwrap();
        f.write_all_at(b"ab", 3).unwrap();
        drop(f);
        OpenOptions::new()
            .append(true)
            .open(&mf)
            .unwrap()
            .write_all(b"++")
            .unwrap();
        let f = File::open(&mf).unwrap();
        f.sync_all().unwrap();
        assert_eq!(fs::read(&sf).unwrap(), b"012ab56789++");
        assert_eq!(fs::read(&mf).unwrap(), b"012ab56789++");
    });
    assert!(
        m.log_text().contains("writeback_cache=true"),
        "{}",
        m.log_text()
    );
}

/// Reads and writes in kernel passthrough mode (the default as root on Linux 6.9+): the
/// kernel serves them from the source without calling the handlers.
#[test]
fn passthrough_kernel_passthrough_serves_data_without_the_handlers() {
    let Some(m) = Mirror::start("passthrough_kernel_passthrough", &["-o", "debug"]) else {
        return;
    };
    if !m.log_text().contains("kernel_passthrough=true") {
        eprintln!("skipping passthrough_kernel_passthrough: kernel passthrough not granted");
        return;
    }
    let (mf, sf) = (m.m("f"), m.s("f"));
    on("data through the backing file", move || {
        fs::write(&mf, b"via the kernel").unwrap();
        assert_eq!(fs::read(&sf).unwrap(), b"via the kernel");
        fs::write(&sf, b"changed in the source").unwrap();
        assert_eq!(fs::read(&mf).unwrap(), b"changed in the source");
        let f = rw(&mf);
        let mut buf = [0u8; 7];
        f.read_exact_at(&mut buf, 8).unwrap();
        assert_eq!(&buf, b"in the ");
    });
    // `-o debug` logs every request: lookups and opens, but no READ or WRITE.
    let log = m.log_text();
    assert!(log.contains("\"OPEN\""), "{log}");
    assert!(
        !log.contains("\"READ\"") && !log.contains("\"WRITE\""),
        "{log}"
    );
}

/// Several opens of one file at once in kernel passthrough mode: the kernel accepts only one
/// backing file per inode at a time, so all opens must share it.
#[test]
fn passthrough_kernel_passthrough_concurrent_opens_of_one_file() {
    let Some(m) = Mirror::start("passthrough_kernel_passthrough_concurrent", &[]) else {
        return;
    };
    let mf = m.m("f");
    on("two opens", move || {
        fs::write(&mf, b"shared").unwrap();
        let a = File::open(&mf).unwrap();
        let b = rw(&mf);
        b.write_all_at(b"S", 0).unwrap();
        let mut s = String::new();
        (&a).read_to_string(&mut s).unwrap();
        assert_eq!(s, "Shared");
    });
}

/// Kernel passthrough costs no descriptor beyond the inode's own: the backing file handed
/// to the kernel is closed after the open's reply (the kernel keeps its own reference), so
/// creating many files cannot run the daemon out of descriptors.
#[test]
fn passthrough_kernel_passthrough_holds_one_descriptor_per_file() {
    let Some(m) = Mirror::start("passthrough_kernel_passthrough_fds", &["-o", "debug"]) else {
        return;
    };
    if !m.log_text().contains("kernel_passthrough=true") {
        eprintln!("skipping passthrough_kernel_passthrough_fds: kernel passthrough not granted");
        return;
    }
    const N: usize = 50;
    let dir = m.m("many");
    on("create and write", move || {
        fs::create_dir(&dir).unwrap();
        for i in 0..N {
            fs::write(dir.join(format!("f{i}")), b"data").unwrap();
        }
        // Reopened and read back through the backing files.
        for i in 0..N {
            assert_eq!(fs::read(dir.join(format!("f{i}"))).unwrap(), b"data");
        }
    });
    // RELEASE comes after close(2) returns, so the last files may still be open briefly.
    let deadline = Instant::now() + Duration::from_secs(10);
    let held = loop {
        let held: Vec<String> = m
            .held()
            .into_iter()
            .filter(|p| p.contains("/many/f"))
            .collect();
        let distinct: std::collections::BTreeSet<&String> = held.iter().collect();
        if held.len() == distinct.len() {
            break held;
        }
        assert!(
            Instant::now() < deadline,
            "more than one descriptor for some closed file after 10 s: {held:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(held.len() <= N, "{} descriptors for {N} files", held.len());
}

/// The example's command line: a missing source is a clear error, not a mount.
#[test]
fn passthrough_rejects_a_missing_source() {
    let out = Command::new(example_binary("passthrough"))
        .args(["/nonexistent/source", "/tmp"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/source"), "{err}");
}

/// Closing a read-only descriptor costs no FLUSH round trip (the open replies with
/// `FOPEN_NOFLUSH`), while closing a writable one still flushes to the source.
#[test]
fn passthrough_read_only_closes_send_no_flush() {
    let args = [HANDLERS, &["-o", "debug"]].concat();
    let Some(m) = Mirror::start("passthrough_read_only_closes_send_no_flush", &args) else {
        return;
    };
    fs::write(m.s("f"), b"contents").unwrap();
    let mf = m.m("f");
    on("read-only opens", move || {
        for _ in 0..4 {
            assert_eq!(fs::read(&mf).unwrap(), b"contents");
        }
    });
    let log = m.log_text();
    assert!(log.matches("\"READ\"").count() >= 1, "{log}");
    assert_eq!(log.matches("\"FLUSH\"").count(), 0, "{log}");
    let mf = m.m("f");
    on("a writable open", move || {
        let mut f = OpenOptions::new().write(true).open(&mf).unwrap();
        f.write_all(b"C").unwrap();
    });
    let log = m.log_text();
    assert_eq!(log.matches("\"FLUSH\"").count(), 1, "{log}");
    assert_eq!(fs::read(m.s("f")).unwrap(), b"Contents");
}

/// Bytes the daemon has read with read-like system calls (`rchar` of `/proc/PID/io`): the
/// requests it reads from `/dev/fuse`, and file data it copies through its own memory.
fn daemon_rchar(m: &Mirror) -> u64 {
    let pid = m.child.as_ref().expect("running").id();
    let io = fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rchar in /proc/{pid}/io:\n{io}"))
}

/// On `/dev/fuse`, large READ replies of `ReadData::from_file` go from the source file to the
/// device by splice(2): reading 8 MiB through the mount makes the daemon read a few kilobytes
/// of requests, not the 8 MiB of data (which the copy fallback would `pread`).
#[test]
fn passthrough_large_reads_are_spliced_past_the_daemon() {
    let args = [HANDLERS, &["-o", "transport=dev"]].concat();
    let Some(m) = Mirror::start("passthrough_large_reads_are_spliced", &args) else {
        return;
    };
    let data: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
    fs::write(m.s("big"), &data).unwrap();
    let before = daemon_rchar(&m);
    let mf = m.m("big");
    let read = on("a large read", move || fs::read(&mf).unwrap());
    assert!(read == data, "the data read through the mount differs");
    let copied = daemon_rchar(&m) - before;
    assert!(
        copied < 1 << 20,
        "the daemon read {copied} bytes itself for an 8 MiB read: its replies were copied"
    );
}

/// O_DIRECT opens (answered with `FOPEN_DIRECT_IO`): aligned writes and reads at offsets go
/// to the source and back unchanged, and a buffered reader sees the direct writes.
#[test]
fn passthrough_o_direct_reads_and_writes() {
    let Some(m) = Mirror::start("passthrough_o_direct", HANDLERS) else {
        return;
    };
    let (mf, sf) = (m.m("direct"), m.s("direct"));
    on("O_DIRECT I/O", move || {
        use std::os::unix::fs::OpenOptionsExt;
        // O_DIRECT wants buffers aligned to the block size: a page-aligned slice of a larger one.
        let mut raw = vec![0u8; 64 << 10];
        let start = raw.as_ptr().align_offset(4096);
        let buf = &mut raw[start..start + (32 << 10)];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i % 241) as u8;
        }
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_DIRECT)
            .open(&mf)
            .unwrap();
        f.write_all_at(buf, 0).unwrap();
        f.write_all_at(&buf[..4096], 64 << 10).unwrap();
        let expected = buf.to_vec();
        buf.fill(0);
        f.read_exact_at(buf, 0).unwrap();
        assert!(
            buf[..] == expected[..],
            "O_DIRECT read differs from what was written"
        );
        let source = fs::read(&sf).unwrap();
        assert_eq!(source.len(), (64 << 10) + 4096);
        assert!(source[..32 << 10] == expected[..] && source[64 << 10..] == expected[..4096]);
        assert!(
            fs::read(&mf).unwrap() == source,
            "a buffered read differs from the source"
        );
    });
}

/// A directory larger than one getdents(2) batch of the source: every entry is listed once,
/// in full replies (the daemon reads several batches for one reply), on every pass.
#[test]
fn passthrough_large_directory_lists_every_entry_once() {
    let Some(m) = Mirror::start("passthrough_large_directory", HANDLERS) else {
        return;
    };
    fs::create_dir(m.s("big")).unwrap();
    let expected: std::collections::BTreeSet<String> =
        (0..5000).map(|i| format!("entry-{i:05}")).collect();
    for name in &expected {
        File::create(m.s(&format!("big/{name}"))).unwrap();
    }
    let dir = m.m("big");
    let passes = on("two listings", move || {
        (0..2)
            .map(|_| {
                fs::read_dir(&dir)
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    });
    for names in passes {
        assert_eq!(
            names.len(),
            expected.len(),
            "an entry listed twice or missing"
        );
        let set: std::collections::BTreeSet<String> = names.into_iter().collect();
        assert!(set == expected, "the names listed differ from the source's");
    }
}
