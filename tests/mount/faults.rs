//! Faults in handlers and interrupted callers: the session answers and keeps serving.

use std::sync::atomic::Ordering;
use std::time::Duration;

use fusegen::{MountOptions, Workers};

use nix::sys::signal::Signal;

use crate::mount::common::{
    CALL_TIMEOUT, TestMount, eventually, fuse_available, interrupt_a_slow_read,
    start_a_reader_in_its_handler, within,
};
use crate::mount::fixture::{Probe, TestFs};

#[test]
fn a_panicking_handler_answers_eio_and_the_session_keeps_serving() {
    let Some(()) = fuse_available("a_panicking_handler_answers_eio_and_the_session_keeps_serving")
    else {
        return;
    };
    let m = TestMount::new(TestFs::new(&[("panic", b"never"), ("fine", b"ok")]));
    for _ in 0..3 {
        let f = m.join("panic");
        let err = within(CALL_TIMEOUT, "read panic", move || std::fs::read(f)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EIO));
    }
    let f = m.join("fine");
    assert_eq!(
        within(CALL_TIMEOUT, "read fine", move || std::fs::read(f)).unwrap(),
        b"ok"
    );
}

#[test]
fn with_intr_a_signal_cancels_a_slow_read_and_the_fs_keeps_serving() {
    let Some(()) =
        fuse_available("with_intr_a_signal_cancels_a_slow_read_and_the_fs_keeps_serving")
    else {
        return;
    };
    // direct_io: a cached read waits on a page lock, not on the request, and is never
    // interrupted; an uncached read is a synchronous request the kernel interrupts.
    let options = MountOptions::parse(["intr,direct_io"]).unwrap();
    let m = interrupt_a_slow_read(options);
    let f = m.join("fine");
    assert_eq!(
        within(CALL_TIMEOUT, "read after interrupt", move || std::fs::read(
            f
        ))
        .unwrap(),
        b"ok"
    );
}

#[test]
fn without_intr_a_caught_signal_lets_the_handler_finish() {
    let Some(()) = fuse_available("without_intr_a_caught_signal_lets_the_handler_finish") else {
        return;
    };
    let fs = TestFs::new(&[("slow", b"late")]);
    let (gate, probe) = (fs.gate.clone(), fs.probe.clone());
    let m = TestMount::start(
        fs,
        MountOptions::parse(["direct_io"]).unwrap(),
        Workers::default(),
    )
    .unwrap();
    let reader = read_once_and_catch_a_signal(&m, "slow", &probe);
    eventually("the READ to be marked interrupted", || {
        m.handle()
            .in_flight()
            .iter()
            .any(|r| r.opcode == "READ" && r.interrupted)
    });
    gate.add_permits(1);
    let read = reader.recv_timeout(CALL_TIMEOUT).expect("read to finish");
    assert_eq!(read.expect("the read succeeds"), b"late");
    assert_eq!(
        probe.cancelled.load(Ordering::SeqCst),
        0,
        "a live caller's handler is not cancelled without intr"
    );
}

#[test]
fn a_handler_that_awaits_its_interrupt_answers_eintr() {
    let Some(()) = fuse_available("a_handler_that_awaits_its_interrupt_answers_eintr") else {
        return;
    };
    let fs = TestFs::new(&[("polite", b"never")]);
    let probe = fs.probe.clone();
    let m = TestMount::start(
        fs,
        MountOptions::parse(["direct_io"]).unwrap(),
        Workers::default(),
    )
    .unwrap();
    let reader = read_once_and_catch_a_signal(&m, "polite", &probe);
    let read = reader.recv_timeout(CALL_TIMEOUT).expect("read to finish");
    assert_eq!(read.unwrap_err().raw_os_error(), Some(libc::EINTR));
    assert_eq!(probe.saw_interrupt.load(Ordering::SeqCst), 1);
    assert_eq!(probe.cancelled.load(Ordering::SeqCst), 0);
}

