//! fusegen: Linux FUSE filesystems as async Rust, on a pure-Rust runtime that speaks the
//! kernel protocol on `/dev/fuse` itself (no libfuse).
//!
//! A filesystem implements [`Operations`] (one async method per FUSE operation, each with a
//! kernel-appropriate default); [`mount`] mounts it, [`Session::main`] serves it with a pool
//! of worker tasks, [`SessionHandle::terminate`] stops it from anywhere and
//! [`Session::close`] unmounts it. [`run`] does all of that with Ctrl-C handling.
//!
//! The request path, one module per step: `dev` (bytes in) → `request` (parse) →
//! `dispatch` → [`Operations`] → `reply` (encode) → `dev` (bytes out); `session` owns the
//! loop and `mount` produces the device descriptor.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
mod dev;
mod dir;
mod dispatch;
mod errno;
mod error;
mod init;
pub mod mount;
mod operations;
mod reply;
mod request;
mod session;
mod sys;
mod types;

pub use bytes::Bytes;
pub use dir::ReaddirReply;
pub use errno::{Errno, Result};
pub use error::Error;
pub use mount::{MountError, MountMethod, MountOptions};
pub use operations::{ConnectionInfo, Handlers, IoctlReply, Operations};
pub use session::{Session, SessionHandle, Workers, mount, run, run_with};
pub use types::*;

/// The README's example must keep compiling.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
