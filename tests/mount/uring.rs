//! The io_uring transport (FUSE-over-io_uring, Linux 6.14+): requests really travel over the
//! ring, `auto` falls back to `/dev/fuse` when the kernel does not offer it, `io_uring` fails
//! `main` with the reason, and interrupts, shutdown and concurrency behave as on `/dev/fuse`.
//!
//! Tests flip the `fuse` module parameter `enable_uring`; they hold a process-wide lock while
//! doing so and restore the previous value afterwards. Tests that switch it *off* are skipped
//! when `FUSEGEN_TRANSPORT` is set: then other tests of the run require io_uring.

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use fusegen::{ActiveTransport, MountOptions, Transport, Workers};

use crate::mount::common::{
    CALL_TIMEOUT, TestMount, abort_connection, connection_number, eventually, fuse_available,
    is_mounted, wait_unmounted, within,
};
use crate::mount::fixture::TestFs;

const PARAM: &str = "/sys/module/fuse/parameters/enable_uring";

static PARAM_LOCK: Mutex<()> = Mutex::new(());

/// `enable_uring` set to a value for the guard's lifetime, then restored.
struct UringParam {
    previous: String,
    _lock: MutexGuard<'static, ()>,
}

impl UringParam {
    /// `None` (with a note) when this kernel has no FUSE-over-io_uring or FUSE is unusable.
    fn set(test: &str, on: bool) -> Option<UringParam> {
        fuse_available(test)?;
        let lock = PARAM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let Ok(previous) = std::fs::read_to_string(PARAM) else {
            eprintln!("{test}: skipped, this kernel has no FUSE-over-io_uring ({PARAM} missing)");
            return None;
        };
        std::fs::write(PARAM, if on { "Y" } else { "N" }).expect("writing enable_uring");
        Some(UringParam {
            previous: previous.trim().to_string(),
            _lock: lock,
        })
    }

    /// For tests that turn io_uring off: not while a run requires io_uring everywhere.
    fn off(test: &str) -> Option<UringParam> {
        if std::env::var_os(fusegen::TRANSPORT_ENV).is_some() {
            eprintln!("{test}: skipped, {} is set", fusegen::TRANSPORT_ENV);
            return None;
        }
        UringParam::set(test, false)
    }
}

impl Drop for UringParam {
    fn drop(&mut self) {
        let _ = std::fs::write(PARAM, &self.previous);
    }
}

fn options(transport: Transport, extra: &str) -> MountOptions {
    let mut o = MountOptions::parse([extra]).expect("options");
    o.transport = Some(transport);
    o
}

fn files(n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            (
                format!("f{i}"),
                format!("contents of file {i}").into_bytes(),
            )
        })
        .collect()
}

fn test_fs(files: &[(String, Vec<u8>)]) -> TestFs {
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
    TestFs::new(&refs)
}

