//! The kernel FUSE ABI, protocol 7.45 (`include/uapi/linux/fuse.h`).
//!
//! Data only: `#[repr(C)]` structs, opcodes and flag constants with the kernel's own names so
//! they can be grepped against the header. Every struct derives zerocopy's traits, which is how
//! `request.rs` reads them out of the device buffer without pointer casts, and carries a
//! compile-time check of its size against the kernel's (`sizeof` on x86_64 and aarch64 alike:
//! the header pads every struct to 64 bits). Parsing and encoding live elsewhere.
#![allow(non_camel_case_types, missing_docs)]

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Opcodes of requests the kernel sends (`enum fuse_opcode`). Defined by the table of opcodes
/// (`proto/opcodes.rs`), which also says how the kernel sends each.
pub mod opcode {
    pub use crate::proto::opcodes::values::*;
    pub const CUSE_INIT_BSWAP_RESERVED: u32 = 1_048_576;
    pub const FUSE_INIT_BSWAP_RESERVED: u32 = 436_207_616;
}

/// Codes of unsolicited messages the server sends (`enum fuse_notify_code`), written to
/// `fuse_out_header.error` with `unique == 0`.
pub mod notify_code {
    pub const FUSE_NOTIFY_POLL: i32 = 1;
    pub const FUSE_NOTIFY_INVAL_INODE: i32 = 2;
    pub const FUSE_NOTIFY_INVAL_ENTRY: i32 = 3;
    pub const FUSE_NOTIFY_STORE: i32 = 4;
    pub const FUSE_NOTIFY_RETRIEVE: i32 = 5;
    pub const FUSE_NOTIFY_DELETE: i32 = 6;
    pub const FUSE_NOTIFY_RESEND: i32 = 7;
    pub const FUSE_NOTIFY_INC_EPOCH: i32 = 8;
    pub const FUSE_NOTIFY_PRUNE: i32 = 9;
}

/// `enum fuse_ext_type`: extension headers after the arguments (`total_extlen`).
pub const FUSE_MAX_NR_SECCTX: u32 = 31;
pub const FUSE_EXT_GROUPS: u32 = 32;

/// `enum fuse_uring_cmd`: `cmd_op` of the io_uring commands on the device.
pub const FUSE_IO_URING_CMD_INVALID: u32 = 0;
pub const FUSE_IO_URING_CMD_REGISTER: u32 = 1;
pub const FUSE_IO_URING_CMD_COMMIT_AND_FETCH: u32 = 2;
pub const FUSE_URING_IN_OUT_HEADER_SZ: usize = 128;
pub const FUSE_URING_OP_IN_OUT_SZ: usize = 128;

/// Marks a request the kernel re-sent after `FUSE_NOTIFY_RESEND`.
pub const FUSE_UNIQUE_RESEND: u64 = 1 << 63;
/// Uid/gid the kernel sends when an idmapped mount has no mapping (`ALLOW_IDMAP`).
pub const FUSE_INVALID_UIDGID: u32 = u32::MAX;
/// Interrupt requests carry odd `unique` values (`FUSE_INT_REQ_BIT` in the kernel).
pub const FUSE_INT_REQ_BIT: u64 = 1;

// Device ioctls (`FUSE_DEV_IOC_*`, magic 229), as the numbers `_IOR/_IOW/_IO` produce.
pub const FUSE_DEV_IOC_MAGIC: u8 = 229;
pub const FUSE_DEV_IOC_CLONE: u32 = 0x8004_E500;
pub const FUSE_DEV_IOC_BACKING_OPEN: u32 = 0x4010_E501;
pub const FUSE_DEV_IOC_BACKING_CLOSE: u32 = 0x4004_E502;
pub const FUSE_DEV_IOC_SYNC_INIT: u32 = 0x0000_E503;

// Protocol version and the root node.
pub const FUSE_KERNEL_VERSION: u32 = 7;
pub const FUSE_KERNEL_MINOR_VERSION: u32 = 45;
pub const FUSE_ROOT_ID: u64 = 1;

