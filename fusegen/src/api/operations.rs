//! The [`Operations`] trait: one async method per FUSE operation.
//!
//! `#[fusegen::handlers]` implements it from an `impl` block of `async fn`s; it can also be
//! implemented by hand. Every method has a default that answers the way the kernel expects
//! from a filesystem that lacks the operation (mostly `ENOSYS`, which the kernel remembers and
//! stops asking, or falls back to a generic implementation). Methods take `&self`: requests run
//! concurrently, so state lives behind interior mutability.
#![allow(unused_variables)] // default bodies ignore their arguments by design

use std::ffi::{OsStr, OsString};
use std::future::Future;

use bitflags::bitflags;
use bytes::Bytes;

use crate::api::errno::{Errno, Result};
use crate::api::types::{
    EntryAttributes, FileHandle, FileInfo, FileLock, Forget, Inode, RenameFlags, RequestContext,
    SetAttr, StatvfsData,
};
use crate::proto::dir::ReaddirReply;

bitflags! {
    /// The handlers a filesystem implements, one bit per [`Operations`] method. The runtime
    /// derives kernel capabilities from it (no `getlk`/`setlk` => locks stay local to the
    /// kernel, and so on). `#[fusegen::handlers]` fills it in; a hand-written implementation
    /// lists what it overrides (leaving a bit out only makes the negotiation more cautious).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Handlers: u64 {
        /// `init`
        const INIT = 1 << 0;
        /// `destroy`
        const DESTROY = 1 << 1;
        /// `lookup`
        const LOOKUP = 1 << 2;
        /// `forget`
        const FORGET = 1 << 3;
        /// `getattr`
        const GETATTR = 1 << 4;
        /// `setattr`
        const SETATTR = 1 << 5;
        /// `readlink`
        const READLINK = 1 << 6;
        /// `mknod`
        const MKNOD = 1 << 7;
        /// `mkdir`
        const MKDIR = 1 << 8;
        /// `unlink`
        const UNLINK = 1 << 9;
        /// `rmdir`
        const RMDIR = 1 << 10;
        /// `symlink`
        const SYMLINK = 1 << 11;
        /// `rename`
        const RENAME = 1 << 12;
        /// `link`
        const LINK = 1 << 13;
        /// `open`
        const OPEN = 1 << 14;
        /// `read`
        const READ = 1 << 15;
        /// `write`
        const WRITE = 1 << 16;
        /// `flush`
        const FLUSH = 1 << 17;
        /// `release`
        const RELEASE = 1 << 18;
        /// `fsync`
        const FSYNC = 1 << 19;
        /// `opendir`
        const OPENDIR = 1 << 20;
        /// `readdir`
        const READDIR = 1 << 21;
        /// `releasedir`
        const RELEASEDIR = 1 << 22;
        /// `fsyncdir`
        const FSYNCDIR = 1 << 23;
        /// `statfs`
        const STATFS = 1 << 24;
        /// `setxattr`
        const SETXATTR = 1 << 25;
        /// `getxattr`
        const GETXATTR = 1 << 26;
        /// `listxattr`
        const LISTXATTR = 1 << 27;
        /// `removexattr`
        const REMOVEXATTR = 1 << 28;
        /// `access`
        const ACCESS = 1 << 29;
        /// `create`
        const CREATE = 1 << 30;
        /// `getlk`
        const GETLK = 1 << 31;
        /// `setlk`
        const SETLK = 1 << 32;
        /// `flock`
        const FLOCK = 1 << 33;
        /// `bmap`
        const BMAP = 1 << 34;
        /// `ioctl`
        const IOCTL = 1 << 35;
        /// `poll`
        const POLL = 1 << 36;
        /// `fallocate`
        const FALLOCATE = 1 << 37;
        /// `lseek`
        const LSEEK = 1 << 38;
        /// `copy_file_range`
        const COPY_FILE_RANGE = 1 << 39;
        /// `syncfs`
        const SYNCFS = 1 << 40;
        /// `tmpfile`
        const TMPFILE = 1 << 41;
        /// `statx`
        const STATX = 1 << 42;
    }
}

/// What the kernel agreed to at INIT, passed to [`Operations::init`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// Protocol major version (7).
    pub proto_major: u32,
    /// Negotiated protocol minor version.
    pub proto_minor: u32,
    /// Capability bits granted (`FUSE_*` INIT flags, kernel numbering, flags2 in the high half).
    pub capabilities: u64,
    /// Largest WRITE the kernel will send.
    pub max_write: u32,
    /// Largest readahead.
    pub max_readahead: u32,
}

/// The reply to `ioctl`: the call's return value and the output buffer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IoctlReply {
    /// Return value of `ioctl(2)` for the caller.
    pub result: i32,
    /// Data copied to the caller's buffer (at most `out_size` bytes).
    pub data: Bytes,
}

