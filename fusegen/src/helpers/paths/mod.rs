//! Path-level filesystems: handlers that take paths, and a runtime that keeps the inodes.
//!
//! A [`PathOperations`] implementation answers for paths (`/`, `/dir/file`) and never sees an
//! inode number: [`PathFs`] turns it into an [`Operations`](crate::Operations) filesystem and
//! owns the inode table (numbers, the kernel's lookup counts and FORGET, renames that move
//! whole subtrees, hard links, files unlinked while open). See `docs/paths.md`.
//!
//! `#[fusegen::handlers(paths)]` writes the implementation from a handlers block (and
//! `#[fusegen::handlers(paths, blocking)]` a [`BlockingPathOperations`] one); by hand it looks
//! like this:
//!
//! ```no_run
//! use fusegen::paths::{DirEntry, PathFs, PathOperations};
//! use fusegen::prelude::*;
//! use std::path::Path;
//!
//! struct Hello;
//!
//! impl PathOperations for Hello {
//!     const HANDLERS: fusegen::Handlers =
//!         fusegen::Handlers::GETATTR.union(fusegen::Handlers::READDIR).union(fusegen::Handlers::READ);
//!
//!     async fn getattr(&self, path: &Path, _fh: Option<FileHandle>, _ctx: &RequestContext)
//!         -> Result<EntryAttributes> {
//!         match path.to_str() {
//!             Some("/") => Ok(EntryAttributes::new(Inode(0), FileType::Directory, 0o755)),
//!             Some("/hello") => Ok(EntryAttributes::new(Inode(0), FileType::RegularFile, 0o444)
//!                 .with_size(6)),
//!             _ => Err(Errno::ENOENT),
//!         }
//!     }
//!
//!     async fn readdir(&self, _path: &Path, _fh: FileHandle, _ctx: &RequestContext)
//!         -> Result<Vec<DirEntry>> {
//!         Ok(vec![DirEntry::new("hello", FileType::RegularFile)])
//!     }
//!
//!     async fn read(&self, _path: &Path, _fh: FileHandle, offset: u64, size: u32,
//!         _ctx: &RequestContext) -> Result<ReadData> {
//!         let data = b"hello\n";
//!         let start = (offset as usize).min(data.len());
//!         let end = (start + size as usize).min(data.len());
//!         Ok(Bytes::copy_from_slice(&data[start..end]).into())
//!     }
//! }
//!
//! # async fn run() -> std::result::Result<(), fusegen::Error> {
//! fusegen::run(PathFs::new(Hello), "/tmp/hello").await
//! # }
//! ```
#![allow(unused_variables)] // default bodies ignore their arguments by design

mod adapter;
mod blocking;
mod tree;

use std::ffi::{OsStr, OsString};
use std::future::Future;
use std::path::Path;

use bytes::Bytes;

use crate::api::errno::{Errno, Result};
use crate::api::filesystem::Workers;
use crate::api::operations::{ConnectionInfo, Handlers};
use crate::api::read_data::ReadData;
use crate::api::types::{
    EntryAttributes, FileHandle, FileInfo, FileType, RenameFlags, RequestContext, SetAttr,
    StatvfsData,
};
use crate::mount::MountOptions;

pub use adapter::PathFs;
pub use blocking::Blocking;

/// One entry of a directory listing, as [`PathOperations::readdir`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name (no `/`, not `.` or `..`: the runtime adds those).
    pub name: OsString,
    /// Its type.
    pub kind: FileType,
    /// Its attributes, when the listing has them at hand: they answer READDIRPLUS without a
    /// `getattr` per entry.
    pub attributes: Option<EntryAttributes>,
}

impl DirEntry {
    /// An entry of the given type, without attributes.
    pub fn new(name: impl Into<OsString>, kind: FileType) -> DirEntry {
        DirEntry {
            name: name.into(),
            kind,
            attributes: None,
        }
    }

    /// An entry with its attributes (the type is taken from them).
    pub fn with_attributes(name: impl Into<OsString>, attributes: EntryAttributes) -> DirEntry {
        DirEntry {
            name: name.into(),
            kind: attributes.kind().unwrap_or(FileType::RegularFile),
            attributes: Some(attributes),
        }
    }
}