#[test]
fn io_uring_serves_lookups_getattrs_and_reads_over_the_ring() {
    let test = "io_uring_serves_lookups_getattrs_and_reads_over_the_ring";
    let Some(_param) = UringParam::set(test, true) else {
        return;
    };
    let files = files(5);
    let m = TestMount::start(
        test_fs(&files),
        options(Transport::IoUring, "direct_io"),
        Workers::default(),
    )
    .expect("mount with transport=io_uring");
    let handle = m.handle();
    assert!(
        matches!(handle.transport(), Some(ActiveTransport::IoUring { queues, depth }) if queues >= 1 && depth == 16),
        "{:?}",
        handle.transport()
    );
    let before = handle.requests_served();
    let expected = files.clone();
    let root = m.path().to_path_buf();
    m.run(move |_| {
        for (name, data) in &expected {
            assert_eq!(
                std::fs::metadata(root.join(name)).unwrap().len(),
                data.len() as u64
            );
            assert_eq!(&std::fs::read(root.join(name)).unwrap(), data);
        }
        let mut listed: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        listed.sort();
        assert_eq!(listed, ["f0", "f1", "f2", "f3", "f4"]);
        assert_eq!(
            std::fs::metadata(root.join("missing")).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
    });
    let after = handle.requests_served();
    // LOOKUP, GETATTR, OPEN, READ, RELEASE, OPENDIR, READDIRPLUS, … for five files.
    assert!(
        after.uring >= before.uring + 20,
        "requests were not served by the ring: {before:?} -> {after:?}"
    );
    assert_eq!(
        after.dev, 0,
        "no ordinary request may come through /dev/fuse once the ring runs: {after:?}"
    );
}

#[test]
fn auto_uses_the_ring_when_the_kernel_offers_it() {
    let test = "auto_uses_the_ring_when_the_kernel_offers_it";
    let Some(_param) = UringParam::set(test, true) else {
        return;
    };
    let m = TestMount::start(
        test_fs(&files(1)),
        options(Transport::Auto, ""),
        Workers::default(),
    )
    .expect("mount");
    assert!(matches!(
        m.handle().transport(),
        Some(ActiveTransport::IoUring { .. })
    ));
    let f = m.join("f0");
    m.run(move |_| std::fs::read(f).unwrap());
    assert!(m.handle().requests_served().uring > 0);
}

#[test]
fn auto_falls_back_to_dev_fuse_when_enable_uring_is_off() {
    let test = "auto_falls_back_to_dev_fuse_when_enable_uring_is_off";
    let Some(_param) = UringParam::off(test) else {
        return;
    };
    let m = TestMount::start(
        test_fs(&files(2)),
        options(Transport::Auto, ""),
        Workers::default(),
    )
    .expect("mount");
    assert_eq!(m.handle().transport(), Some(ActiveTransport::Dev));
    let f = m.join("f1");
    assert_eq!(
        m.run(move |_| std::fs::read(f).unwrap()),
        b"contents of file 1"
    );
    let served = m.handle().requests_served();
    assert_eq!(served.uring, 0);
    assert!(served.dev > 0, "{served:?}");
}

#[test]
fn explicit_io_uring_fails_main_naming_the_module_parameter() {
    let test = "explicit_io_uring_fails_main_naming_the_module_parameter";
    let Some(_param) = UringParam::off(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut session = fusegen::mount(
        test_fs(&files(1)),
        dir.path(),
        options(Transport::IoUring, ""),
    )
    .expect("mount");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let result = within(CALL_TIMEOUT, "main to fail", move || {
        let r = rt.block_on(session.main(Workers::default()));
        session.close(true);
        r
    });
    let err = result
        .expect_err("main must fail without io_uring")
        .to_string();
    assert!(
        err.contains("io_uring") && err.contains("enable_uring"),
        "unhelpful error: {err}"
    );
    assert!(wait_unmounted(dir.path(), CALL_TIMEOUT));
}

#[test]
fn with_intr_an_interrupt_on_dev_fuse_cancels_a_handler_running_on_the_ring() {
    let test = "with_intr_an_interrupt_on_dev_fuse_cancels_a_handler_running_on_the_ring";
    let Some(_param) = UringParam::set(test, true) else {
        return;
    };
    let m =
        crate::mount::common::interrupt_a_slow_read(options(Transport::IoUring, "intr,direct_io"));
    let served = m.handle().requests_served();
    assert!(
        served.dev_forget_interrupt >= 1,
        "the INTERRUPT came through /dev/fuse: {served:?}"
    );
    let f = m.join("fine");
    assert_eq!(m.run(move |_| std::fs::read(f).unwrap()), b"ok");
}

#[test]
fn a_slow_handler_does_not_block_its_queue_and_many_requests_run_at_once() {
    let test = "a_slow_handler_does_not_block_its_queue_and_many_requests_run_at_once";
    let Some(_param) = UringParam::set(test, true) else {
        return;
    };
    let slow: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("slow{i}"), vec![b'a' + i as u8; 100]))
        .chain(std::iter::once(("fast".to_string(), b"quick".to_vec())))
        .collect();
    let fs = test_fs(&slow);
    let (gate, probe) = (fs.gate.clone(), fs.probe.clone());
    // One entry per queue would serialise everything on a CPU; four must not.
    let m = TestMount::start(
        fs,
        options(Transport::IoUring, "direct_io,uring_queue_depth=4"),
        Workers::default(),
    )
    .expect("mount");
    // Pin every reader to one CPU so all requests land on the same queue.
    let readers: Vec<_> = (0..3)
        .map(|i| {
            let p = m.join(&format!("slow{i}"));
            std::thread::spawn(move || {
                pin_to_one_cpu();
                std::fs::read(p)
            })
        })
        .collect();
    eventually("three slow reads parked in their handlers", || {
        probe.in_flight.load(Ordering::SeqCst) == 3
    });
    let fast = m.join("fast");
    let quick = within(
        CALL_TIMEOUT,
        "a fast read beside three slow ones",
        move || {
            pin_to_one_cpu();
            std::fs::read(fast)
        },
    )
    .unwrap();
    assert_eq!(quick, b"quick");
    // With direct_io each read() is a READ, and the end-of-file probe waits at the gate too.
    gate.add_permits(1000);
    for (i, r) in readers.into_iter().enumerate() {
        assert_eq!(r.join().unwrap().unwrap(), vec![b'a' + i as u8; 100]);
    }
    assert!(probe.peak.load(Ordering::SeqCst) >= 3);

    // Many concurrent readers over all queues, all correct.
    let root = m.path().to_path_buf();
    let many: Vec<_> = (0..32)
        .map(|i| {
            let p = root.join(format!("slow{}", i % 6));
            std::thread::spawn(move || (i % 6, std::fs::read(p)))
        })
        .collect();
    for r in many {
        let (i, data) = r.join().unwrap();
        assert_eq!(data.unwrap(), vec![b'a' + i as u8; 100]);
    }
    assert_eq!(m.handle().requests_served().dev, 0);
}

