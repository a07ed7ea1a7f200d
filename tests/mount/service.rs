//! A fusegen program run as a service: as the program of `mount -t fuse.memfs` and of an
//! fstab line (through `mount.fuse3`, in a private mount namespace), the generic mount flags
//! on both mount paths, systemd's readiness protocol on a real datagram socket, a mount
//! made by a parent process that hands the `/dev/fuse` descriptor down (`/dev/fd/N`), and
//! an unprivileged user mounting through `fusermount3` with `auto_unmount`.
//!
//! Every test unmounts on every path (guards that also run on panic) and bounds every wait.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::examples::example_binary;
use crate::mount::common::{CALL_TIMEOUT, fuse_available, is_mounted, wait_unmounted, within};

/// Pids of the processes named `comm` whose command line mentions `needle`.
fn processes(comm: Option<&str>, needle: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != std::process::id() as i32)
        .filter(|pid| {
            comm.is_none_or(|comm| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim_end() == comm)
            })
        })
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

fn kill(pid: i32, signal: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
}

/// On drop (also on panic): kills every process whose command line names `dir` (the
/// filesystem daemons, which aborts their connections, and the helpers and shells around
/// them), then detaches whatever is still mounted under `dir` in this namespace.
struct Cleanup {
    dir: PathBuf,
    mounts: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let needle = self.dir.to_string_lossy().into_owned();
        for pid in processes(None, &needle) {
            kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
        for m in &self.mounts {
            if is_mounted(m) {
                let _ = nix::mount::umount2(m, nix::mount::MntFlags::MNT_DETACH);
            }
        }
    }
}

/// A fresh directory with a `mnt` inside, and its cleanup guard.
fn workdir(prefix: &str) -> (tempfile::TempDir, Cleanup) {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mnt")).unwrap();
    let cleanup = Cleanup {
        dir: dir.path().to_path_buf(),
        mounts: vec![dir.path().join("mnt"), dir.path().join("mnt2")],
    };
    (dir, cleanup)
}

fn run(what: &str, mut command: Command) -> Output {
    command.stdin(Stdio::null());
    within(CALL_TIMEOUT, what, move || command.output()).expect(what)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `/proc/self/mounts` options column of the mount at `path`.
fn mount_flags(path: &Path) -> Vec<String> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let line = mounts
        .lines()
        .find(|l| l.split(' ').nth(1) == Some(path.to_str().unwrap()))
        .unwrap_or_else(|| panic!("{} is not in /proc/self/mounts", path.display()));
    line.split(' ')
        .nth(3)
        .unwrap()
        .split(',')
        .map(String::from)
        .collect()
}

/// Waits for `child` to exit (bounded), returning its output.
fn wait_exit(child: Child, what: &str) -> Output {
    within(CALL_TIMEOUT, what, move || child.wait_with_output()).expect(what)
}

/// The script run in a private mount namespace: `memfs` is found on the default `PATH`
/// (`mount(8)` gives helpers no `PATH` of the caller), through a temporary directory bound
/// over `/usr/local/bin` in that namespace only. Mount, show the flags, use, unmount, for
/// `mount -t fuse.memfs` and for two fstab lines.
const NAMESPACE_SCRIPT: &str = r#"
set -eu
mount --bind "$WORK/bin" /usr/local/bin
show() { awk -v m="$1" '$2 == m { print "FLAGS " $1 " " $3 " " $4 }' /proc/self/mounts; }
wait_gone() {
    i=0
    while pgrep -f "$WORK/mnt" >/dev/null; do
        i=$((i + 1)); [ $i -lt 500 ] || { echo "a filesystem outlived its mount"; exit 1; }
        sleep 0.02
    done
}

mount -t fuse.memfs none "$WORK/mnt" -o noatime,nodev,noexec,_netdev,x-systemd.automount,nofail,comment=test
show "$WORK/mnt"
echo via-mount > "$WORK/mnt/file"
echo "READ $(cat "$WORK/mnt/file")"
umount "$WORK/mnt"
wait_gone

