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
