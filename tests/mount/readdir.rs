//! READDIRPLUS only where it pays: the kernel asks for attributes on a directory's first batch
//! (and after lookups in it), plain READDIR for the rest of a listing.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use crate::mount::common::{CALL_TIMEOUT, TestMount, fuse_available, within};
use crate::mount::fixture::TestFs;

#[test]
fn long_listings_use_plain_readdir_after_the_first_batch() {
    let Some(()) = fuse_available("long_listings_use_plain_readdir_after_the_first_batch") else {
        return;
    };
    // Long names: each reply holds few entries, so one listing takes many requests.
    let names: Vec<String> = (0..400)
        .map(|i| format!("{i:04}-{}", "x".repeat(60)))
        .collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"data"[..])).collect();
    let m = TestMount::new(TestFs::new(&files));
    let probe = m.with_fs(|fs: &TestFs| fs.probe.clone());
    let root = m.path().to_path_buf();
    let listed: BTreeSet<String> = within(CALL_TIMEOUT, "list", move || {
        std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    });
    assert_eq!(
        listed,
        names.iter().cloned().collect(),
        "every entry listed once"
    );
    let plus = probe.readdir_plus.load(Ordering::SeqCst);
    let plain = probe.readdir_plain.load(Ordering::SeqCst);
    assert!(plus >= 1, "the first batch carries attributes");
    assert!(
        plain > plus,
        "most of a long listing is plain READDIR (plus: {plus}, plain: {plain})"
    );
}