/// The path operations, listed once: the async trait, the blocking trait and the bridge
/// between them are all generated from this table (see `blocking.rs` for the bridge).
macro_rules! path_operations {
    ($(
        $(#[$m:meta])*
        fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty = $default:expr;
    )*) => {
        /// A filesystem written for paths: one async method per operation, each taking the absolute
        /// path (from the mountpoint, starting with `/`) of the file it is about.
        ///
        /// Attributes are [`EntryAttributes`] whose `ino` is the filesystem's own identity of the
        /// file: `Inode(0)` when it has none (each path is then its own file), or a stable non-zero
        /// number, which makes every name of one file (hard links) one inode for the kernel. The
        /// runtime picks the inode numbers the kernel sees.
        ///
        /// Handlers get the path a file has *now*: after a rename, the new one. A file unlinked (or
        /// replaced by a rename) while open keeps the path it last had, and the handlers of its open
        /// handles get that path with its `fh`: a filesystem that must serve such files keys its open
        /// state by `fh`. Locks are left to the kernel (no lock handlers): local locks are correct for
        /// a single-host filesystem.
        ///
        /// `HANDLERS` lists the methods implemented, as for [`Operations`](crate::Operations). A
        /// filesystem over a synchronous backend implements [`BlockingPathOperations`] instead.
        pub trait PathOperations: Send + Sync + 'static {
            /// The handlers this type implements (see [`Handlers`]).
            const HANDLERS: Handlers = Handlers::empty();

            /// The mount options [`run`](crate::run) mounts [`PathFs`] with.
            fn mount_options() -> MountOptions {
                MountOptions::default()
            }

            /// Worker limits for [`run`](crate::run).
            fn workers() -> Workers {
                Workers::default()
            }

            $(
                $(#[$m])*
                #[allow(clippy::too_many_arguments)] // one positional parameter per argument
                fn $name(&self $(, $arg: $ty)*) -> impl Future<Output = $ret> + Send {
                    async { $default }
                }
            )*
        }

        /// [`PathOperations`] for a synchronous backend (SQLite, `std::fs`, a blocking client): the
        /// same methods as plain functions. Wrapped in [`Blocking`], each call runs on the
        /// `/dev/fuse` reader thread that read its request or on tokio's blocking pool, so a slow
        /// call never holds a worker; arguments are copied (`write` data included) and a panic
        /// becomes `EIO`.
        ///
        /// A blocking call cannot be cancelled: when the runtime cancels the request (a dying caller,
        /// a lock wait, `intr`), the caller gets its answer at once and the call still runs to its end
        /// on its thread.
        pub trait BlockingPathOperations: Send + Sync + 'static {
            /// The handlers this type implements (see [`Handlers`]).
            const HANDLERS: Handlers = Handlers::empty();

            /// The mount options [`run`](crate::run) mounts it with.
            fn mount_options() -> MountOptions {
                MountOptions::default()
            }

            /// Worker limits for [`run`](crate::run).
            fn workers() -> Workers {
                Workers::default()
            }

            $(
                $(#[$m])*
                #[allow(clippy::too_many_arguments)]
                fn $name(&self $(, $arg: $ty)*) -> $ret {
                    $default
                }
            )*
        }

        impl<T: BlockingPathOperations> PathOperations for Blocking<T> {
            const HANDLERS: Handlers = T::HANDLERS;

            fn mount_options() -> MountOptions {
                T::mount_options()
            }

            fn workers() -> Workers {
                T::workers()
            }

            $(
                #[allow(clippy::too_many_arguments)]
                fn $name(&self $(, $arg: $ty)*) -> impl Future<Output = $ret> + Send {
                    let fs = self.shared();
                    $(let $arg = crate::helpers::handoff::Carry::carry($arg);)*
                    crate::helpers::handoff::run(stringify!($name), move || {
                        fs.$name($(crate::helpers::handoff::Lend::lend(&$arg)),*)
                    })
                }
            )*
        }
    };
}

path_operations! {
        /// Called once when the kernel's INIT arrives, before any other request.
        fn init(&self, info: &ConnectionInfo) -> Result<()> = Ok(());
        /// Called once when the session ends.
        fn destroy(&self) -> () = ();
        /// Attributes of `path` (lookups come here too); `fh` is set when the kernel asks
        /// through an open file.
        fn getattr(&self, path: &Path, fh: Option<FileHandle>, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
        /// Change attributes (chmod, chown, truncate, utimens); return the new attributes.
        fn setattr(&self, path: &Path, attr: &SetAttr, fh: Option<FileHandle>, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
        /// Target of a symbolic link.
        fn readlink(&self, path: &Path, ctx: &RequestContext) -> Result<Bytes> = Err(Errno::ENOSYS);
        /// Create a file node (regular, FIFO, device, socket). `mode` includes the type bits.
        fn mknod(&self, path: &Path, mode: u32, rdev: u32, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
        /// Create a directory.
        fn mkdir(&self, path: &Path, mode: u32, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
        /// Remove a non-directory.
        fn unlink(&self, path: &Path, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
        /// Remove an empty directory.
        fn rmdir(&self, path: &Path, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
        /// Create a symbolic link at `path` pointing to `target`.
        fn symlink(&self, path: &Path, target: &OsStr, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
        /// Rename `from` to `to` (`flags` from `renameat2(2)`). Renaming a directory moves
        /// everything under it; the runtime follows.
        fn rename(&self, from: &Path, to: &Path, flags: RenameFlags, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
        /// Create `new` as a hard link to `existing`; return the file's attributes (with the
        /// same `ino` as `existing`'s, so both names are one inode).
        fn link(&self, existing: &Path, new: &Path, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
        /// Open a file. Not writing it makes opens free (every request carries `fh` 0).
        fn open(&self, path: &Path, flags: i32, ctx: &RequestContext) -> Result<FileInfo> = Err(Errno::ENOSYS);
        /// Read up to `size` bytes at `offset`; fewer only at end of file.
        fn read(&self, path: &Path, fh: FileHandle, offset: u64, size: u32, ctx: &RequestContext) -> Result<ReadData> = Err(Errno::ENOSYS);
        /// Write `data` at `offset`; return the number of bytes written.
        fn write(&self, path: &Path, fh: FileHandle, offset: u64, data: &[u8], ctx: &RequestContext) -> Result<u32> = Err(Errno::ENOSYS);
        /// Called on each `close(2)` of a descriptor.
        fn flush(&self, path: &Path, fh: FileHandle, lock_owner: u64, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
        /// The last reference to an open file is gone.
        fn release(&self, path: &Path, fh: FileHandle, flags: i32, ctx: &RequestContext) -> Result<()> = Ok(());
        /// Flush file data (and metadata unless `datasync`) to stable storage.
        fn fsync(&self, path: &Path, fh: FileHandle, datasync: bool, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
        /// Open a directory. The runtime opens directories for listing either way.
        fn opendir(&self, path: &Path, flags: i32, ctx: &RequestContext) -> Result<FileInfo> = Err(Errno::ENOSYS);
        /// The whole listing of a directory, without `.` and `..`. Called once per open
        /// directory; the runtime serves the kernel's offsets from it.
        fn readdir(&self, path: &Path, fh: FileHandle, ctx: &RequestContext) -> Result<Vec<DirEntry>> = Err(Errno::ENOSYS);
        /// The last reference to an open directory is gone.
        fn releasedir(&self, path: &Path, fh: FileHandle, ctx: &RequestContext) -> Result<()> = Ok(());
        /// Sync a directory.
        fn fsyncdir(&self, path: &Path, fh: FileHandle, datasync: bool, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
        /// Filesystem statistics.
        fn statfs(&self, path: &Path, ctx: &RequestContext) -> Result<StatvfsData> = Ok(StatvfsData::default());
        /// Set an extended attribute; `flags` is `XATTR_CREATE`, `XATTR_REPLACE` or 0.
        fn setxattr(&self, path: &Path, name: &OsStr, value: &[u8], flags: i32, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
        /// Value of an extended attribute (`ENODATA` if absent).
        fn getxattr(&self, path: &Path, name: &OsStr, ctx: &RequestContext) -> Result<Bytes> = Err(Errno::ENOSYS);
        /// Names of the extended attributes.
        fn listxattr(&self, path: &Path, ctx: &RequestContext) -> Result<Vec<OsString>> = Err(Errno::ENOSYS);
        /// Remove an extended attribute.
        fn removexattr(&self, path: &Path, name: &OsStr, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
        /// Check access (not called with `default_permissions`); `false` answers `EACCES`.
        fn access(&self, path: &Path, mask: i32, ctx: &RequestContext) -> Result<bool> = Err(Errno::ENOSYS);
        /// Create and open a file. Not writing it makes the kernel use `mknod` + `open`.
        fn create(&self, path: &Path, mode: u32, flags: i32, ctx: &RequestContext) -> Result<(FileInfo, EntryAttributes)> = Err(Errno::ENOSYS);
        /// Allocate or punch space (`fallocate(2)`).
        fn fallocate(&self, path: &Path, fh: FileHandle, offset: u64, length: u64, mode: i32, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
}