mount --fstab "$WORK/fstab" "$WORK/mnt"
show "$WORK/mnt"
echo via-fstab > "$WORK/mnt/file"
echo "READ $(cat "$WORK/mnt/file")"
mount --fstab "$WORK/fstab" "$WORK/mnt2"
show "$WORK/mnt2"
echo "LS $(ls "$WORK/mnt2" | tr '\n' ' ')"
umount "$WORK/mnt"
umount "$WORK/mnt2"
wait_gone
echo DONE
"#;

#[test]
fn mount_8_and_fstab_lines_run_memfs_through_mount_fuse3() {
    let Some(()) = fuse_available("mount_8_and_fstab_lines_run_memfs_through_mount_fuse3") else {
        return;
    };
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    for tool in ["/sbin/mount.fuse3", "/usr/bin/unshare"] {
        if !Path::new(tool).exists() {
            assert!(!in_ci, "{tool} is required in CI");
            eprintln!("skipping: {tool} missing (apt-get install fuse3 util-linux)");
            return;
        }
    }
    let memfs = example_binary("memfs");
    let passthrough = example_binary("passthrough");
    let (dir, _cleanup) = workdir("svc-mount8-");
    let work = dir.path();
    std::fs::create_dir(work.join("mnt2")).unwrap();
    std::fs::create_dir(work.join("bin")).unwrap();
    std::fs::create_dir(work.join("src")).unwrap();
    std::fs::write(work.join("src/from-source"), "x").unwrap();
    std::os::unix::fs::symlink(&memfs, work.join("bin/memfs")).unwrap();
    let fstab = format!(
        "# a temporary fstab\n\
         none {mnt} fuse.memfs noatime,noexec,_netdev,x-systemd.requires=network-online.target,nofail,noauto 0 0\n\
         {passthrough}#{src} {mnt2} fuse defaults,nosuid,_netdev 0 0\n",
        mnt = work.join("mnt").display(),
        mnt2 = work.join("mnt2").display(),
        passthrough = passthrough.display(),
        src = work.join("src").display(),
    );
    std::fs::write(work.join("fstab"), fstab).unwrap();

    let mut command = Command::new("unshare");
    command
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            NAMESPACE_SCRIPT,
        ])
        .env("WORK", work);
    let out = run("mount(8) in a private namespace", command);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("DONE"),
        "status {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        text(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let flags = |i: usize| -> Vec<&str> {
        let line = lines.iter().filter(|l| l.starts_with("FLAGS ")).nth(i);
        let line = line.unwrap_or_else(|| panic!("FLAGS line {i} missing:\n{stdout}"));
        line.split(' ').collect()
    };
    // `mount -t fuse.memfs none ...`: memfs's fsname and subtype; the kernel flags asked for,
    // and `suid` (which mount.fuse3 adds for root) honoured.
    let first = flags(0);
    assert_eq!((first[1], first[2]), ("memfs", "fuse.memfs"), "{stdout}");
    let opts: Vec<&str> = first[3].split(',').collect();
    for want in ["rw", "nodev", "noexec", "noatime"] {
        assert!(opts.contains(&want), "{want} missing: {stdout}");
    }
    assert!(
        !opts.contains(&"nosuid"),
        "suid from mount.fuse3 ignored: {stdout}"
    );
    // The fstab line of type fuse.memfs.
    let second = flags(1);
    let opts: Vec<&str> = second[3].split(',').collect();
    assert_eq!(second[2], "fuse.memfs", "{stdout}");
    assert!(
        opts.contains(&"noexec") && opts.contains(&"noatime"),
        "{stdout}"
    );
    // The `PROGRAM#SOURCE` form of type fuse: passthrough receives the source.
    let third = flags(2);
    assert!(third[3].split(',').any(|o| o == "nosuid"), "{stdout}");
    assert!(stdout.contains("LS from-source"), "{stdout}");
    assert_eq!(
        lines
            .iter()
            .copied()
            .filter(|l| l.starts_with("READ "))
            .collect::<Vec<_>>(),
        ["READ via-mount", "READ via-fstab"]
    );
}