macro_rules! handler {
    ($(#[$m:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty = $default:expr;) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)] // one positional parameter per kernel argument
        fn $name(&self $(, $arg: $ty)*) -> impl Future<Output = $ret> + Send {
            async { $default }
        }
    };
}

/// A filesystem: one async method per FUSE operation, each with a kernel-appropriate default.
///
/// ```no_run
/// use std::ffi::OsStr;
/// use fusegen::{EntryAttributes, Errno, FileType, Inode, Operations, RequestContext, Result};
///
/// struct Empty;
///
/// impl Operations for Empty {
///     async fn getattr(&self, ino: Inode, _fh: Option<fusegen::FileHandle>, _ctx: &RequestContext)
///         -> Result<EntryAttributes> {
///         match ino {
///             Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
///             _ => Err(Errno::ENOENT),
///         }
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no FUSE handlers",
    label = "no `#[fusegen::handlers]` block for `{Self}`",
    note = "write the handlers as `async fn`s in an `impl {Self} {{ ... }}` block marked `#[fusegen::handlers]`"
)]
pub trait Operations: Send + Sync + 'static {
    /// The handlers this type implements, for capability negotiation (see [`Handlers`]).
    const HANDLERS: Handlers = Handlers::empty();

    handler! {
        /// Called once when the kernel's INIT arrives, before any other request.
        fn init(&self, info: &ConnectionInfo) -> Result<()> = Ok(());
    }
    handler! {
        /// Called once when the session ends (unmount or close).
        fn destroy(&self) -> () = ();
    }
    handler! {
        /// Look up `name` in `parent`. Each successful reply with a non-zero inode is one
        /// lookup the kernel will later `forget`. Return [`EntryAttributes::negative`] to let
        /// the kernel cache the absence.
        fn lookup(&self, parent: Inode, name: &OsStr, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
    }
    handler! {
        /// The kernel drops references (FORGET and BATCH_FORGET both arrive here). No reply.
        fn forget(&self, forgets: &[Forget]) -> () = ();
    }
    handler! {
        /// Attributes of `ino`; `fh` is set when the kernel asks through an open file.
        fn getattr(&self, ino: Inode, fh: Option<FileHandle>, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Change attributes (chmod, chown, truncate, utimens); return the new attributes.
        fn setattr(&self, ino: Inode, attr: &SetAttr, fh: Option<FileHandle>, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Target of a symbolic link.
        fn readlink(&self, ino: Inode, ctx: &RequestContext) -> Result<Bytes> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Create a file node (regular, FIFO, device, socket). `mode` includes the type bits.
        fn mknod(&self, parent: Inode, name: &OsStr, mode: u32, rdev: u32, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Create a directory.
        fn mkdir(&self, parent: Inode, name: &OsStr, mode: u32, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Remove a non-directory entry.
        fn unlink(&self, parent: Inode, name: &OsStr, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Remove an empty directory.
        fn rmdir(&self, parent: Inode, name: &OsStr, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Create a symbolic link `name` in `parent` pointing to `target`.
        fn symlink(&self, parent: Inode, name: &OsStr, target: &OsStr, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Rename (RENAME and RENAME2 both arrive here; `flags` from `renameat2(2)`).
        fn rename(&self, parent: Inode, name: &OsStr, new_parent: Inode, new_name: &OsStr, flags: RenameFlags, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Create a hard link to `ino` as `new_name` in `new_parent`.
        fn link(&self, ino: Inode, new_parent: Inode, new_name: &OsStr, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Open a file; `flags` are the `open(2)` flags. Not writing this handler makes opens
        /// free: the kernel is told no open is needed and every request carries `fh` 0.
        fn open(&self, ino: Inode, flags: i32, ctx: &RequestContext) -> Result<FileInfo> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Read up to `size` bytes at `offset`. Return fewer only at end of file (or with
        /// `direct_io`, where the count is passed through to the caller).
        fn read(&self, ino: Inode, fh: FileHandle, offset: u64, size: u32, ctx: &RequestContext) -> Result<Bytes> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Write `data` at `offset`; return the number of bytes written.
        fn write(&self, ino: Inode, fh: FileHandle, offset: u64, data: &[u8], ctx: &RequestContext) -> Result<u32> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Called on each `close(2)` of a descriptor (may happen several times per open).
        fn flush(&self, ino: Inode, fh: FileHandle, lock_owner: u64, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// The last reference to an open file is gone. Errors are ignored by the kernel.
        fn release(&self, ino: Inode, fh: FileHandle, flags: i32, ctx: &RequestContext) -> Result<()> = Ok(());
    }
    handler! {
        /// Flush file data (and metadata unless `datasync`) to stable storage.
        fn fsync(&self, ino: Inode, fh: FileHandle, datasync: bool, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Open a directory. Not writing it makes opendir free, as for `open`.
        fn opendir(&self, ino: Inode, flags: i32, ctx: &RequestContext) -> Result<FileInfo> = Err(Errno::ENOSYS);
    }
    handler! {
        /// List a directory from `offset` (0 = start) into `out` until it returns `false`.
        /// Serves both READDIR and READDIRPLUS.
        fn readdir(&self, ino: Inode, fh: FileHandle, offset: u64, out: &mut ReaddirReply<'_>, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// The last reference to an open directory is gone.
        fn releasedir(&self, ino: Inode, fh: FileHandle, ctx: &RequestContext) -> Result<()> = Ok(());
    }
    handler! {
        /// Sync a directory.
        fn fsyncdir(&self, ino: Inode, fh: FileHandle, datasync: bool, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Filesystem statistics (`statfs(2)`, `df`).
        fn statfs(&self, ino: Inode, ctx: &RequestContext) -> Result<StatvfsData> = Ok(StatvfsData::default());
    }
    handler! {
        /// Set an extended attribute; `flags` is `XATTR_CREATE`, `XATTR_REPLACE` or 0.
        fn setxattr(&self, ino: Inode, name: &OsStr, value: &[u8], flags: i32, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Value of an extended attribute (`Errno::ENODATA` if absent). Size probes and
        /// `ERANGE` are handled by the runtime.
        fn getxattr(&self, ino: Inode, name: &OsStr, ctx: &RequestContext) -> Result<Bytes> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Names of the extended attributes of `ino`.
        fn listxattr(&self, ino: Inode, ctx: &RequestContext) -> Result<Vec<OsString>> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Remove an extended attribute.
        fn removexattr(&self, ino: Inode, name: &OsStr, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Check access (`access(2)`; not called with `default_permissions`). `false` answers
        /// `EACCES`. Not writing it grants every access.
        fn access(&self, ino: Inode, mask: i32, ctx: &RequestContext) -> Result<bool> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Create and open a file. Not writing it makes the kernel use `mknod` + `open`.
        fn create(&self, parent: Inode, name: &OsStr, mode: u32, flags: i32, ctx: &RequestContext) -> Result<(FileInfo, EntryAttributes)> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Test for a POSIX lock (`F_GETLK`): return the conflicting lock, or `lock` with type
        /// `F_UNLCK` if there is none.
        fn getlk(&self, ino: Inode, fh: FileHandle, owner: u64, lock: FileLock, ctx: &RequestContext) -> Result<FileLock> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Acquire or release a POSIX lock; `sleep` is `F_SETLKW`.
        fn setlk(&self, ino: Inode, fh: FileHandle, owner: u64, lock: FileLock, sleep: bool, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// `flock(2)`: `op` is `LOCK_SH`, `LOCK_EX` or `LOCK_UN`, with `LOCK_NB` when non-blocking.
        fn flock(&self, ino: Inode, fh: FileHandle, owner: u64, op: i32, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Map a file block to a device block (block-device backed filesystems only).
        fn bmap(&self, ino: Inode, blocksize: u32, block: u64, ctx: &RequestContext) -> Result<u64> = Err(Errno::ENOSYS);
    }
    handler! {
        /// A restricted `ioctl(2)` on an open file.
        fn ioctl(&self, ino: Inode, fh: FileHandle, cmd: u32, arg: u64, input: &[u8], out_size: u32, ctx: &RequestContext) -> Result<IoctlReply> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Poll for I/O readiness; return the ready events. `kh` is the handle for a later
        /// wake-up notification, when the kernel asks for one.
        fn poll(&self, ino: Inode, fh: FileHandle, kh: Option<u64>, events: u32, ctx: &RequestContext) -> Result<u32> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Allocate or punch space (`fallocate(2)`; `mode` has the `FALLOC_FL_*` bits).
        fn fallocate(&self, ino: Inode, fh: FileHandle, offset: u64, length: u64, mode: i32, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Reposition: only `SEEK_DATA` and `SEEK_HOLE` reach the filesystem in practice.
        fn lseek(&self, ino: Inode, fh: FileHandle, offset: u64, whence: i32, ctx: &RequestContext) -> Result<u64> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Copy a range between two open files without passing data through the caller.
        fn copy_file_range(&self, ino_in: Inode, fh_in: FileHandle, offset_in: u64, ino_out: Inode, fh_out: FileHandle, offset_out: u64, len: u64, flags: u64, ctx: &RequestContext) -> Result<u64> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Sync the whole filesystem (the kernel sends this for block-backed mounts only).
        fn syncfs(&self, ino: Inode, ctx: &RequestContext) -> Result<()> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Create an unnamed temporary file in `parent` (`O_TMPFILE`).
        fn tmpfile(&self, parent: Inode, mode: u32, flags: i32, ctx: &RequestContext) -> Result<(FileInfo, EntryAttributes)> = Err(Errno::ENOSYS);
    }
    handler! {
        /// Extended attributes with birth time (`statx(2)`). Not writing it makes the kernel
        /// use `getattr`.
        fn statx(&self, ino: Inode, fh: Option<FileHandle>, flags: u32, mask: u32, ctx: &RequestContext) -> Result<EntryAttributes> = Err(Errno::ENOSYS);
    }
}
