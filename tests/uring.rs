//! Tests of the io_uring transport against real FUSE mounts. A binary of its own because
//! they switch the machine-wide `enable_uring` parameter of the `fuse` module: test binaries
//! run one after another, so no mount of the main suite sees the switch.

mod mount {
    #[allow(unused_imports)] // re-exports for the main suite
    pub mod common;
    pub mod fixture;
}
#[path = "mount/uring.rs"]
mod uring;
