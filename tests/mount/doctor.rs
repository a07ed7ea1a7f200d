//! `fusegen::doctor()` on this machine, and the negotiated flags of a running session.

use crate::mount::common::{TestMount, fuse_available, is_mounted};
use crate::mount::fixture::TestFs;

#[test]
fn doctor_reads_the_kernel_offer_and_leaves_no_mount() {
    let Some(()) = fuse_available("doctor_reads_the_kernel_offer_and_leaves_no_mount") else {
        return;
    };
    let report = fusegen::doctor();
    assert!(!report.has_failures(), "{report}");
    let minor = report.kernel_minor.expect("the probe mount read INIT");
    assert!(minor >= 31, "{report}");
    let flags = report.kernel_flags.unwrap_or(0);
    assert!(
        fusegen::doctor::flag_names(flags).contains(&"ASYNC_READ"),
        "{report}"
    );
    let text = report.to_string();
    for name in [
        "/dev/fuse",
        "fusermount3",
        "FUSE protocol",
        "passthrough",
        "enable_uring",
        "max_pages_limit",
    ] {
        assert!(text.contains(name), "report lacks {name}:\n{text}");
    }
    // Other tests mount in parallel; the probe's own mount is recognised by its source name.
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    assert!(
        !mounts.lines().any(|l| l.starts_with("fusegen-doctor ")),
        "the probe mount was removed"
    );
}

#[test]
fn a_running_session_reports_its_negotiated_flags() {
    let Some(()) = fuse_available("a_running_session_reports_its_negotiated_flags") else {
        return;
    };
    let m = TestMount::new(TestFs::new(&[("f", b"x")]));
    let info = m
        .handle()
        .connection()
        .expect("INIT answered before the mount is ready");
    let names = fusegen::doctor::flag_names(info.capabilities);
    assert!(
        names.contains(&"DO_READDIRPLUS") && names.contains(&"MAX_PAGES"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"POSIX_LOCKS"),
        "no lock handlers, no lock flag: {names:?}"
    );
    assert!(is_mounted(m.path()));
}