#[test]
fn a_fatal_signal_frees_a_caller_whose_handler_never_returns() {
    let Some(()) = fuse_available("a_fatal_signal_frees_a_caller_whose_handler_never_returns")
    else {
        return;
    };
    for signal in [Signal::SIGTERM, Signal::SIGKILL] {
        let fs = TestFs::new(&[("slow", b"never"), ("fine", b"ok")]);
        let probe = fs.probe.clone();
        // No intr: only the caller's death can end this read, the gate never opens.
        let m = TestMount::start(
            fs,
            MountOptions::parse(["direct_io"]).unwrap(),
            Workers::default(),
        )
        .unwrap();
        let mut reader = start_a_reader_in_its_handler(&m, &probe);
        let pid = nix::unistd::Pid::from_raw(reader.id() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
        let status = within(CALL_TIMEOUT, "killed cat to exit", move || reader.wait()).unwrap();
        assert!(!status.success(), "{signal}: cat was killed");
        eventually("the handler to be cancelled", || {
            probe.cancelled.load(Ordering::SeqCst) == 1
        });
        let f = m.join("fine");
        assert_eq!(
            within(CALL_TIMEOUT, "read after the kill", move || std::fs::read(
                f
            ))
            .unwrap(),
            b"ok"
        );
    }
}

/// Starts a thread of this process that opens `name` on the mount and reads it with one
/// `read(2)` (no retry on `EINTR`, unlike `std::fs::read`); once the read is in its handler,
/// sends the thread SIGUSR2, which a do-nothing handler catches (a signal that interrupts
/// without killing). Returns where the read's result arrives.
fn read_once_and_catch_a_signal(
    m: &TestMount,
    name: &str,
    probe: &Probe,
) -> std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>> {
    catch_sigusr2();
    let path = m.join(name);
    let (thread_tx, thread_rx) = std::sync::mpsc::channel();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: pthread_self has no preconditions.
        let _ = thread_tx.send(unsafe { libc::pthread_self() });
        let read = std::fs::File::open(path).and_then(|mut f| {
            let mut buf = vec![0; 64];
            let n = std::io::Read::read(&mut f, &mut buf)?;
            buf.truncate(n);
            Ok(buf)
        });
        let _ = tx.send(read);
    });
    let thread = thread_rx.recv().expect("reader thread started");
    eventually("the read to reach its handler", || {
        probe.in_flight.load(Ordering::SeqCst) == 1
    });
    // SAFETY: the thread is alive: it is blocked in the read the handler holds.
    let sent = unsafe { libc::pthread_kill(thread, libc::SIGUSR2) };
    assert_eq!(sent, 0, "pthread_kill");
    rx
}

extern "C" fn ignore_signal(_: libc::c_int) {}

/// SIGUSR2 caught by a handler that does nothing, without `SA_RESTART`.
fn catch_sigusr2() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(ignore_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler does nothing, so it is async-signal-safe; no other code of this
    // test binary uses SIGUSR2.
    unsafe { sigaction(nix::sys::signal::Signal::SIGUSR2, &action) }.expect("sigaction");
}

#[test]
fn in_flight_lists_a_slow_request_until_it_is_answered() {
    let Some(()) = fuse_available("in_flight_lists_a_slow_request_until_it_is_answered") else {
        return;
    };
    let fs = TestFs::new(&[("slow", b"late")]);
    let (gate, probe) = (fs.gate.clone(), fs.probe.clone());
    let m = TestMount::new(fs);
    let f = m.join("slow");
    let reader = std::thread::spawn(move || std::fs::read(f));
    eventually("the read to reach its handler", || {
        probe.in_flight.load(Ordering::SeqCst) == 1
    });
    let listed = m.handle().in_flight();
    assert!(
        listed.iter().any(|r| r.opcode == "READ" && r.nodeid == 2),
        "{listed:?}"
    );
    gate.add_permits(1);
    assert_eq!(reader.join().unwrap().unwrap(), b"late");
    eventually("the READ to leave the list", || {
        m.handle().in_flight().iter().all(|r| r.opcode != "READ")
    });
}

