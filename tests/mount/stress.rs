//! Stress, bounded in time: concurrent writers and readers verifying every byte, metadata
//! churn, a shutdown (Ctrl-C → terminate) while all of it runs, and panicking handlers next to
//! healthy readers. The figures are printed for `docs/reliability.md`.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::examples::Example;
use crate::mount::common::{CALL_TIMEOUT, TestMount, fuse_available, is_mounted, within};
use crate::mount::fixture::TestFs;

#[derive(Default)]
struct Figures {
    ops: AtomicU64,
    verified_bytes: AtomicU64,
    mismatches: AtomicU64,
    errors_during_shutdown: AtomicU64,
}

/// A tiny deterministic generator, so each writer's data is reproducible.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Writes random blocks to its own file and checks the whole file against a shadow copy
/// after every few writes. Stops at `stop`; during shutdown errors are counted, not fatal.
fn writer(
    path: PathBuf,
    seed: u64,
    stop: Arc<AtomicBool>,
    shutting: Arc<AtomicBool>,
    f: Arc<Figures>,
) {
    let mut rng = seed | 1;
    let mut shadow: Vec<u8> = Vec::new();
    let Ok(mut file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
    else {
        f.errors_during_shutdown.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let offset = (next(&mut rng) % (256 * 1024)) as usize;
        let len = 1 + (next(&mut rng) % (64 * 1024)) as usize;
        let byte = (next(&mut rng) & 0xff) as u8;
        let block = vec![byte; len];
        let wrote = file
            .seek(SeekFrom::Start(offset as u64))
            .and_then(|_| file.write_all(&block));
        if wrote.is_err() {
            if shutting.load(Ordering::Relaxed) {
                f.errors_during_shutdown.fetch_add(1, Ordering::Relaxed);
                return;
            }
            panic!("write failed before shutdown: {wrote:?}");
        }
        if shadow.len() < offset + len {
            shadow.resize(offset + len, 0);
        }
        shadow[offset..offset + len].copy_from_slice(&block);
        f.ops.fetch_add(1, Ordering::Relaxed);
        round += 1;
        if round.is_multiple_of(8) {
            let mut back = Vec::new();
            let read = file
                .seek(SeekFrom::Start(0))
                .and_then(|_| file.read_to_end(&mut back));
            match read {
                Ok(_) if back == shadow => {
                    f.verified_bytes
                        .fetch_add(back.len() as u64, Ordering::Relaxed);
                }
                Ok(_) => {
                    f.mismatches.fetch_add(1, Ordering::Relaxed);
                }
                Err(_) if shutting.load(Ordering::Relaxed) => {
                    f.errors_during_shutdown.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Err(e) => panic!("read-back failed before shutdown: {e}"),
            }
        }
    }
}

/// Creates, renames and removes files and directories until `stop`.
fn churn(dir: PathBuf, stop: Arc<AtomicBool>, f: Arc<Figures>) {
    let _ = std::fs::create_dir(&dir);
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let a = dir.join(format!("f{i}"));
        let b = dir.join(format!("g{i}"));
        let d = dir.join(format!("d{i}"));
        let ok = std::fs::write(&a, b"x").is_ok()
            && std::fs::rename(&a, &b).is_ok()
            && std::fs::create_dir(&d).is_ok()
            && std::fs::remove_file(&b).is_ok()
            && std::fs::remove_dir(&d).is_ok();
        if !ok {
            return; // only at shutdown: the writers catch real failures
        }
        f.ops.fetch_add(5, Ordering::Relaxed);
        i += 1;
    }
}

fn run_load(
    root: &Path,
    seed: u64,
    f: &Arc<Figures>,
) -> (
    Arc<AtomicBool>,
    Arc<AtomicBool>,
    Vec<std::thread::JoinHandle<()>>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let shutting = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for t in 0..8u64 {
        let (path, stop, shutting, f) = (
            root.join(format!("w{t}")),
            stop.clone(),
            shutting.clone(),
            f.clone(),
        );
        threads.push(std::thread::spawn(move || {
            writer(path, seed * 100 + t, stop, shutting, f)
        }));
    }
    let (dir, stop2, f2) = (root.join("churn"), stop.clone(), f.clone());
    threads.push(std::thread::spawn(move || churn(dir, stop2, f2)));
    (stop, shutting, threads)
}

fn join_all(threads: Vec<std::thread::JoinHandle<()>>) {
    within(CALL_TIMEOUT, "load threads", move || {
        for t in threads {
            t.join().expect("a load thread panicked");
        }
    });
}

#[test]
fn writers_readers_and_churn_survive_shutdown_and_panics() {
    let Some(()) = fuse_available("writers_readers_and_churn_survive_shutdown_and_panics") else {
        return;
    };
    let figures = Arc::new(Figures::default());
    let started = Instant::now();
    for cycle in 1..=2u64 {
        let ex = Example::start("memfs", &[]);
        // Verified load: every acknowledged byte is read back and compared.
        let (stop, _, threads) = run_load(ex.path(), cycle, &figures);
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        join_all(threads);
        // Shutdown under load: Ctrl-C while writers and churn are running.
        let (_stop, shutting, threads) = run_load(&ex.path().join("churn"), cycle + 10, &figures);
        std::thread::sleep(Duration::from_millis(300));
        shutting.store(true, Ordering::Relaxed);
        let path = ex.path().to_path_buf();
        ex.interrupt();
        join_all(threads);
        assert!(!is_mounted(&path), "cycle {cycle} left a mount");
    }

    // Panicking handlers next to healthy readers, in one session.
    let good = vec![7u8; 200_000];
    let m = TestMount::new(TestFs::new(&[("panic", b"boom"), ("good", &good)]));
    let faults = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..8u32)
        .map(|i| {
            let (m_good, m_panic, faults, f, good) = (
                m.join("good"),
                m.join("panic"),
                faults.clone(),
                figures.clone(),
                good.clone(),
            );
            std::thread::spawn(move || {
                for _ in 0..50 {
                    if i.is_multiple_of(2) {
                        let err = std::fs::read(&m_panic)
                            .expect_err("a panicking handler answers an error");
                        assert_eq!(err.raw_os_error(), Some(libc::EIO));
                        faults.fetch_add(1, Ordering::Relaxed);
                    } else {
                        let data = std::fs::read(&m_good).expect("healthy reads keep working");
                        if data != good {
                            f.mismatches.fetch_add(1, Ordering::Relaxed);
                        }
                        f.verified_bytes
                            .fetch_add(data.len() as u64, Ordering::Relaxed);
                    }
                    f.ops.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    join_all(threads);
    drop(m);

    let (ops, bytes, mismatches, shutdown_errors) = (
        figures.ops.load(Ordering::Relaxed),
        figures.verified_bytes.load(Ordering::Relaxed),
        figures.mismatches.load(Ordering::Relaxed),
        figures.errors_during_shutdown.load(Ordering::Relaxed),
    );
    println!(
        "stress: {ops} operations, {bytes} bytes verified, {} panics injected, 2 shutdowns under load \
         ({shutdown_errors} operations cut off by them), {mismatches} mismatches, {:?}",
        faults.load(Ordering::Relaxed),
        started.elapsed()
    );
    assert_eq!(mismatches, 0, "data mismatches");
    assert!(ops > 100, "the load ran ({ops} operations)");
}