/// Runs `memfs -f -o OPTIONS MNT`, reads the mount's flags, stops it with SIGTERM.
fn memfs_flags(options: &str) -> Vec<String> {
    let (dir, _cleanup) = workdir("svc-flags-");
    let mnt = dir.path().join("mnt");
    let child = Command::new(example_binary("memfs"))
        .args(["-f", "-o", options])
        .arg(&mnt)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + CALL_TIMEOUT;
    while !is_mounted(&mnt) {
        assert!(
            Instant::now() < deadline,
            "memfs -o {options} did not mount"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let flags = mount_flags(&mnt);
    kill(child.id() as i32, nix::sys::signal::Signal::SIGTERM);
    let out = wait_exit(child, "memfs to exit");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(wait_unmounted(&mnt, Duration::from_secs(5)));
    flags
}

#[test]
fn generic_mount_options_become_flags_on_both_mount_paths() {
    let Some(()) = fuse_available("generic_mount_options_become_flags_on_both_mount_paths") else {
        return;
    };
    let userspace = "_netdev,nofail,x-systemd.automount,comment=x";
    // fusermount3 (3.14) knows fewer flags than mount(2): no nodiratime, strictatime.
    for (method, kernel) in [
        ("direct", "noexec,noatime,nodiratime,sync,dirsync"),
        ("fusermount", "noexec,noatime,sync,dirsync"),
    ] {
        let flags = memfs_flags(&format!("{kernel},{userspace},mount_method={method}"));
        for want in ["nosuid", "nodev"].into_iter().chain(kernel.split(',')) {
            assert!(
                flags.iter().any(|f| f == want),
                "{method}: {want} missing from {flags:?}"
            );
        }
        let flags = memfs_flags(&format!("suid,dev,ro,mount_method={method}"));
        assert!(
            !flags.iter().any(|f| f == "nosuid" || f == "nodev"),
            "{method}: suid,dev as root: {flags:?}"
        );
        assert!(flags.iter().any(|f| f == "ro"), "{method}: {flags:?}");
    }
    let strict = memfs_flags("strictatime,mount_method=direct");
    assert!(
        !strict.iter().any(|f| f == "relatime" || f == "noatime"),
        "strictatime: {strict:?}"
    );
}

/// A notification socket bound for the test, read with a timeout.
fn receive(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 512];
    let n = socket
        .recv(&mut buf)
        .expect("a notification within the timeout");
    text(&buf[..n])
}

#[test]
fn systemd_notify_ready_once_serving_and_stopping_when_unmounting() {
    let Some(()) = fuse_available("systemd_notify_ready_once_serving_and_stopping_when_unmounting")
    else {
        return;
    };
    let (dir, _cleanup) = workdir("svc-notify-");
    let mnt = dir.path().join("mnt");
    // One run with a socket path (memfs), one with an abstract name (hello).
    let abstract_name = format!("fusegen-notify-test-{}", std::process::id());
    for (example, abstract_socket) in [("memfs", false), ("hello", true)] {
        let (socket, value) = if abstract_socket {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(&abstract_name).unwrap();
            (
                UnixDatagram::bind_addr(&addr).unwrap(),
                format!("@{abstract_name}"),
            )
        } else {
            let path = dir.path().join("notify");
            (
                UnixDatagram::bind(&path).unwrap(),
                path.display().to_string(),
            )
        };
        socket.set_read_timeout(Some(CALL_TIMEOUT)).unwrap();
        let mut child = Command::new(example_binary(example))
            .arg("-f")
            .arg(&mnt)
            .env("NOTIFY_SOCKET", &value)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let ready = receive(&socket);
        assert_eq!(
            ready,
            format!("READY=1\nSTATUS=mounted on {}", mnt.display()),
            "{example}"
        );
        // Ready means serving: the mount answers at once.
        assert!(is_mounted(&mnt));
        let entries = {
            let mnt = mnt.clone();
            within(CALL_TIMEOUT, "readdir", move || {
                std::fs::read_dir(mnt).map(|d| d.count())
            })
        };
        assert!(entries.is_ok(), "{example}: {entries:?}");
        kill(child.id() as i32, nix::sys::signal::Signal::SIGTERM);
        assert_eq!(receive(&socket), "STOPPING=1", "{example}");
        let mut stderr = String::new();
        let mut pipe = child.stderr.take().unwrap();
        let status = wait_exit(child, "the example to exit").status;
        let _ = pipe.read_to_string(&mut stderr);
        assert!(status.success(), "{example}: {stderr}");
        assert!(wait_unmounted(&mnt, Duration::from_secs(5)));
        // The one line a user sees in the foreground, at the default log level.
        let mounted: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("mounted on"))
            .collect();
        assert_eq!(mounted.len(), 1, "{example}: {stderr}");
        assert!(
            mounted[0].contains(" INFO ")
                && mounted[0].ends_with(&format!("{example}: mounted on {}", mnt.display())),
            "{example}: {stderr}"
        );
    }
}