#[test]
fn a_handler_that_never_returns_does_not_block_terminate_past_the_grace_period() {
    let Some(()) = fuse_available(
        "a_handler_that_never_returns_does_not_block_terminate_past_the_grace_period",
    ) else {
        return;
    };
    let fs = TestFs::new(&[("slow", b"never")]);
    let probe = fs.probe.clone();
    let workers = Workers {
        grace: Duration::from_millis(200),
        ..Workers::default()
    };
    let mut m = TestMount::start(fs, MountOptions::parse(["direct_io"]).unwrap(), workers).unwrap();
    let f = m.join("slow");
    let reader = std::thread::spawn(move || std::fs::read(f));
    eventually("the read to reach its handler", || {
        probe.in_flight.load(Ordering::SeqCst) == 1
    });
    m.handle().terminate();
    assert_eq!(
        m.join_server(CALL_TIMEOUT),
        Ok(()),
        "main returned after the grace period"
    );
    assert_eq!(
        probe.cancelled.load(Ordering::SeqCst),
        1,
        "the stuck handler was cancelled"
    );
    // The session closed and unmounted; the reader gets an error instead of hanging.
    assert!(within(CALL_TIMEOUT, "reader", move || reader.join().unwrap()).is_err());
}

#[test]
fn close_of_a_busy_mount_detaches_it() {
    let Some(()) = fuse_available("close_of_a_busy_mount_detaches_it") else {
        return;
    };
    let mut m = TestMount::new(TestFs::new(&[("f", b"held open")]));
    let f = m.join("f");
    let held = within(CALL_TIMEOUT, "open", move || std::fs::File::open(f)).unwrap();
    m.handle().terminate();
    // The server thread runs close(true) after main: the mount is busy, so it is detached.
    assert_eq!(m.join_server(CALL_TIMEOUT), Ok(()));
    assert!(
        !crate::mount::common::is_mounted(m.path()),
        "busy mount was detached"
    );
    drop(held);
}

/// A filesystem that returns what the kernel must never see.
struct Broken;

#[fusegen::handlers]
impl Broken {
    async fn lookup(
        &self,
        _parent: fusegen::Inode,
        _name: &std::ffi::OsStr,
    ) -> fusegen::Result<fusegen::EntryAttributes> {
        let mut attr =
            fusegen::EntryAttributes::new(fusegen::Inode(2), fusegen::FileType::RegularFile, 0o644);
        attr.mode = 0o644; // no file type
        Ok(attr)
    }

    async fn getattr(
        &self,
        ino: fusegen::Inode,
        _fh: Option<fusegen::FileHandle>,
    ) -> fusegen::Result<fusegen::EntryAttributes> {
        Ok(fusegen::EntryAttributes::new(
            ino,
            fusegen::FileType::Directory,
            0o755,
        ))
    }

    async fn readdir(
        &self,
        _ino: fusegen::Inode,
        _fh: fusegen::FileHandle,
        offset: u64,
        out: &mut fusegen::ReaddirReply<'_>,
    ) -> fusegen::Result<()> {
        if offset == 0 {
            let attr = fusegen::EntryAttributes::new(
                fusegen::Inode(3),
                fusegen::FileType::RegularFile,
                0o644,
            );
            out.add(std::ffi::OsStr::new("a/b"), &attr, 1);
        }
        Ok(())
    }
}

impl fusegen::Filesystem for Broken {}

#[test]
fn invalid_handler_output_becomes_eio_not_a_corrupt_reply() {
    let Some(()) = fuse_available("invalid_handler_output_becomes_eio_not_a_corrupt_reply") else {
        return;
    };
    let m = TestMount::new(Broken);
    let f = m.join("x");
    let err = within(CALL_TIMEOUT, "stat", move || std::fs::metadata(f)).unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::EIO),
        "attributes without a file type"
    );
    let root = m.path().to_path_buf();
    let err = within(CALL_TIMEOUT, "readdir", move || {
        std::fs::read_dir(root)?.collect::<Result<Vec<_>, _>>()
    })
    .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO), "a name with a slash");
}