// INIT flags (`fuse_init_in/out.flags`; bits 32.. travel in `flags2`).
pub const FUSE_ASYNC_READ: u64 = 1 << 0;
pub const FUSE_POSIX_LOCKS: u64 = 1 << 1;
pub const FUSE_FILE_OPS: u64 = 1 << 2;
pub const FUSE_ATOMIC_O_TRUNC: u64 = 1 << 3;
pub const FUSE_EXPORT_SUPPORT: u64 = 1 << 4;
pub const FUSE_BIG_WRITES: u64 = 1 << 5;
pub const FUSE_DONT_MASK: u64 = 1 << 6;
pub const FUSE_SPLICE_WRITE: u64 = 1 << 7;
pub const FUSE_SPLICE_MOVE: u64 = 1 << 8;
pub const FUSE_SPLICE_READ: u64 = 1 << 9;
pub const FUSE_FLOCK_LOCKS: u64 = 1 << 10;
pub const FUSE_HAS_IOCTL_DIR: u64 = 1 << 11;
pub const FUSE_AUTO_INVAL_DATA: u64 = 1 << 12;
pub const FUSE_DO_READDIRPLUS: u64 = 1 << 13;
pub const FUSE_READDIRPLUS_AUTO: u64 = 1 << 14;
pub const FUSE_ASYNC_DIO: u64 = 1 << 15;
pub const FUSE_WRITEBACK_CACHE: u64 = 1 << 16;
pub const FUSE_NO_OPEN_SUPPORT: u64 = 1 << 17;
pub const FUSE_PARALLEL_DIROPS: u64 = 1 << 18;
pub const FUSE_HANDLE_KILLPRIV: u64 = 1 << 19;
pub const FUSE_POSIX_ACL: u64 = 1 << 20;
pub const FUSE_ABORT_ERROR: u64 = 1 << 21;
pub const FUSE_MAX_PAGES: u64 = 1 << 22;
pub const FUSE_CACHE_SYMLINKS: u64 = 1 << 23;
pub const FUSE_NO_OPENDIR_SUPPORT: u64 = 1 << 24;
pub const FUSE_EXPLICIT_INVAL_DATA: u64 = 1 << 25;
pub const FUSE_MAP_ALIGNMENT: u64 = 1 << 26;
pub const FUSE_SUBMOUNTS: u64 = 1 << 27;
pub const FUSE_HANDLE_KILLPRIV_V2: u64 = 1 << 28;
pub const FUSE_SETXATTR_EXT: u64 = 1 << 29;
pub const FUSE_INIT_EXT: u64 = 1 << 30;
pub const FUSE_INIT_RESERVED: u64 = 1 << 31;
pub const FUSE_SECURITY_CTX: u64 = 1 << 32;
pub const FUSE_HAS_INODE_DAX: u64 = 1 << 33;
pub const FUSE_CREATE_SUPP_GROUP: u64 = 1 << 34;
pub const FUSE_HAS_EXPIRE_ONLY: u64 = 1 << 35;
pub const FUSE_DIRECT_IO_ALLOW_MMAP: u64 = 1 << 36;
pub const FUSE_PASSTHROUGH: u64 = 1 << 37;
pub const FUSE_NO_EXPORT_SUPPORT: u64 = 1 << 38;
pub const FUSE_HAS_RESEND: u64 = 1 << 39;
pub const FUSE_ALLOW_IDMAP: u64 = 1 << 40;
pub const FUSE_OVER_IO_URING: u64 = 1 << 41;
pub const FUSE_REQUEST_TIMEOUT: u64 = 1 << 42;

// `fuse_setattr_in.valid` bits.
pub const FATTR_MODE: u32 = 1 << 0;
pub const FATTR_UID: u32 = 1 << 1;
pub const FATTR_GID: u32 = 1 << 2;
pub const FATTR_SIZE: u32 = 1 << 3;
pub const FATTR_ATIME: u32 = 1 << 4;
pub const FATTR_MTIME: u32 = 1 << 5;
pub const FATTR_FH: u32 = 1 << 6;
pub const FATTR_ATIME_NOW: u32 = 1 << 7;
pub const FATTR_MTIME_NOW: u32 = 1 << 8;
pub const FATTR_LOCKOWNER: u32 = 1 << 9;
pub const FATTR_CTIME: u32 = 1 << 10;
pub const FATTR_KILL_SUIDGID: u32 = 1 << 11;

