//! The mount-test guard and helpers come from `fusegen::testing`, which users get too.

pub use fusegen::testing::{
    CALL_TIMEOUT, TestMount, fuse_available, is_mounted, wait_unmounted, within,
};
