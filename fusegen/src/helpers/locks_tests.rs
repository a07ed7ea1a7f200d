use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use super::*;

const F1: Inode = Inode(10);
const F2: Inode = Inode(11);

fn fh(n: u64) -> FileHandle {
    FileHandle(n)
}

fn lk(start: u64, end: u64, typ: i32) -> FileLock {
    FileLock {
        start,
        end,
        typ,
        pid: 100,
    }
}

fn lk_pid(start: u64, end: u64, typ: i32, pid: u32) -> FileLock {
    FileLock {
        pid,
        ..lk(start, end, typ)
    }
}

/// Polls once with a waker that does nothing (the tests poll again themselves).
fn poll_once<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

/// Runs a future that must not wait.
fn now<F: Future>(f: F) -> F::Output {
    match poll_once(pin!(f)) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the request waited"),
    }
}

/// `owner`'s locks on `ino`, sorted: (start, end, write).
fn held(t: &LockTable, ino: Inode, owner: u64) -> Vec<(u64, u64, bool)> {
    let state = t.lock();
    let mut v: Vec<_> = state
        .files
        .get(&ino.0)
        .map(|f| {
            f.posix
                .iter()
                .filter(|l| l.owner == owner)
                .map(|l| (l.start, l.end, l.write))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn set(t: &LockTable, owner: u64, lock: FileLock) -> Result<()> {
    now(t.setlk(F1, fh(owner), owner, lock, false))
}

#[test]
fn same_owner_locks_merge_split_and_change_type() {
    let t = LockTable::new();
    set(&t, 1, lk(0, 99, libc::F_WRLCK)).unwrap();
    set(&t, 1, lk(40, 59, libc::F_UNLCK)).unwrap();
    assert_eq!(held(&t, F1, 1), [(0, 39, true), (60, 99, true)]);
    // Filling the hole merges the three into one.
    set(&t, 1, lk(40, 59, libc::F_WRLCK)).unwrap();
    assert_eq!(held(&t, F1, 1), [(0, 99, true)]);
    // A read lock in the middle replaces that part only.
    set(&t, 1, lk(10, 19, libc::F_RDLCK)).unwrap();
    assert_eq!(
        held(&t, F1, 1),
        [(0, 9, true), (10, 19, false), (20, 99, true)]
    );
    // Adjacent read locks merge; write locks on either side stay apart.
    set(&t, 1, lk(20, 29, libc::F_RDLCK)).unwrap();
    assert_eq!(
        held(&t, F1, 1),
        [(0, 9, true), (10, 29, false), (30, 99, true)]
    );
    // Overlapping write over everything: one lock again.
    set(&t, 1, lk(5, 200, libc::F_WRLCK)).unwrap();
    assert_eq!(held(&t, F1, 1), [(0, 200, true)]);
    // Unlocking to end of file (the kernel's OFFSET_MAX) at the start leaves nothing.
    set(&t, 1, lk(0, i64::MAX as u64, libc::F_UNLCK)).unwrap();
    assert!(held(&t, F1, 1).is_empty());
    assert!(t.is_empty(), "the file's entry goes with its last lock");
}

#[test]
fn locks_at_the_end_of_the_range_do_not_overflow() {
    let t = LockTable::new();
    set(&t, 1, lk(u64::MAX - 1, u64::MAX, libc::F_WRLCK)).unwrap();
    set(&t, 1, lk(u64::MAX, u64::MAX, libc::F_UNLCK)).unwrap();
    assert_eq!(held(&t, F1, 1), [(u64::MAX - 1, u64::MAX - 1, true)]);
    set(&t, 1, lk(0, u64::MAX - 2, libc::F_WRLCK)).unwrap();
    assert_eq!(held(&t, F1, 1), [(0, u64::MAX - 1, true)]);
}

#[test]
fn getlk_reports_the_first_conflict_with_its_pid() {
    let t = LockTable::new();
    set(&t, 1, lk_pid(50, 59, libc::F_RDLCK, 501)).unwrap();
    set(&t, 2, lk_pid(20, 29, libc::F_WRLCK, 502)).unwrap();
    let c = t.getlk(F1, 3, lk(0, 100, libc::F_WRLCK)).unwrap();
    assert_eq!(c, lk_pid(20, 29, libc::F_WRLCK, 502));
    // Readers do not conflict with the read lock.
    let c = t.getlk(F1, 3, lk(40, 100, libc::F_RDLCK)).unwrap();
    assert_eq!(c, lk(40, 100, libc::F_UNLCK));
    // An owner never conflicts with itself.
    let c = t.getlk(F1, 2, lk(20, 29, libc::F_WRLCK)).unwrap();
    assert_eq!(c.typ, libc::F_UNLCK);
    // Other files are not concerned.
    assert_eq!(
        t.getlk(F2, 3, lk(0, 100, libc::F_WRLCK)).unwrap().typ,
        libc::F_UNLCK
    );
    assert_eq!(t.getlk(F1, 3, lk(0, 1, libc::F_UNLCK)), Err(Errno::EINVAL));
    assert_eq!(t.getlk(F1, 3, lk(0, 1, 77)), Err(Errno::EINVAL));
}

#[test]
fn conflicts_without_sleep_fail_with_eagain() {
    let t = LockTable::new();
    set(&t, 1, lk(0, 9, libc::F_RDLCK)).unwrap();
    set(&t, 2, lk(5, 5, libc::F_RDLCK)).unwrap();
    assert_eq!(set(&t, 3, lk(9, 20, libc::F_WRLCK)), Err(Errno::EAGAIN));
    set(&t, 3, lk(10, 20, libc::F_WRLCK)).unwrap();
    assert_eq!(set(&t, 1, lk(2, 3, 99)), Err(Errno::EINVAL));
    assert_eq!(set(&t, 1, lk(3, 2, libc::F_RDLCK)), Err(Errno::EINVAL));
    // Failed requests leave nothing behind.
    assert_eq!(held(&t, F1, 3), [(10, 20, true)]);
}

#[test]
fn a_blocked_lock_is_granted_when_the_holder_unlocks() {
    let t = LockTable::new();
    set(&t, 1, lk(0, 10, libc::F_WRLCK)).unwrap();
    let mut waiter = pin!(t.setlk(F1, fh(2), 2, lk(5, 5, libc::F_RDLCK), true));
    assert!(poll_once(waiter.as_mut()).is_pending());
    assert!(poll_once(waiter.as_mut()).is_pending(), "still held");
    // Unlocking another part changes nothing for it.
    set(&t, 1, lk(0, 1, libc::F_UNLCK)).unwrap();
    assert!(poll_once(waiter.as_mut()).is_pending());
    // A downgrade to read lets the reader in.
    set(&t, 1, lk(2, 10, libc::F_RDLCK)).unwrap();
    assert_eq!(poll_once(waiter.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(held(&t, F1, 2), [(5, 5, false)]);
}

#[tokio::test]
async fn waiting_tasks_are_woken() {
    let t = std::sync::Arc::new(LockTable::new());
    set(&t, 1, lk(0, 10, libc::F_WRLCK)).unwrap();
    let t2 = t.clone();
    let waiter =
        tokio::spawn(async move { t2.setlk(F1, fh(2), 2, lk(0, 0, libc::F_WRLCK), true).await });
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished());
    t.flush(F1, 1);
    let r = tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await;
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}

#[test]
fn waiters_are_granted_in_the_order_they_came() {
    let t = LockTable::new();
    set(&t, 1, lk(0, 0, libc::F_WRLCK)).unwrap();
    let mut b = pin!(t.setlk(F1, fh(2), 2, lk(0, 0, libc::F_WRLCK), true));
    let mut c = pin!(t.setlk(F1, fh(3), 3, lk(0, 0, libc::F_WRLCK), true));
    let mut d = pin!(t.setlk(F1, fh(4), 4, lk(0, 0, libc::F_WRLCK), true));
    assert!(poll_once(b.as_mut()).is_pending());
    assert!(poll_once(c.as_mut()).is_pending());
    assert!(poll_once(d.as_mut()).is_pending());
    set(&t, 1, lk(0, 0, libc::F_UNLCK)).unwrap();
    // d and c are polled first, but b came first and holds the reservation.
    assert!(poll_once(d.as_mut()).is_pending());
    assert!(poll_once(c.as_mut()).is_pending());
    // Nor can a new request take it.
    assert_eq!(set(&t, 5, lk(0, 0, libc::F_RDLCK)), Err(Errno::EAGAIN));
    assert_eq!(poll_once(b.as_mut()), Poll::Ready(Ok(())));
    t.flush(F1, 2);
    assert!(poll_once(d.as_mut()).is_pending());
    assert_eq!(poll_once(c.as_mut()), Poll::Ready(Ok(())));
    t.flush(F1, 3);
    assert_eq!(poll_once(d.as_mut()), Poll::Ready(Ok(())));
    t.flush(F1, 4);
    assert!(t.is_empty());
}

#[test]
fn readers_waiting_behind_a_writer_are_all_let_in() {
    let t = LockTable::new();
    set(&t, 1, lk(0, 99, libc::F_WRLCK)).unwrap();
    let mut r1 = pin!(t.setlk(F1, fh(2), 2, lk(0, 9, libc::F_RDLCK), true));
    let mut w = pin!(t.setlk(F1, fh(3), 3, lk(0, 9, libc::F_WRLCK), true));
    let mut r2 = pin!(t.setlk(F1, fh(4), 4, lk(5, 9, libc::F_RDLCK), true));
    for f in [r1.as_mut(), r2.as_mut()] {
        assert!(poll_once(f).is_pending());
    }
    assert!(poll_once(w.as_mut()).is_pending());
    t.flush(F1, 1);
    // r1 first; the writer conflicts with r1's reservation; r2 does not.
    assert_eq!(poll_once(r2.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(poll_once(r1.as_mut()), Poll::Ready(Ok(())));
    assert!(poll_once(w.as_mut()).is_pending());
    t.flush(F1, 2);
    assert!(poll_once(w.as_mut()).is_pending(), "r2 still reads");
    t.flush(F1, 4);
    assert_eq!(poll_once(w.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn two_owners_waiting_for_each_other_get_edeadlk() {
    let t = LockTable::new();
    set(&t, 1, lk(0, 0, libc::F_WRLCK)).unwrap();
    set(&t, 2, lk(1, 1, libc::F_WRLCK)).unwrap();
    let mut a = pin!(t.setlk(F1, fh(1), 1, lk(1, 1, libc::F_WRLCK), true));
    assert!(poll_once(a.as_mut()).is_pending());
    assert_eq!(
        now(t.setlk(F1, fh(2), 2, lk(0, 0, libc::F_WRLCK), true)),
        Err(Errno::EDEADLK)
    );
    // The failed side gives up its lock: the other gets it.
    t.flush(F1, 2);
    assert_eq!(poll_once(a.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn a_chain_of_three_owners_across_files_is_a_deadlock() {
    let t = LockTable::new();
    now(t.setlk(F1, fh(1), 1, lk(0, 0, libc::F_WRLCK), false)).unwrap();
    now(t.setlk(F2, fh(2), 2, lk(0, 0, libc::F_WRLCK), false)).unwrap();
    now(t.setlk(F1, fh(3), 3, lk(9, 9, libc::F_WRLCK), false)).unwrap();
    // 1 waits for 2 (on F2), 2 waits for 3 (on F1).
    let mut a = pin!(t.setlk(F2, fh(1), 1, lk(0, 0, libc::F_RDLCK), true));
    let mut b = pin!(t.setlk(F1, fh(2), 2, lk(9, 9, libc::F_RDLCK), true));
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_once(b.as_mut()).is_pending());
    // An owner outside the chain just waits for 1.
    let mut d = pin!(t.setlk(F1, fh(4), 4, lk(0, 0, libc::F_RDLCK), true));
    assert!(poll_once(d.as_mut()).is_pending());
    // 3 waiting for 1 closes the cycle.
    assert_eq!(
        now(t.setlk(F1, fh(3), 3, lk(0, 0, libc::F_RDLCK), true)),
        Err(Errno::EDEADLK)
    );
    // Without sleep it is a plain conflict.
    assert_eq!(
        now(t.setlk(F1, fh(3), 3, lk(0, 0, libc::F_RDLCK), false)),
        Err(Errno::EAGAIN)
    );
    // 3 lets go, and the chain unwinds.
    t.flush(F1, 3);
    assert_eq!(poll_once(b.as_mut()), Poll::Ready(Ok(())));
    assert!(poll_once(a.as_mut()).is_pending());
    t.flush(F2, 2);
    t.flush(F1, 2);
    assert_eq!(poll_once(a.as_mut()), Poll::Ready(Ok(())));
    t.flush(F1, 1);
    assert_eq!(poll_once(d.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn a_dropped_waiter_leaves_nothing_and_passes_its_turn_on() {
    let t = LockTable::new();
    set(&t, 1, lk(0, 0, libc::F_WRLCK)).unwrap();
    {
        let mut gone = pin!(t.setlk(F1, fh(2), 2, lk(0, 0, libc::F_WRLCK), true));
        assert!(poll_once(gone.as_mut()).is_pending());
    }
    let mut granted_then_dropped = Box::pin(t.setlk(F1, fh(3), 3, lk(0, 0, libc::F_WRLCK), true));
    let mut next = pin!(t.setlk(F1, fh(4), 4, lk(0, 0, libc::F_WRLCK), true));
    assert!(poll_once(granted_then_dropped.as_mut()).is_pending());
    assert!(poll_once(next.as_mut()).is_pending());
    // The dropped waiter was not in the way: 3 gets the reservation...
    t.flush(F1, 1);
    assert!(poll_once(next.as_mut()).is_pending());
    // ...and is dropped before taking it (an interrupted request): 4 gets it.
    drop(granted_then_dropped);
    assert_eq!(poll_once(next.as_mut()), Poll::Ready(Ok(())));
    assert!(held(&t, F1, 3).is_empty(), "nothing was taken for 3");
    t.flush(F1, 4);
    assert!(t.is_empty(), "no waiter left behind");
}

#[test]
fn a_dropped_waiter_is_no_longer_part_of_a_chain() {
    let t = LockTable::new();
    set(&t, 1, lk(0, 0, libc::F_WRLCK)).unwrap();
    set(&t, 2, lk(1, 1, libc::F_WRLCK)).unwrap();
    {
        let mut a = pin!(t.setlk(F1, fh(1), 1, lk(1, 1, libc::F_WRLCK), true));
        assert!(poll_once(a.as_mut()).is_pending());
    }
    let mut b = pin!(t.setlk(F1, fh(2), 2, lk(0, 0, libc::F_WRLCK), true));
    assert!(poll_once(b.as_mut()).is_pending(), "1 no longer waits");
}

#[test]
fn flock_shared_exclusive_and_nonblocking() {
    let t = LockTable::new();
    now(t.flock(F1, fh(1), 1, libc::LOCK_SH)).unwrap();
    now(t.flock(F1, fh(2), 2, libc::LOCK_SH | libc::LOCK_NB)).unwrap();
    assert_eq!(
        now(t.flock(F1, fh(3), 3, libc::LOCK_EX | libc::LOCK_NB)),
        Err(Errno::EWOULDBLOCK)
    );
    // flock and POSIX locks do not see each other.
    set(&t, 3, lk(0, u64::MAX, libc::F_WRLCK)).unwrap();
    let mut ex = pin!(t.flock(F1, fh(3), 3, libc::LOCK_EX));
    assert!(poll_once(ex.as_mut()).is_pending());
    t.release(F1, fh(1));
    assert!(poll_once(ex.as_mut()).is_pending(), "2 still shares");
    now(t.flock(F1, fh(2), 2, libc::LOCK_UN)).unwrap();
    assert_eq!(poll_once(ex.as_mut()), Poll::Ready(Ok(())));
    // Locking again with the same kind is a no-op; bad operations are refused.
    now(t.flock(F1, fh(3), 3, libc::LOCK_EX | libc::LOCK_NB)).unwrap();
    assert_eq!(now(t.flock(F1, fh(3), 3, 0)), Err(Errno::EINVAL));
}

#[test]
fn flock_conversion_drops_the_old_lock_first() {
    let t = LockTable::new();
    now(t.flock(F1, fh(1), 1, libc::LOCK_SH)).unwrap();
    let mut writer = pin!(t.flock(F1, fh(2), 2, libc::LOCK_EX));
    assert!(poll_once(writer.as_mut()).is_pending());
    // With no other holder the upgrade succeeds at once (the waiter had not retried yet).
    now(t.flock(F1, fh(1), 1, libc::LOCK_EX | libc::LOCK_NB)).unwrap();
    assert!(poll_once(writer.as_mut()).is_pending());
    // Back to shared, with a second sharer: an upgrade that fails has still given up the
    // shared lock, as in the kernel.
    now(t.flock(F1, fh(1), 1, libc::LOCK_SH)).unwrap();
    now(t.flock(F1, fh(3), 3, libc::LOCK_SH)).unwrap();
    assert_eq!(
        now(t.flock(F1, fh(1), 1, libc::LOCK_EX | libc::LOCK_NB)),
        Err(Errno::EWOULDBLOCK)
    );
    assert!(poll_once(writer.as_mut()).is_pending(), "3 still shares");
    t.release(F1, fh(3));
    assert_eq!(
        poll_once(writer.as_mut()),
        Poll::Ready(Ok(())),
        "1 holds nothing"
    );
    // A downgrade never waits, and lets shared lockers in.
    now(t.flock(F1, fh(2), 2, libc::LOCK_SH)).unwrap();
    now(t.flock(F1, fh(1), 1, libc::LOCK_SH | libc::LOCK_NB)).unwrap();
}

#[test]
fn flock_never_reports_edeadlk() {
    let t = LockTable::new();
    now(t.flock(F1, fh(1), 1, libc::LOCK_EX)).unwrap();
    now(t.flock(F2, fh(2), 2, libc::LOCK_EX)).unwrap();
    let mut a = pin!(t.flock(F2, fh(1), 1, libc::LOCK_EX));
    let mut b = pin!(t.flock(F1, fh(2), 2, libc::LOCK_EX));
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(
        poll_once(b.as_mut()).is_pending(),
        "flock deadlocks, as in the kernel"
    );
}

#[test]
fn flush_drops_one_owners_posix_locks() {
    let t = LockTable::new();
    set(&t, 1, lk(0, 9, libc::F_WRLCK)).unwrap();
    set(&t, 1, lk(20, 29, libc::F_RDLCK)).unwrap();
    set(&t, 2, lk(40, 49, libc::F_WRLCK)).unwrap();
    now(t.flock(F1, fh(1), 1, libc::LOCK_EX)).unwrap();
    t.flush(F1, 1);
    assert!(held(&t, F1, 1).is_empty());
    assert_eq!(held(&t, F1, 2), [(40, 49, true)]);
    assert_eq!(
        now(t.flock(F1, fh(9), 9, libc::LOCK_SH | libc::LOCK_NB)),
        Err(Errno::EWOULDBLOCK),
        "flush leaves flock locks alone"
    );
    t.flush(F2, 2); // another file: nothing
    assert_eq!(held(&t, F1, 2), [(40, 49, true)]);
}

#[test]
fn release_drops_the_open_files_flock_and_ofd_locks() {
    let t = LockTable::new();
    // Owner 7 is an OFD owner (the open file behind handle 1); owner 8 a process using
    // handle 2.
    now(t.setlk(F1, fh(1), 7, lk(0, 9, libc::F_WRLCK), false)).unwrap();
    now(t.flock(F1, fh(1), 7, libc::LOCK_EX)).unwrap();
    now(t.setlk(F1, fh(2), 8, lk(10, 19, libc::F_WRLCK), false)).unwrap();
    t.release(F1, fh(1));
    assert!(held(&t, F1, 7).is_empty());
    now(t.flock(F1, fh(3), 9, libc::LOCK_EX | libc::LOCK_NB)).unwrap();
    assert_eq!(held(&t, F1, 8), [(10, 19, true)]);
    // A process owner flushed at its close and locking again through another handle keeps
    // that lock when the first handle is released later.
    t.flush(F1, 8);
    now(t.setlk(F1, fh(4), 8, lk(30, 39, libc::F_RDLCK), false)).unwrap();
    t.release(F1, fh(2));
    assert_eq!(held(&t, F1, 8), [(30, 39, false)]);
    t.release(F1, fh(4));
    t.release(F1, fh(3));
    assert!(t.is_empty());
}

#[tokio::test]
async fn many_tasks_contending_all_finish_and_leave_nothing() {
    let t = std::sync::Arc::new(LockTable::new());
    let mut tasks = Vec::new();
    for owner in 1..=16u64 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50u64 {
                let start = (owner * 7 + i * 13) % 64;
                let typ = if i % 3 == 0 {
                    libc::F_RDLCK
                } else {
                    libc::F_WRLCK
                };
                match t
                    .setlk(F1, fh(owner), owner, lk(start, start + 8, typ), true)
                    .await
                {
                    Ok(()) | Err(Errno::EDEADLK) => {}
                    Err(e) => panic!("{e:?}"),
                }
                tokio::task::yield_now().await;
                if i % 5 == 0 {
                    // Some give up half-way, as interrupted requests do.
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_millis(1),
                        t.flock(F1, fh(owner), owner, libc::LOCK_EX),
                    )
                    .await;
                    let _ = t.flock(F1, fh(owner), owner, libc::LOCK_UN).await;
                }
                t.flush(F1, owner);
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(std::time::Duration::from_secs(20), task)
            .await
            .expect("no task stays blocked")
            .expect("no task panics");
    }
    assert!(t.is_empty());
}

/// Counts its wakes.
#[derive(Default)]
struct Counter(std::sync::atomic::AtomicUsize);

impl std::task::Wake for Counter {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Counter {
    fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn waiters_are_woken_only_when_granted_or_failed() {
    use std::sync::Arc;
    let t = LockTable::new();
    set(&t, 1, lk(0, 0, libc::F_WRLCK)).unwrap();
    set(&t, 1, lk(5, 5, libc::F_WRLCK)).unwrap();
    let (wb, wc) = (Arc::new(Counter::default()), Arc::new(Counter::default()));
    let (wakerb, wakerc) = (Waker::from(wb.clone()), Waker::from(wc.clone()));
    let mut b = pin!(t.setlk(F1, fh(2), 2, lk(0, 0, libc::F_WRLCK), true));
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&wakerb))
            .is_pending()
    );
    {
        let mut c = pin!(t.setlk(F1, fh(3), 3, lk(0, 0, libc::F_WRLCK), true));
        assert!(
            c.as_mut()
                .poll(&mut Context::from_waker(&wakerc))
                .is_pending()
        );
        // Changes that do not let b in wake nobody: an unlock elsewhere, another owner's
        // lock, a flock, c giving up.
        set(&t, 1, lk(5, 5, libc::F_UNLCK)).unwrap();
        set(&t, 4, lk(9, 9, libc::F_RDLCK)).unwrap();
        now(t.flock(F1, fh(4), 4, libc::LOCK_EX)).unwrap();
    }
    assert_eq!((wb.count(), wc.count()), (0, 0));
    // The holder's unlock wakes b, once.
    set(&t, 1, lk(0, 0, libc::F_UNLCK)).unwrap();
    assert_eq!(wb.count(), 1);
    assert_eq!(poll_once(b.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(wc.count(), 0, "c was dropped: nothing wakes it");
}