#[test]
fn a_parent_mounts_and_hands_the_descriptor_to_the_filesystem() {
    let Some(()) = fuse_available("a_parent_mounts_and_hands_the_descriptor_to_the_filesystem")
    else {
        return;
    };
    let (dir, _cleanup) = workdir("svc-fd-");
    let mnt = dir.path().join("mnt");
    // The parent's part (a privileged helper, a container runtime): open, mount.
    let device = mount_dev_fuse(
        &mnt,
        "parent-mounted",
        "fuse.handed",
        ",default_permissions",
    );
    // The descriptor goes down as fd 3 (stdin only carries it to the shell).
    let child = Command::new("sh")
        .args(["-c", r#"exec "$0" -f /dev/fd/3 3<&0 </dev/null"#])
        .arg(example_binary("memfs"))
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(device)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The kernel holds these until the filesystem has answered INIT on the handed-down fd.
    let file = mnt.join("handed");
    let read = within(CALL_TIMEOUT, "I/O on the handed-down mount", move || {
        std::fs::write(&file, "through fd 3")?;
        std::fs::read_to_string(&file)
    });
    assert_eq!(read.unwrap(), "through fd 3");
    let flags = mount_flags(&mnt);
    assert!(flags.iter().any(|f| f == "nosuid"), "{flags:?}");
    // The parent unmounts; the filesystem sees the mount go and exits cleanly.
    nix::mount::umount2(&mnt, nix::mount::MntFlags::empty()).expect("umount by the parent");
    let out = wait_exit(child, "memfs to exit after the unmount");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("memfs: mounted on /dev/fd/3"), "{stderr}");

    // A descriptor that is not /dev/fuse is refused with a message naming it.
    let out = run("memfs on /dev/fd/0 of /dev/null", {
        let mut c = Command::new(example_binary("memfs"));
        c.args(["-f", "/dev/fd/0"]);
        c
    });
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("descriptor 0 is not a /dev/fuse descriptor"),
        "{}",
        text(&out.stderr)
    );
}

/// Sets `/dev/fuse` to mode 0666 (as distributions ship it) and restores the old mode on drop.
struct DeviceMode(u32);

impl DeviceMode {
    fn open_to_all() -> DeviceMode {
        let old = std::fs::metadata("/dev/fuse").unwrap().permissions().mode() & 0o7777;
        std::fs::set_permissions("/dev/fuse", std::fs::Permissions::from_mode(0o666)).unwrap();
        DeviceMode(old)
    }
}

impl Drop for DeviceMode {
    fn drop(&mut self) {
        let _ = std::fs::set_permissions("/dev/fuse", std::fs::Permissions::from_mode(self.0));
    }
}

/// Appends `user_allow_other` to `/etc/fuse.conf` and restores the file on drop.
struct FuseConf(Option<String>);