/// Pins the calling thread to the first CPU it may run on, so that the kernel queues its
/// requests on that CPU's ring queue.
fn pin_to_one_cpu() {
    let me = nix::unistd::Pid::from_raw(0);
    let allowed = nix::sched::sched_getaffinity(me).unwrap();
    let first = (0..nix::sched::CpuSet::count())
        .find(|&c| allowed.is_set(c).unwrap_or(false))
        .expect("some CPU is allowed");
    let mut set = nix::sched::CpuSet::new();
    set.set(first).unwrap();
    nix::sched::sched_setaffinity(me, &set).unwrap();
}

#[test]
fn terminate_under_load_stops_main_promptly() {
    let test = "terminate_under_load_stops_main_promptly";
    let Some(_param) = UringParam::set(test, true) else {
        return;
    };
    let fs = TestFs::new(&[("slow", b"never"), ("f", b"data")]);
    let probe = fs.probe.clone();
    let workers = Workers {
        grace: Duration::from_millis(300),
        ..Workers::default()
    };
    let mut m =
        TestMount::start(fs, options(Transport::IoUring, "direct_io"), workers).expect("mount");
    // A handler that never returns, and readers hammering the ring.
    let slow = m.join("slow");
    let _stuck = std::thread::spawn(move || std::fs::read(slow));
    eventually("the stuck read to reach its handler", || {
        probe.in_flight.load(Ordering::SeqCst) == 1
    });
    let f = m.join("f");
    let hammer: Vec<_> = (0..4)
        .map(|_| {
            let f = f.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    if std::fs::read(&f).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    eventually("the ring to serve the hammering readers", || {
        m.handle().requests_served().uring > 50
    });
    m.handle().terminate();
    m.join_server(CALL_TIMEOUT).expect("main returned Ok");
    for h in hammer {
        within(
            CALL_TIMEOUT,
            "a reader to finish after terminate",
            move || h.join().unwrap(),
        );
    }
}

#[test]
fn unmount_from_outside_ends_main() {
    let test = "unmount_from_outside_ends_main";
    let Some(_param) = UringParam::set(test, true) else {
        return;
    };
    let mut m = TestMount::start(
        test_fs(&files(1)),
        options(Transport::IoUring, ""),
        Workers::default(),
    )
    .expect("mount");
    let f = m.join("f0");
    m.run(move |_| std::fs::read(f).unwrap());
    assert!(m.handle().requests_served().uring > 0);
    let status = Command::new("umount").arg(m.path()).status().unwrap();
    assert!(status.success());
    m.join_server(CALL_TIMEOUT)
        .expect("main returned Ok after umount");
    assert!(wait_unmounted(m.path(), CALL_TIMEOUT));
}

#[test]
fn a_panicking_handler_on_the_ring_answers_eio() {
    let test = "a_panicking_handler_on_the_ring_answers_eio";
    let Some(_param) = UringParam::set(test, true) else {
        return;
    };
    let m = TestMount::start(
        TestFs::new(&[("panic", b"x"), ("fine", b"ok")]),
        options(Transport::IoUring, "direct_io"),
        Workers::default(),
    )
    .expect("mount");
    let p = m.join("panic");
    let err = m.run(move |_| std::fs::read(p)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    let f = m.join("fine");
    assert_eq!(m.run(move |_| std::fs::read(f).unwrap()), b"ok");
    assert_eq!(m.handle().requests_served().dev, 0);
}

#[test]
fn dropping_the_runtime_while_main_serves_the_ring_does_not_hang() {
    let test = "dropping_the_runtime_while_main_serves_the_ring_does_not_hang";
    let Some(_param) = UringParam::set(test, true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let session = fusegen::mount(
        test_fs(&files(1)),
        dir.path(),
        options(Transport::IoUring, ""),
    )
    .expect("mount");
    let handle = session.handle();
    let _detach = DetachOnDrop(dir.path().to_path_buf());
    // Leaked, so nothing unmounts or closes the connection when `main` is dropped: only the
    // queues' own shutdown can end their threads.
    let session = Box::leak(Box::new(session));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.spawn(session.main(Workers::default()));
    eventually("the ring to be in use", || {
        matches!(handle.transport(), Some(ActiveTransport::IoUring { .. }))
    });
    // The runtime's drop cancels `main` and waits for the queue threads, which must notice.
    within(CALL_TIMEOUT, "the runtime to shut down", move || drop(rt));
}

/// The mountpoint, for [`auto_unmount_child`].
const CHILD_DIR: &str = "FUSEGEN_URING_AUTO_UNMOUNT_DIR";

/// Not a test of its own: the filesystem process of
/// [`auto_unmount_removes_the_mount_after_kill_9`], run as this binary again with
/// [`CHILD_DIR`] set. Mounts with `auto_unmount` over the ring, prints `RING` once the ring
/// serves (at the end of libtest's `test … ` line), and serves until killed. Without
/// [`CHILD_DIR`] it does nothing.
#[test]
fn auto_unmount_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let options = options(
        Transport::IoUring,
        "auto_unmount,attr_timeout=0,entry_timeout=0",
    );
    let mut session = fusegen::mount(test_fs(&files(1)), &dir, options).expect("child mount");
    let handle = session.handle();
    let served = rt.spawn(async move { session.main(Workers::default()).await });
    eventually("the ring to be in use", || {
        matches!(handle.transport(), Some(ActiveTransport::IoUring { .. }))
    });
    println!("RING");
    rt.block_on(served)
        .expect("main did not panic")
        .expect("child session");
}

/// The killed child of [`auto_unmount_removes_the_mount_after_kill_9`] and its mountpoint.
/// On drop (a failed test): killed, reaped, the mount detached and its connection aborted.
struct KilledDaemon {
    child: Option<std::process::Child>,
    dir: tempfile::TempDir,
    connection: Option<u32>,
}

impl Drop for KilledDaemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if is_mounted(self.dir.path()) {
            let _ = nix::mount::umount2(self.dir.path(), nix::mount::MntFlags::MNT_DETACH);
            if let Some(n) = self.connection {
                let _ = abort_connection(n);
            }
        }
    }
}

/// fusermount3's `auto_unmount` looks once, when the process dies, and over the ring the
/// connection still looks alive then; fusegen's watcher detaches the mount anyway
/// (`docs/mount.md`). Over `/dev/fuse` the same is `crash::with_auto_unmount_…`.
#[test]
fn auto_unmount_removes_the_mount_after_kill_9() {
    let test = "auto_unmount_removes_the_mount_after_kill_9";
    if !["/usr/bin/fusermount3", "/bin/fusermount3"]
        .iter()
        .any(|p| std::path::Path::new(p).exists())
    {
        eprintln!("{test}: skipped, auto_unmount needs fusermount3 (apt-get install fuse3)");
        return;
    }
    let Some(_param) = UringParam::set(test, true) else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("fusegen-uring-kill-")
        .tempdir()
        .unwrap();
    let child = Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "--exact",
            "uring::auto_unmount_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir.path())
        .env_remove(fusegen::TRANSPORT_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the filesystem process");
    let mut daemon = KilledDaemon {
        child: Some(child),
        dir,
        connection: None,
    };
    let stdout = daemon
        .child
        .as_mut()
        .and_then(|c| c.stdout.take())
        .expect("child stdout");
    let ready = within(
        CALL_TIMEOUT,
        "the child to serve over the ring",
        move || {
            std::io::BufRead::lines(std::io::BufReader::new(stdout))
                .map_while(Result::ok)
                .any(|l| l.ends_with("RING"))
        },
    );
    assert!(ready, "the child exited before serving over the ring");
    daemon.connection = connection_number(daemon.dir.path());
    assert!(
        daemon.connection.is_some(),
        "the ring mount is in mountinfo"
    );
    let f = daemon.dir.path().join("f0");
    assert_eq!(
        within(CALL_TIMEOUT, "a read over the ring", move || std::fs::read(
            f
        ))
        .unwrap(),
        b"contents of file 0"
    );

    let mut child = daemon.child.take().expect("running");
    let killed = std::time::Instant::now();
    child.kill().expect("kill -9");
    within(CALL_TIMEOUT, "the killed process to be reaped", move || {
        child.wait()
    })
    .unwrap();
    assert!(
        wait_unmounted(daemon.dir.path(), AUTO_UNMOUNT_DEADLINE),
        "still mounted {AUTO_UNMOUNT_DEADLINE:?} after the filesystem process was killed"
    );
    eprintln!("{test}: unmounted {:?} after SIGKILL", killed.elapsed());
    let path = daemon.dir.path().to_path_buf();
    within(CALL_TIMEOUT, "stat of the mountpoint", move || {
        std::fs::metadata(path)
    })
    .expect("the mountpoint is a plain directory again");
}

/// How soon after `kill -9` an `auto_unmount` mount must be gone.
const AUTO_UNMOUNT_DEADLINE: Duration = Duration::from_secs(5);

/// Detaches whatever is mounted on the path, also when the test fails.
struct DetachOnDrop(std::path::PathBuf);

impl Drop for DetachOnDrop {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}
