//! The mount-test guard and helpers come from `fusegen::testing`, which users get too.

pub use fusegen::testing::{
    CALL_TIMEOUT, TestMount, fuse_available, is_mounted, wait_unmounted, within,
};

/// Polls `cond` until it holds; fails the test after [`CALL_TIMEOUT`].
pub fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + CALL_TIMEOUT;
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