impl FuseConf {
    fn allow_other() -> FuseConf {
        let old = std::fs::read_to_string("/etc/fuse.conf").ok();
        let mut new = old.clone().unwrap_or_default();
        new.push_str("\nuser_allow_other\n");
        std::fs::write("/etc/fuse.conf", new).unwrap();
        FuseConf(old)
    }
}

impl Drop for FuseConf {
    fn drop(&mut self) {
        let _ = match &self.0 {
            Some(old) => std::fs::write("/etc/fuse.conf", old),
            None => std::fs::remove_file("/etc/fuse.conf"),
        };
    }
}

/// Whether this fusermount3 can auto-unmount a user's mount that root may not enter:
/// before libfuse 3.15 (libfuse/libfuse#586, fixed by #754) it checks the dead mount as
/// root, gets `EACCES` and gives up, unless the mount admits root (`allow_root`).
fn fusermount3_checks_as_the_user() -> bool {
    let out = Command::new("fusermount3").arg("-V").output();
    let version = out.map(|o| text(&o.stdout)).unwrap_or_default();
    let numbers: Vec<u32> = version
        .rsplit(' ')
        .next()
        .unwrap_or("")
        .trim()
        .split('.')
        .filter_map(|n| n.parse().ok())
        .collect();
    numbers.len() >= 2 && (numbers[0], numbers[1]) >= (3, 15)
}

const NOBODY: u32 = 65534;

/// `COMMAND...` as user and group 65534 (`nobody`), without root's supplementary groups.
fn as_nobody(args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        &format!("--reuid={NOBODY}"),
        &format!("--regid={NOBODY}"),
        "--clear-groups",
        "--",
    ]);
    c.args(args);
    c.env_remove("RUST_LOG");
    // As in crash.rs: over io_uring the kernel tears the ring down asynchronously after a
    // SIGKILL, and fusermount3's check then gets ECONNABORTED and leaves the mount; this test
    // is about the user's mount and fusermount3, so it pins the /dev/fuse transport.
    c.env(fusegen::TRANSPORT_ENV, "dev");
    c
}