// `fuse_open_out.open_flags` bits.
pub const FOPEN_DIRECT_IO: u32 = 1 << 0;
pub const FOPEN_KEEP_CACHE: u32 = 1 << 1;
pub const FOPEN_NONSEEKABLE: u32 = 1 << 2;
pub const FOPEN_CACHE_DIR: u32 = 1 << 3;
pub const FOPEN_STREAM: u32 = 1 << 4;
pub const FOPEN_NOFLUSH: u32 = 1 << 5;
pub const FOPEN_PARALLEL_DIRECT_WRITES: u32 = 1 << 6;
pub const FOPEN_PASSTHROUGH: u32 = 1 << 7;

// Per-request flag bits (release, getattr, lock, write, read, ioctl, poll, fsync, attr, open, setxattr, notify).
pub const CUSE_UNRESTRICTED_IOCTL: u32 = 1 << 0;
pub const FUSE_RELEASE_FLUSH: u32 = 1 << 0;
pub const FUSE_RELEASE_FLOCK_UNLOCK: u32 = 1 << 1;
pub const FUSE_GETATTR_FH: u32 = 1 << 0;
pub const FUSE_LK_FLOCK: u32 = 1 << 0;
pub const FUSE_WRITE_CACHE: u32 = 1 << 0;
pub const FUSE_WRITE_LOCKOWNER: u32 = 1 << 1;
pub const FUSE_WRITE_KILL_SUIDGID: u32 = 1 << 2;
pub const FUSE_READ_LOCKOWNER: u32 = 1 << 1;
pub const FUSE_IOCTL_COMPAT: u32 = 1 << 0;
pub const FUSE_IOCTL_UNRESTRICTED: u32 = 1 << 1;
pub const FUSE_IOCTL_RETRY: u32 = 1 << 2;
pub const FUSE_IOCTL_32BIT: u32 = 1 << 3;
pub const FUSE_IOCTL_DIR: u32 = 1 << 4;
pub const FUSE_IOCTL_COMPAT_X32: u32 = 1 << 5;
pub const FUSE_POLL_SCHEDULE_NOTIFY: u32 = 1 << 0;
pub const FUSE_FSYNC_FDATASYNC: u32 = 1 << 0;
pub const FUSE_ATTR_SUBMOUNT: u32 = 1 << 0;
pub const FUSE_ATTR_DAX: u32 = 1 << 1;
pub const FUSE_OPEN_KILL_SUIDGID: u32 = 1 << 0;
pub const FUSE_SETXATTR_ACL_KILL_SGID: u32 = 1 << 0;
pub const FUSE_EXPIRE_ONLY: u32 = 1 << 0;

// Sizes of older layouts and buffer limits.
pub const FUSE_IOCTL_MAX_IOV: usize = 256;
pub const FUSE_MIN_READ_BUFFER: usize = 8192;
pub const FUSE_COMPAT_ENTRY_OUT_SIZE: usize = 120;
pub const FUSE_COMPAT_ATTR_OUT_SIZE: usize = 96;
pub const FUSE_COMPAT_MKNOD_IN_SIZE: usize = 8;
pub const FUSE_COMPAT_WRITE_IN_SIZE: usize = 24;
pub const FUSE_COMPAT_STATFS_SIZE: usize = 48;
pub const FUSE_COMPAT_SETXATTR_IN_SIZE: usize = 8;
pub const FUSE_COMPAT_INIT_OUT_SIZE: usize = 8;
pub const FUSE_COMPAT_22_INIT_OUT_SIZE: usize = 24;
pub const CUSE_INIT_INFO_MAX: usize = 4096;

// Structures, in header order.

/// Inode attributes as the kernel caches them.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_attr {
    pub ino: u64,
    pub size: u64,
    pub blocks: u64,
    pub atime: u64,
    pub mtime: u64,
    pub ctime: u64,
    pub atimensec: u32,
    pub mtimensec: u32,
    pub ctimensec: u32,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u32,
    pub blksize: u32,
    pub flags: u32,
}
const _: () = assert!(size_of::<fuse_attr>() == 88);

/// A timestamp inside `fuse_statx`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_sx_time {
    pub tv_sec: i64,
    pub tv_nsec: u32,
    pub reserved: i32,
}
const _: () = assert!(size_of::<fuse_sx_time>() == 16);

