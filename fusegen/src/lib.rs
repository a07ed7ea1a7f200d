//! fusegen: Linux FUSE filesystems as async Rust, on a pure-Rust runtime that speaks the
//! kernel protocol on `/dev/fuse` itself (no libfuse).
//!
//! A filesystem implements [`Operations`] (one async method per FUSE operation, each with a
//! kernel-appropriate default); [`mount()`] mounts it, [`Session::main`] serves it with a pool
//! of worker tasks, [`SessionHandle::terminate`] stops it from anywhere and
//! [`Session::close`] unmounts it. [`run`] does all of that with Ctrl-C handling.
//!
//! Most filesystems use the macros instead of implementing [`Operations`] by hand:
//! `#[derive(Filesystem)]` with `#[fuse(...)]` options on the struct, and
//! `#[fusegen::handlers]` on an `impl` block of `async fn` handlers. With the `cli` feature,
//! `fusegen::cli::run` is a complete `main` with the usual FUSE command line
//! (`-o`, `-f`, `-d`, detaching).
//!
//! Start with the [guide](reference::guide) (`docs/guide.md`), a tutorial that builds a
//! read/write filesystem step by step; then the reference pages: every
//! [handler](reference::handlers), every [`#[fuse(...)]` option](reference::options),
//! [mounting](reference::mount), [running in production](reference::operations), and the
//! [architecture](reference::architecture) (request path, modules, concurrency, `unsafe`).
//!
//! The source is split by layer: `proto/` (the kernel protocol, no I/O), `server/` (request
//! to reply, whichever transport delivered it), `transport/` (`/dev/fuse` workers, io_uring
//! queues), `api/` (what authors write against), `helpers/` (inode table, locks, path-level
//! filesystems); `session.rs` wires server and transports together and `mount/` produces the
//! device descriptor. The request path: `transport/dev` (bytes in) → `server` → `proto/request`
//! (parse) → `server/dispatch` → [`Operations`] → `proto/reply` (encode) → `transport/dev`
//! (bytes out).
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod api;
#[cfg(feature = "cli")]
pub mod cli;
pub mod doctor;
mod helpers;
pub mod mount;
mod proto;
mod server;
mod session;
mod sys;
pub mod systemd;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;

#[doc(inline)]
pub use helpers::{inodes, locks, paths};
#[doc(inline)]
pub use proto::abi;

pub use api::errno::{Errno, Result};
pub use api::error::Error;
pub use api::filesystem::Workers;
pub use api::filesystem::{Filesystem, IntoOperations};
pub use api::interruption::Interruption;
pub use api::operations::{ConnectionInfo, Handlers, IoctlReply, Operations};
pub use api::read_data::ReadData;
pub use api::types::*;
pub use api::write_data::WriteData;
pub use bytes::Bytes;
pub use doctor::doctor;
/// `#[derive(Filesystem)]`: mount configuration from `#[fuse(...)]` options (`docs/options.md`).
pub use fusegen_macros::Filesystem;
/// `#[fusegen::handlers]`: the `Operations` implementation from an `impl` block of `async fn`
/// handlers; `#[fusegen::handlers(paths)]` and `(paths, blocking)` for path-level handlers,
/// `(blocking)` for inode-level plain `fn` handlers run on tokio's blocking pool
/// (`docs/handlers.md`, `docs/paths.md`).
pub use fusegen_macros::handlers;
pub use helpers::blocking::{Blocking, BlockingOperations};
pub use helpers::dir_entries::{DirEntries, Dots};
pub use mount::options::{TRANSPORT_ENV, Transport};
pub use mount::{MountError, MountMethod, MountOptions};
pub use proto::dir::ReaddirReply;
pub use server::inflight::InFlightRequest;
pub use server::metrics::{BUCKETS, MetricsSnapshot, OpMetrics, bucket_upper_micros};
pub use server::notify::Notifier;
pub use session::{Run, Session, SessionHandle, mount, run, run_with};
pub use transport::active::{ActiveTransport, RequestCounts};

/// Everything a filesystem usually needs: `use fusegen::prelude::*;`.
pub mod prelude {
    pub use crate::{
        BackingFile, Bytes, DirEntries, EntryAttributes, Errno, FileHandle, FileInfo, FileLock,
        FileType, Filesystem, Forget, Inode, MountOptions, Operations, Owner, ReadData,
        ReaddirReply, RenameFlags, RequestContext, Result, SetAttr, StatvfsData, Workers,
        WriteData,
    };
    pub use std::ffi::{OsStr, OsString};
}

/// The guide and reference pages, also in `docs/`: a tutorial, every handler, every
/// `#[fuse(...)]` option, mounting, operations, lookup counts and readdir offsets (`inodes`),
/// how the runtime is built, and the io_uring transport.
pub mod reference {
    // The guide's code blocks are fragments of one program; they are compiled as the
    // `guide` and `guide_ro` examples (tests/docs.rs), not as doctests.
    #[cfg_attr(not(doctest), doc = include_str!("../../docs/guide.md"))]
    pub mod guide {}
    #[doc = include_str!("../../docs/handlers.md")]
    pub mod handlers {}
    #[doc = include_str!("../../docs/options.md")]
    pub mod options {}
    #[doc = include_str!("../../docs/mount.md")]
    pub mod mount {}
    #[doc = include_str!("../../docs/operations.md")]
    pub mod operations {}
    #[doc = include_str!("../../docs/inodes.md")]
    pub mod inodes {}
    #[doc = include_str!("../../docs/paths.md")]
    pub mod paths {}
    #[doc = include_str!("../../docs/architecture.md")]
    pub mod architecture {}
    #[doc = include_str!("../../docs/io_uring.md")]
    pub mod io_uring {}
}

/// The request parser, for the fuzz target in `fuzz/` only.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzzing {
    /// Parses `bytes` as one kernel message under both xattr layouts; must never panic.
    pub fn parse_request(bytes: &[u8]) {
        for setxattr_ext in [false, true] {
            let _ =
                crate::proto::request::parse(bytes, crate::proto::request::Layout { setxattr_ext });
        }
    }
}

#[doc(hidden)]
pub mod __private {
    pub use crate::api::private::*;
}

/// The README's example must keep compiling.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
