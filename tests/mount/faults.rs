//! Faults in handlers and interrupted callers: the session answers and keeps serving.

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use fusegen::{MountOptions, Workers};

use crate::mount::common::{CALL_TIMEOUT, TestMount, fuse_available, within};
use crate::mount::fixture::TestFs;

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

fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + CALL_TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn with_intr_a_signal_cancels_a_slow_read_and_the_fs_keeps_serving() {
    let Some(()) =
        fuse_available("with_intr_a_signal_cancels_a_slow_read_and_the_fs_keeps_serving")
    else {
        return;
    };
    let fs = TestFs::new(&[("slow", b"never read"), ("fine", b"ok")]);
    let probe = fs.probe.clone();
    // direct_io: a cached read waits on a page lock, not on the request, and is never
    // interrupted; an uncached read is a synchronous request the kernel interrupts.
    let options = MountOptions::parse(["intr,direct_io"]).unwrap();
    let m = TestMount::start(fs, options, Workers::default()).unwrap();
    let mut reader = Command::new("cat")
        .arg(m.join("slow"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the read to reach its handler", || {
        probe.in_flight.load(Ordering::SeqCst) == 1
    });
    let pid = nix::unistd::Pid::from_raw(reader.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    // The gate is never opened: only the interrupt can end this read.
    let status = within(CALL_TIMEOUT, "interrupted cat to exit", move || {
        reader.wait()
    })
    .unwrap();
    assert!(!status.success(), "cat was interrupted");
    wait_for("the handler to be cancelled", || {
        probe.cancelled.load(Ordering::SeqCst) == 1
    });
    assert_eq!(probe.in_flight.load(Ordering::SeqCst), 0);
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
fn without_intr_an_interrupted_read_still_finishes_its_handler() {
    let Some(()) = fuse_available("without_intr_an_interrupted_read_still_finishes_its_handler")
    else {
        return;
    };
    let fs = TestFs::new(&[("slow", b"late")]);
    let (gate, probe) = (fs.gate.clone(), fs.probe.clone());
    let m = TestMount::new(fs);
    let mut reader = Command::new("cat")
        .arg(m.join("slow"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the read to reach its handler", || {
        probe.in_flight.load(Ordering::SeqCst) == 1
    });
    let pid = nix::unistd::Pid::from_raw(reader.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    gate.add_permits(1);
    within(CALL_TIMEOUT, "cat to exit", move || reader.wait()).unwrap();
    wait_for("the handler to finish", || {
        probe.in_flight.load(Ordering::SeqCst) == 0
    });
    assert_eq!(
        probe.cancelled.load(Ordering::SeqCst),
        0,
        "without intr, handlers are never cancelled"
    );
}