/// Extended attributes answered to `FUSE_STATX` (7.39).
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_statx {
    pub mask: u32,
    pub blksize: u32,
    pub attributes: u64,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub mode: u16,
    pub spare0: [u16; 1],
    pub ino: u64,
    pub size: u64,
    pub blocks: u64,
    pub attributes_mask: u64,
    pub atime: fuse_sx_time,
    pub btime: fuse_sx_time,
    pub ctime: fuse_sx_time,
    pub mtime: fuse_sx_time,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub spare2: [u64; 14],
}
const _: () = assert!(size_of::<fuse_statx>() == 256);

/// Filesystem statistics (`statfs(2)`).
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_kstatfs {
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub bsize: u32,
    pub namelen: u32,
    pub frsize: u32,
    pub padding: u32,
    pub spare: [u32; 6],
}
const _: () = assert!(size_of::<fuse_kstatfs>() == 80);

/// A POSIX byte-range lock.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_file_lock {
    pub start: u64,
    pub end: u64,
    pub r#type: u32,
    pub pid: u32,
}
const _: () = assert!(size_of::<fuse_file_lock>() == 24);

/// Kernel `struct fuse_entry_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_entry_out {
    pub nodeid: u64,
    pub generation: u64,
    pub entry_valid: u64,
    pub attr_valid: u64,
    pub entry_valid_nsec: u32,
    pub attr_valid_nsec: u32,
    pub attr: fuse_attr,
}
const _: () = assert!(size_of::<fuse_entry_out>() == 128);

/// Kernel `struct fuse_forget_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_forget_in {
    pub nlookup: u64,
}
const _: () = assert!(size_of::<fuse_forget_in>() == 8);

/// Kernel `struct fuse_forget_one`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_forget_one {
    pub nodeid: u64,
    pub nlookup: u64,
}
const _: () = assert!(size_of::<fuse_forget_one>() == 16);

/// Kernel `struct fuse_batch_forget_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_batch_forget_in {
    pub count: u32,
    pub dummy: u32,
}
const _: () = assert!(size_of::<fuse_batch_forget_in>() == 8);

/// Kernel `struct fuse_getattr_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_getattr_in {
    pub getattr_flags: u32,
    pub dummy: u32,
    pub fh: u64,
}
const _: () = assert!(size_of::<fuse_getattr_in>() == 16);

/// Kernel `struct fuse_attr_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_attr_out {
    pub attr_valid: u64,
    pub attr_valid_nsec: u32,
    pub dummy: u32,
    pub attr: fuse_attr,
}
const _: () = assert!(size_of::<fuse_attr_out>() == 104);

/// Kernel `struct fuse_statx_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_statx_in {
    pub getattr_flags: u32,
    pub reserved: u32,
    pub fh: u64,
    pub sx_flags: u32,
    pub sx_mask: u32,
}
const _: () = assert!(size_of::<fuse_statx_in>() == 24);

/// Kernel `struct fuse_statx_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_statx_out {
    pub attr_valid: u64,
    pub attr_valid_nsec: u32,
    pub flags: u32,
    pub spare: [u64; 2],
    pub stat: fuse_statx,
}
const _: () = assert!(size_of::<fuse_statx_out>() == 288);

/// Kernel `struct fuse_mknod_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_mknod_in {
    pub mode: u32,
    pub rdev: u32,
    pub umask: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_mknod_in>() == 16);

/// Kernel `struct fuse_mkdir_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_mkdir_in {
    pub mode: u32,
    pub umask: u32,
}
const _: () = assert!(size_of::<fuse_mkdir_in>() == 8);

/// Kernel `struct fuse_rename_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_rename_in {
    pub newdir: u64,
}
const _: () = assert!(size_of::<fuse_rename_in>() == 8);

/// Kernel `struct fuse_rename2_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_rename2_in {
    pub newdir: u64,
    pub flags: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_rename2_in>() == 16);

/// Kernel `struct fuse_link_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_link_in {
    pub oldnodeid: u64,
}
const _: () = assert!(size_of::<fuse_link_in>() == 8);

/// Kernel `struct fuse_setattr_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_setattr_in {
    pub valid: u32,
    pub padding: u32,
    pub fh: u64,
    pub size: u64,
    pub lock_owner: u64,
    pub atime: u64,
    pub mtime: u64,
    pub ctime: u64,
    pub atimensec: u32,
    pub mtimensec: u32,
    pub ctimensec: u32,
    pub mode: u32,
    pub unused4: u32,
    pub uid: u32,
    pub gid: u32,
    pub unused5: u32,
}
const _: () = assert!(size_of::<fuse_setattr_in>() == 88);