#[test]
fn an_unprivileged_user_mounts_through_fusermount3_with_auto_unmount() {
    let Some(()) =
        fuse_available("an_unprivileged_user_mounts_through_fusermount3_with_auto_unmount")
    else {
        return;
    };
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !Path::new("/usr/bin/fusermount3").exists() || !Path::new("/usr/bin/setpriv").exists() {
        assert!(!in_ci, "fusermount3 and setpriv are required in CI");
        eprintln!("skipping: needs fusermount3 and setpriv (apt-get install fuse3 util-linux)");
        return;
    }
    let (dir, _cleanup) = workdir("svc-user-");
    let mnt = dir.path().join("mnt");
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    // passthrough, not memfs: fusermount3 decides a killed filesystem is gone by opening the
    // mountpoint and getting ENOTCONN. memfs has no `opendir`, so that open needs no request
    // and, if it runs before the kernel has aborted the connection, succeeds: fusermount3
    // then leaves the mount (a race in fusermount3's check, seen under load).
    // The binary where user nobody can run it, and directories nobody owns.
    let bin = dir.path().join("passthrough");
    std::fs::copy(example_binary("passthrough"), &bin).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    for d in [&mnt, &src] {
        let nobody = Some(nix::unistd::Uid::from_raw(NOBODY));
        nix::unistd::chown(d, nobody, Some(nix::unistd::Gid::from_raw(NOBODY))).unwrap();
    }
    let _mode = DeviceMode::open_to_all();
    let (bin, src_s, mnt_s) = (
        bin.to_str().unwrap(),
        src.to_str().unwrap(),
        mnt.to_str().unwrap(),
    );

    // Mount (detached), I/O, then `fusermount3 -u`, all as the user; again, then the
    // filesystem is killed and fusermount3's auto_unmount removes the mount.
    let old_fusermount3 = !fusermount3_checks_as_the_user();
    let _conf = old_fusermount3.then(FuseConf::allow_other);
    for round in ["fusermount3 -u", "kill -9 with auto_unmount"] {
        let options = if round == "fusermount3 -u" || !old_fusermount3 {
            "auto_unmount"
        } else {
            "auto_unmount,allow_root"
        };
        let out = run(
            "passthrough as nobody",
            as_nobody(&[bin, "-o", options, src_s, mnt_s]),
        );
        assert!(out.status.success(), "{round}: {}", text(&out.stderr));
        assert!(is_mounted(&mnt), "{round}: memfs returned before mounting");
        let line = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let line = line
            .lines()
            .find(|l| l.contains(mnt_s))
            .unwrap()
            .to_string();
        assert!(line.contains(&format!("user_id={NOBODY}")), "{line}");
        let script = format!(
            "echo from-nobody > {mnt_s}/f && cat {mnt_s}/f && stat -c '%u:%g %a' {mnt_s} {mnt_s}/f"
        );
        let io = run("I/O as nobody", as_nobody(&["sh", "-c", &script]));
        assert!(io.status.success(), "{round}: {}", text(&io.stderr));
        let expect = format!("from-nobody\n{NOBODY}:{NOBODY} 755\n{NOBODY}:{NOBODY} 644\n");
        assert_eq!(text(&io.stdout), expect, "{round}");
        assert_eq!(
            std::fs::read_to_string(src.join("f")).unwrap(),
            "from-nobody\n"
        );
        std::fs::remove_file(src.join("f")).unwrap();
        let daemons = processes(Some("passthrough"), mnt_s);
        assert_eq!(
            daemons.len(),
            1,
            "{round}: one passthrough serves the mount"
        );
        if round == "fusermount3 -u" {
            let out = run(
                "fusermount3 -u as nobody",
                as_nobody(&["fusermount3", "-u", mnt_s]),
            );
            assert!(out.status.success(), "{}", text(&out.stderr));
        } else {
            // The filesystem dies; fusermount3, still watching, unmounts for the user.
            kill(daemons[0], nix::sys::signal::Signal::SIGKILL);
        }
        assert!(
            wait_unmounted(&mnt, CALL_TIMEOUT),
            "{round}: the mount outlived its filesystem"
        );
        let deadline = Instant::now() + CALL_TIMEOUT;
        while !processes(None, mnt_s).is_empty() {
            assert!(
                Instant::now() < deadline,
                "{round}: processes outlived the mount"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn stats_prints_per_operation_metrics_at_exit() {
    let Some(()) = fuse_available("stats_prints_per_operation_metrics_at_exit") else {
        return;
    };
    let (dir, _cleanup) = workdir("svc-stats-");
    let mnt = dir.path().join("mnt");
    let child = Command::new(example_binary("memfs"))
        .args(["-f", "-o", "stats"])
        .arg(&mnt)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + CALL_TIMEOUT;
    while !is_mounted(&mnt) {
        assert!(Instant::now() < deadline, "memfs -o stats did not mount");
        std::thread::sleep(Duration::from_millis(20));
    }
    let m = mnt.clone();
    within(CALL_TIMEOUT, "I/O", move || {
        for i in 0..3 {
            std::fs::write(m.join(format!("f{i}")), b"data").unwrap();
        }
        assert!(std::fs::metadata(m.join("missing")).is_err());
        assert!(std::fs::metadata(m.join("missing2")).is_err());
    });
    kill(child.id() as i32, nix::sys::signal::Signal::SIGTERM);
    let out = wait_exit(child, "memfs to exit");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(wait_unmounted(&mnt, Duration::from_secs(5)));
    let table = stderr
        .split_once("memfs: requests served\n")
        .unwrap_or_else(|| panic!("no metrics table:\n{stderr}"))
        .1;
    let row = |name: &str| -> Vec<String> {
        let line = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row:\n{table}"));
        line.split_whitespace().map(String::from).collect()
    };
    assert!(table.starts_with("operation"), "{table}");
    let create = row("CREATE");
    assert_eq!(
        (create[1].as_str(), create[2].as_str()),
        ("3", "0"),
        "{table}"
    );
    // f0..f2 before their creation, and the two missing names (memfs answers those with
    // negative entries, which are not errors).
    assert!(row("LOOKUP")[1].parse::<u64>().unwrap() >= 5, "{table}");
    // The kernel's security.capability probe before writes: ENODATA, counted as errors.
    let getxattr = row("GETXATTR");
    assert!(getxattr[1] != "0" && getxattr[1] == getxattr[2], "{table}");
    assert!(row("WRITE")[1].parse::<u64>().unwrap() >= 3, "{table}");
}

/// The library side of a hand-over: `Session::from_fd` on a descriptor this process mounted,
/// `SessionHandle::ready` once it serves, its metrics, and `main` ending when the mounter
/// unmounts.
#[test]
fn session_from_fd_serves_a_mounted_descriptor_and_counts_its_requests() {
    let Some(()) =
        fuse_available("session_from_fd_serves_a_mounted_descriptor_and_counts_its_requests")
    else {
        return;
    };
    let (dir, _cleanup) = workdir("svc-fromfd-");
    let mnt = dir.path().join("mnt");
    let device = mount_dev_fuse(&mnt, "from-fd", "fuse", "");
    let fs = crate::mount::fixture::TestFs::new(&[("hello", b"handed over")]);
    let mut session = fusegen::Session::from_fd(
        fs,
        std::os::fd::OwnedFd::from(device),
        fusegen::MountOptions::default(),
    )
    .expect("from_fd");
    assert_eq!(session.mount_method(), None);
    assert!(session.mountpoint().starts_with("/dev/fd/"));
    let handle = session.handle();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let result = rt.block_on(session.main(fusegen::Workers::default()));
        session.close(true);
        result.map_err(|e| e.to_string())
    });
    let ready = handle.clone();
    within(CALL_TIMEOUT, "the session to be ready", move || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(ready.ready())
    });
    let file = mnt.join("hello");
    let text = within(CALL_TIMEOUT, "read", move || std::fs::read_to_string(file));
    assert_eq!(text.unwrap(), "handed over");
    let metrics = handle.metrics();
    let count = |name: &str| {
        metrics
            .ops
            .iter()
            .find(|o| o.name == name)
            .map_or(0, |o| o.count)
    };
    assert!(count("LOOKUP") >= 1 && count("READ") >= 1, "{metrics}");
    nix::mount::umount2(&mnt, nix::mount::MntFlags::empty()).expect("umount by the mounter");
    let served = within(
        CALL_TIMEOUT,
        "main to return after the unmount",
        move || server.join().unwrap(),
    );
    assert_eq!(served, Ok(()));
    // A descriptor that is not /dev/fuse is refused.
    let file = tempfile::tempfile().unwrap();
    let err = fusegen::Session::from_fd(
        crate::mount::fixture::TestFs::new(&[]),
        std::os::fd::OwnedFd::from(file),
        fusegen::MountOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("not a /dev/fuse descriptor"),
        "{err}"
    );
}

/// What a privileged helper does before handing a mount over: opens `/dev/fuse` and mounts it
/// on `mnt` with `mount(2)` (`extra` is appended to the options, starting with a comma).
fn mount_dev_fuse(mnt: &Path, source: &str, fstype: &str, extra: &str) -> std::fs::File {
    let device = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .unwrap();
    let data = format!(
        "fd={},rootmode=40000,user_id=0,group_id=0{extra}",
        std::os::fd::AsRawFd::as_raw_fd(&device)
    );
    nix::mount::mount(
        Some(source),
        mnt,
        Some(fstype),
        nix::mount::MsFlags::MS_NOSUID | nix::mount::MsFlags::MS_NODEV,
        Some(data.as_str()),
    )
    .expect("mount(2) of /dev/fuse");
    device
}
