//! Compile-time tests of the macros with trybuild: every misuse in `ui/fail/` must fail with
//! the `.stderr` beside it (one error per mistake), and every program in `ui/pass/` must
//! compile and run.
//!
//! The `.stderr` files are blessed on the pinned toolchain (`rust-toolchain.toml`): rustc's
//! output changes between releases, so on any other toolchain the test is ignored.
//! Re-bless with `TRYBUILD=overwrite cargo test -p fusegen-tests --test ui`, then read the
//! diff like code.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "stderr files are blessed on the pinned toolchain 1.95"
)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/**/*.rs");
    t.pass("ui/pass/*.rs");
}

/// `#[fuse(...)]` and `-o` text share one option table, one "did you mean" engine and one set
/// of rules: the errors blessed in `ui/fail/options/` must say what `MountOptions::parse` says
/// for the same text. Each case: the UI test, the `-o` text, and the part both must contain.
#[test]
fn attribute_and_dash_o_say_the_same() {
    let cases = [
        // A typo of an option both sides have.
        (
            "unknown-option-typo",
            "writeback_cach",
            "did you mean `writeback_cache`?",
        ),
        (
            "allow-other-with-allow-root",
            "allow_other,allow_root",
            "`allow_other` and `allow_root` cannot be used together: `allow_other` admits every \
             user, root included; keep the one you mean",
        ),
        (
            "passthrough-with-writeback-cache",
            "passthrough,writeback_cache",
            "`passthrough` and `writeback_cache` cannot be used together: the kernel does not \
             combine passthrough with the writeback cache",
        ),
        (
            "auto-unmount-with-direct-mount",
            "auto_unmount,mount_method=direct",
            "cannot be used together: `auto_unmount` needs `fusermount3`, which a direct mount \
             does not use",
        ),
        (
            "max-write-too-small",
            "max_write=100",
            "`max_write` must be from 4096 to 16777216, found 100",
        ),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/fail/options");
    for (test, text, words) in cases {
        let stderr = std::fs::read_to_string(dir.join(format!("{test}.stderr")))
            .unwrap_or_else(|e| panic!("{test}.stderr: {e}"));
        assert!(
            stderr.contains(words),
            "{test}.stderr lacks {words:?}:\n{stderr}"
        );
        let runtime = match fusegen::MountOptions::parse([text]) {
            Ok(o) => panic!("`-o {text}` should fail, got {o:?}"),
            Err(e) => e.to_string(),
        };
        assert!(
            runtime.contains(words),
            "`-o {text}` says {runtime:?}, not {words:?}"
        );
    }
}