/// Kernel `struct fuse_open_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_open_in {
    pub flags: u32,
    pub open_flags: u32,
}
const _: () = assert!(size_of::<fuse_open_in>() == 8);

/// Kernel `struct fuse_create_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_create_in {
    pub flags: u32,
    pub mode: u32,
    pub umask: u32,
    pub open_flags: u32,
}
const _: () = assert!(size_of::<fuse_create_in>() == 16);

/// Kernel `struct fuse_open_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_open_out {
    pub fh: u64,
    pub open_flags: u32,
    pub backing_id: i32,
}
const _: () = assert!(size_of::<fuse_open_out>() == 16);

/// Kernel `struct fuse_release_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_release_in {
    pub fh: u64,
    pub flags: u32,
    pub release_flags: u32,
    pub lock_owner: u64,
}
const _: () = assert!(size_of::<fuse_release_in>() == 24);

/// Kernel `struct fuse_flush_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_flush_in {
    pub fh: u64,
    pub unused: u32,
    pub padding: u32,
    pub lock_owner: u64,
}
const _: () = assert!(size_of::<fuse_flush_in>() == 24);

/// Kernel `struct fuse_read_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_read_in {
    pub fh: u64,
    pub offset: u64,
    pub size: u32,
    pub read_flags: u32,
    pub lock_owner: u64,
    pub flags: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_read_in>() == 40);

/// Kernel `struct fuse_write_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_write_in {
    pub fh: u64,
    pub offset: u64,
    pub size: u32,
    pub write_flags: u32,
    pub lock_owner: u64,
    pub flags: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_write_in>() == 40);

/// Kernel `struct fuse_write_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_write_out {
    pub size: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_write_out>() == 8);

/// Kernel `struct fuse_statfs_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_statfs_out {
    pub st: fuse_kstatfs,
}
const _: () = assert!(size_of::<fuse_statfs_out>() == 80);

/// Kernel `struct fuse_fsync_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_fsync_in {
    pub fh: u64,
    pub fsync_flags: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_fsync_in>() == 16);

/// Kernel `struct fuse_setxattr_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_setxattr_in {
    pub size: u32,
    pub flags: u32,
    pub setxattr_flags: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_setxattr_in>() == 16);

/// Kernel `struct fuse_getxattr_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_getxattr_in {
    pub size: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_getxattr_in>() == 8);

/// Kernel `struct fuse_getxattr_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_getxattr_out {
    pub size: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_getxattr_out>() == 8);

/// Kernel `struct fuse_lk_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_lk_in {
    pub fh: u64,
    pub owner: u64,
    pub lk: fuse_file_lock,
    pub lk_flags: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_lk_in>() == 48);

/// Kernel `struct fuse_lk_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_lk_out {
    pub lk: fuse_file_lock,
}
const _: () = assert!(size_of::<fuse_lk_out>() == 24);

/// Kernel `struct fuse_access_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_access_in {
    pub mask: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_access_in>() == 8);

/// Kernel `struct fuse_init_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_init_in {
    pub major: u32,
    pub minor: u32,
    pub max_readahead: u32,
    pub flags: u32,
    pub flags2: u32,
    pub unused: [u32; 11],
}
const _: () = assert!(size_of::<fuse_init_in>() == 64);

/// Kernel `struct fuse_init_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_init_out {
    pub major: u32,
    pub minor: u32,
    pub max_readahead: u32,
    pub flags: u32,
    pub max_background: u16,
    pub congestion_threshold: u16,
    pub max_write: u32,
    pub time_gran: u32,
    pub max_pages: u16,
    pub map_alignment: u16,
    pub flags2: u32,
    pub max_stack_depth: u32,
    pub request_timeout: u16,
    pub unused: [u16; 11],
}
const _: () = assert!(size_of::<fuse_init_out>() == 64);

/// Kernel `struct cuse_init_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct cuse_init_in {
    pub major: u32,
    pub minor: u32,
    pub unused: u32,
    pub flags: u32,
}
const _: () = assert!(size_of::<cuse_init_in>() == 16);

/// Kernel `struct cuse_init_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct cuse_init_out {
    pub major: u32,
    pub minor: u32,
    pub unused: u32,
    pub flags: u32,
    pub max_read: u32,
    pub max_write: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub spare: [u32; 10],
}
const _: () = assert!(size_of::<cuse_init_out>() == 72);

