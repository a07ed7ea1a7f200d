//! Workers: requests really run concurrently, up to `max`, and data stays correct.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use fusegen::{MountOptions, Workers};

use crate::mount::common::{
    CALL_TIMEOUT, TestMount, abort_connection, connection_number, fuse_available, within,
};
use crate::mount::fixture::TestFs;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn fifty_concurrent_readers_get_correct_data() {
    let Some(()) = fuse_available("fifty_concurrent_readers_get_correct_data") else {
        return;
    };
    let big = pattern(3 * 1024 * 1024 + 17);
    let small = b"Hello World!\n".to_vec();
    let m = TestMount::new(TestFs::new(&[("big", &big), ("small", &small)]));
    let readers: Vec<_> = (0..50)
        .map(|i| {
            let (path, want) = if i % 2 == 0 {
                (m.join("big"), big.clone())
            } else {
                (m.join("small"), small.clone())
            };
            std::thread::spawn(move || {
                let got =
                    within(CALL_TIMEOUT, "concurrent read", move || std::fs::read(path)).unwrap();
                assert!(
                    got == want,
                    "reader {i} got {} bytes of wrong data",
                    got.len()
                );
            })
        })
        .collect();
    for r in readers {
        r.join().expect("reader thread");
    }
}

/// Waits (bounded) until `cond` holds.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + CALL_TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_slow_handler_does_not_block_others() {
    let Some(()) = fuse_available("a_slow_handler_does_not_block_others") else {
        return;
    };
    let fs = TestFs::new(&[("slow", b"late"), ("fast", b"quick")]);
    let (gate, probe) = (fs.gate.clone(), fs.probe.clone());
    let m = TestMount::new(fs);
    let slow_path = m.join("slow");
    let slow = std::thread::spawn(move || std::fs::read(slow_path));
    eventually("the slow read to reach the handler", || {
        probe.in_flight.load(Ordering::SeqCst) == 1
    });
    // While the slow read is parked in its handler, another read completes.
    let fast = m.join("fast");
    assert_eq!(
        within(CALL_TIMEOUT, "fast read", move || std::fs::read(fast)).unwrap(),
        b"quick"
    );
    gate.add_permits(1);
    assert_eq!(slow.join().unwrap().unwrap(), b"late");
}

#[test]
fn workers_grow_to_max_and_no_further() {
    let Some(()) = fuse_available("workers_grow_to_max_and_no_further") else {
        return;
    };
    let files: Vec<(String, Vec<u8>)> = (0..8)
        .map(|i| (format!("slow{i}"), vec![b'x'; 10]))
        .collect();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
    let fs = TestFs::new(&refs);
    let (gate, probe) = (fs.gate.clone(), fs.probe.clone());
    let workers = Workers {
        min: 1,
        max: 3,
        ..Workers::default()
    };
    let m = TestMount::start(fs, MountOptions::default(), workers).expect("mount");
    let readers: Vec<_> = (0..8)
        .map(|i| {
            let p = m.join(&format!("slow{i}"));
            std::thread::spawn(move || std::fs::read(p))
        })
        .collect();
    // Three handlers are parked at the gate; with max = 3 no fourth can start.
    eventually("three reads in flight", || {
        probe.in_flight.load(Ordering::SeqCst) == 3
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        probe.peak.load(Ordering::SeqCst),
        3,
        "more handlers ran than max allows"
    );
    gate.add_permits(8);
    for r in readers {
        assert_eq!(r.join().unwrap().unwrap(), vec![b'x'; 10]);
    }
    assert_eq!(probe.peak.load(Ordering::SeqCst), 3);
    assert_eq!(probe.reads.load(Ordering::SeqCst), 8);
}

#[test]
fn handlers_that_block_their_thread_still_run_in_parallel() {
    let Some(()) = fuse_available("handlers_that_block_their_thread_still_run_in_parallel") else {
        return;
    };
    let names: Vec<String> = (0..6).map(|i| format!("blocking{i}")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"data"[..])).collect();
    let fs = TestFs::new(&files);
    let probe = fs.probe.clone();
    let m = TestMount::start(
        fs,
        MountOptions::parse(["direct_io"]).unwrap(),
        Workers::default(),
    )
    .unwrap();
    // The first such read shows the worker pool that handlers block; from then on a worker
    // hands the reading turn over before running one, so the others overlap.
    let first = m.join("blocking0");
    assert_eq!(m.run(move |_| std::fs::read(first).unwrap()), b"data");
    assert_eq!(probe.peak.load(Ordering::SeqCst), 1);
    let readers: Vec<_> = names[1..]
        .iter()
        .map(|n| {
            let path = m.join(n);
            std::thread::spawn(move || {
                within(CALL_TIMEOUT, "blocking read", move || std::fs::read(path)).unwrap()
            })
        })
        .collect();
    for r in readers {
        assert_eq!(r.join().unwrap(), b"data");
    }
    assert!(
        probe.peak.load(Ordering::SeqCst) >= 2,
        "blocking handlers ran one at a time"
    );
}

/// The stop wakes reader threads asleep in `read(2)` with a signal; a handler that is blocked
/// in a system call on a reader thread when the stop begins must not be interrupted by it.
#[test]
fn the_stop_does_not_interrupt_a_handler_blocked_in_a_system_call() {
    let Some(()) = fuse_available("the_stop_does_not_interrupt_a_handler_blocked_in_a_system_call")
    else {
        return;
    };
    let fs = TestFs::new(&[("pipe", b"data")]);
    let (read_end, write_end) = nix::unistd::pipe().unwrap();
    *fs.pipe.lock().unwrap() = Some(read_end);
    let probe = fs.probe.clone();
    let mut m = TestMount::start(
        fs,
        MountOptions::parse(["direct_io"]).unwrap(),
        Workers::default(),
    )
    .unwrap();
    let connection = connection_number(m.path()).expect("the mount's connection");
    let path = m.join("pipe");
    // One read(2), and the file stays open: a second read or the close (FLUSH) would wait
    // for a server that has stopped.
    let reader = std::thread::spawn(move || {
        within(CALL_TIMEOUT, "read blocked in the handler", move || {
            let mut file = std::fs::File::open(path)?;
            let mut data = vec![0; 64];
            let n = std::io::Read::read(&mut file, &mut data)?;
            data.truncate(n);
            Ok::<_, std::io::Error>((file, data))
        })
    });
    eventually("the handler to block", || {
        probe.in_flight.load(Ordering::SeqCst) == 1
    });
    m.handle().terminate();
    // Long enough for the stop to signal the sleeping readers several times (every 10 ms).
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(nix::unistd::write(&write_end, b"x").unwrap(), 1);
    let (file, data) = reader.join().unwrap().unwrap();
    assert_eq!(data, b"data");
    assert_eq!(m.join_server(CALL_TIMEOUT), Ok(()));
    assert_eq!(
        probe.pipe_eintr.load(Ordering::SeqCst),
        0,
        "the stop's wake signal reached a handler"
    );
    assert!(probe.destroyed.load(Ordering::SeqCst));
    // Nothing serves the mount any more: end the connection so the close cannot wait.
    abort_connection(connection).unwrap();
    drop(file);
}
