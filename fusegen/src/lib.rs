//! fusegen: Linux FUSE filesystems as async Rust, on a pure-Rust runtime that speaks the
//! kernel protocol on `/dev/fuse` itself.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
mod errno;
mod error;
pub mod mount;
mod sys;
mod types;

pub use errno::{Errno, Result};
pub use error::Error;
pub use mount::{MountError, MountOptions};
pub use types::*;