/// Kernel `struct fuse_interrupt_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_interrupt_in {
    pub unique: u64,
}
const _: () = assert!(size_of::<fuse_interrupt_in>() == 8);

/// Kernel `struct fuse_bmap_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_bmap_in {
    pub block: u64,
    pub blocksize: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_bmap_in>() == 16);

/// Kernel `struct fuse_bmap_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_bmap_out {
    pub block: u64,
}
const _: () = assert!(size_of::<fuse_bmap_out>() == 8);

/// Kernel `struct fuse_ioctl_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_ioctl_in {
    pub fh: u64,
    pub flags: u32,
    pub cmd: u32,
    pub arg: u64,
    pub in_size: u32,
    pub out_size: u32,
}
const _: () = assert!(size_of::<fuse_ioctl_in>() == 32);

/// Kernel `struct fuse_ioctl_iovec`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_ioctl_iovec {
    pub base: u64,
    pub len: u64,
}
const _: () = assert!(size_of::<fuse_ioctl_iovec>() == 16);

/// Kernel `struct fuse_ioctl_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_ioctl_out {
    pub result: i32,
    pub flags: u32,
    pub in_iovs: u32,
    pub out_iovs: u32,
}
const _: () = assert!(size_of::<fuse_ioctl_out>() == 16);

/// Kernel `struct fuse_poll_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_poll_in {
    pub fh: u64,
    pub kh: u64,
    pub flags: u32,
    pub events: u32,
}
const _: () = assert!(size_of::<fuse_poll_in>() == 24);

/// Kernel `struct fuse_poll_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_poll_out {
    pub revents: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_poll_out>() == 8);

/// Kernel `struct fuse_notify_poll_wakeup_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_notify_poll_wakeup_out {
    pub kh: u64,
}
const _: () = assert!(size_of::<fuse_notify_poll_wakeup_out>() == 8);

/// Kernel `struct fuse_fallocate_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_fallocate_in {
    pub fh: u64,
    pub offset: u64,
    pub length: u64,
    pub mode: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_fallocate_in>() == 32);

/// Kernel `struct fuse_in_header`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_in_header {
    pub len: u32,
    pub opcode: u32,
    pub unique: u64,
    pub nodeid: u64,
    pub uid: u32,
    pub gid: u32,
    pub pid: u32,
    pub total_extlen: u16,
    pub padding: u16,
}
const _: () = assert!(size_of::<fuse_in_header>() == 40);

/// Kernel `struct fuse_out_header`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_out_header {
    pub len: u32,
    pub error: i32,
    pub unique: u64,
}
const _: () = assert!(size_of::<fuse_out_header>() == 16);

/// Header of one `READDIR` record; the name follows, padded to 8 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_dirent {
    pub ino: u64,
    pub off: u64,
    pub namelen: u32,
    pub r#type: u32,
}
const _: () = assert!(size_of::<fuse_dirent>() == 24);

/// Header of one `READDIRPLUS` record; the name follows, padded to 8 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_direntplus {
    pub entry_out: fuse_entry_out,
    pub dirent: fuse_dirent,
}
const _: () = assert!(size_of::<fuse_direntplus>() == 152);

/// Kernel `struct fuse_notify_inval_inode_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_notify_inval_inode_out {
    pub ino: u64,
    pub off: i64,
    pub len: i64,
}
const _: () = assert!(size_of::<fuse_notify_inval_inode_out>() == 24);

/// Kernel `struct fuse_notify_inval_entry_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_notify_inval_entry_out {
    pub parent: u64,
    pub namelen: u32,
    pub flags: u32,
}
const _: () = assert!(size_of::<fuse_notify_inval_entry_out>() == 16);

/// Kernel `struct fuse_notify_delete_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_notify_delete_out {
    pub parent: u64,
    pub child: u64,
    pub namelen: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_notify_delete_out>() == 24);

/// Kernel `struct fuse_notify_store_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_notify_store_out {
    pub nodeid: u64,
    pub offset: u64,
    pub size: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_notify_store_out>() == 24);

/// Kernel `struct fuse_notify_retrieve_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_notify_retrieve_out {
    pub notify_unique: u64,
    pub nodeid: u64,
    pub offset: u64,
    pub size: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_notify_retrieve_out>() == 32);

/// Kernel `struct fuse_notify_retrieve_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_notify_retrieve_in {
    pub dummy1: u64,
    pub offset: u64,
    pub size: u32,
    pub dummy2: u32,
    pub dummy3: u64,
    pub dummy4: u64,
}
const _: () = assert!(size_of::<fuse_notify_retrieve_in>() == 40);

/// Kernel `struct fuse_notify_prune_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_notify_prune_out {
    pub count: u32,
    pub padding: u32,
    pub spare: u64,
}
const _: () = assert!(size_of::<fuse_notify_prune_out>() == 16);

/// Kernel `struct fuse_backing_map`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_backing_map {
    pub fd: i32,
    pub flags: u32,
    pub padding: u64,
}
const _: () = assert!(size_of::<fuse_backing_map>() == 16);

/// Kernel `struct fuse_lseek_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_lseek_in {
    pub fh: u64,
    pub offset: u64,
    pub whence: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_lseek_in>() == 24);

/// Kernel `struct fuse_lseek_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_lseek_out {
    pub offset: u64,
}
const _: () = assert!(size_of::<fuse_lseek_out>() == 8);

/// Kernel `struct fuse_copy_file_range_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_copy_file_range_in {
    pub fh_in: u64,
    pub off_in: u64,
    pub nodeid_out: u64,
    pub fh_out: u64,
    pub off_out: u64,
    pub len: u64,
    pub flags: u64,
}
const _: () = assert!(size_of::<fuse_copy_file_range_in>() == 56);

/// Kernel `struct fuse_copy_file_range_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_copy_file_range_out {
    pub bytes_copied: u64,
}
const _: () = assert!(size_of::<fuse_copy_file_range_out>() == 8);

/// Kernel `struct fuse_setupmapping_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_setupmapping_in {
    pub fh: u64,
    pub foffset: u64,
    pub len: u64,
    pub flags: u64,
    pub moffset: u64,
}
const _: () = assert!(size_of::<fuse_setupmapping_in>() == 40);

/// Kernel `struct fuse_removemapping_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_removemapping_in {
    pub count: u32,
}
const _: () = assert!(size_of::<fuse_removemapping_in>() == 4);

/// Kernel `struct fuse_removemapping_one`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_removemapping_one {
    pub moffset: u64,
    pub len: u64,
}
const _: () = assert!(size_of::<fuse_removemapping_one>() == 16);

/// Kernel `struct fuse_syncfs_in`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_syncfs_in {
    pub padding: u64,
}
const _: () = assert!(size_of::<fuse_syncfs_in>() == 8);

/// Kernel `struct fuse_secctx`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_secctx {
    pub size: u32,
    pub padding: u32,
}
const _: () = assert!(size_of::<fuse_secctx>() == 8);

/// Kernel `struct fuse_secctx_header`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_secctx_header {
    pub size: u32,
    pub nr_secctx: u32,
}
const _: () = assert!(size_of::<fuse_secctx_header>() == 8);

/// Kernel `struct fuse_ext_header`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_ext_header {
    pub size: u32,
    pub r#type: u32,
}
const _: () = assert!(size_of::<fuse_ext_header>() == 8);

/// Kernel `struct fuse_supp_groups`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_supp_groups {
    pub nr_groups: u32,
}
const _: () = assert!(size_of::<fuse_supp_groups>() == 4);

/// Kernel `struct fuse_uring_ent_in_out`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_uring_ent_in_out {
    pub flags: u64,
    pub commit_id: u64,
    pub payload_sz: u32,
    pub padding: u32,
    pub reserved: u64,
}
const _: () = assert!(size_of::<fuse_uring_ent_in_out>() == 32);

/// Kernel `struct fuse_uring_req_header`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct fuse_uring_req_header {
    pub in_out: [u8; FUSE_URING_IN_OUT_HEADER_SZ],
    pub op_in: [u8; FUSE_URING_OP_IN_OUT_SZ],
    pub ring_ent_in_out: fuse_uring_ent_in_out,
}
const _: () = assert!(size_of::<fuse_uring_req_header>() == 288);

/// Kernel `struct fuse_uring_cmd_req`.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct fuse_uring_cmd_req {
    pub flags: u64,
    pub commit_id: u64,
    pub qid: u16,
    pub padding: [u8; 6],
}
const _: () = assert!(size_of::<fuse_uring_cmd_req>() == 24);
