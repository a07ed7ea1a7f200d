//! THE table of FUSE operations a filesystem can handle: name, positional parameters, success
//! type, documentation and the answer when the handler is not written. One row per operation;
//! everything that lists the operations is generated from it:
//!
//! - in the runtime, through the hidden macros of `runtime_items.rs`: the methods of
//!   `fusegen::Operations` (signature, rustdoc, default body), the `fusegen::Handlers` bits and
//!   the associated types of `fusegen::__private::AllHandlersInOneImplBlock`;
//! - in this crate: the signatures `#[fusegen::handlers]` checks and the code it generates;
//! - `docs/handlers.md`, whose generated section `tests/docs.rs` compares with this table.
//!
//! Pure data with no dependency on `syn`, so that `tests/docs.rs` can include this file.

/// One handler parameter.
pub struct Param {
    /// Name used in documentation and messages.
    pub name: &'static str,
    /// The type as a user writes it (short form, shown in messages).
    pub ty: &'static str,
    /// The fully qualified type used in generated code.
    pub path: &'static str,
}

/// What a handler returns on success.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// `Result<T>` with `T` as written here (short form) and its fully qualified path.
    Result {
        ty: &'static str,
        path: &'static str,
        also: &'static [&'static str],
    },
    /// Nothing at all (no `Result`): `forget`, `destroy`.
    Unit,
}

/// What the default method of `fusegen::Operations` answers, for a handler not written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// `Err(Errno::ENOSYS)`: the kernel remembers it and stops asking, or falls back to a
    /// generic implementation (what `default` describes).
    Enosys,
    /// Success with the default value of the type: `Ok(())`, `()`, zeroed statistics.
    Succeed,
}

/// One operation.
pub struct Op {
    /// Method name (libfuse's lowlevel name).
    pub name: &'static str,
    /// Parameters after `&self`, without the optional trailing `ctx: &RequestContext`.
    pub params: &'static [Param],
    /// Whether a trailing `ctx: &RequestContext` may be written.
    pub takes_ctx: bool,
    /// The success type.
    pub returns: Returns,
    /// What the trait's default method answers.
    pub fallback: Fallback,
    /// Whether it changes the filesystem: pointless under `read_only`, where the kernel refuses
    /// the system calls with EROFS before they reach the filesystem.
    pub writes: bool,
    /// The kernel requests it serves, as named in `fuse.h` without `FUSE_`.
    pub requests: &'static str,
    /// What the kernel sees when the handler is not written (for people: the docs).
    pub default: &'static str,
    /// What the handler does, in a sentence or two.
    pub doc: &'static str,
}

/// One parameter row: `p!("name": "Type as written" => "::full::Path")`.
macro_rules! p {
    ($name:literal : $ty:literal => $path:expr) => {
        Param {
            name: $name,
            ty: $ty,
            path: $path,
        }
    };
}
// The path-level table (`paths/table.rs`) writes its rows with the same helpers.
#[allow(
    unused_imports,
    reason = "used by paths/table.rs, not where this file is included elsewhere"
)]
pub(crate) use p;

const INODE: &str = "::fusegen::Inode";
pub(crate) const FH: &str = "::fusegen::FileHandle";
pub(crate) const OSSTR: &str = "&::std::ffi::OsStr";

pub(crate) const fn result(ty: &'static str, path: &'static str) -> Returns {
    Returns::Result {
        ty,
        path,
        also: &[],
    }
}

pub(crate) const ENTRY: Returns = result("EntryAttributes", "::fusegen::EntryAttributes");
pub(crate) const UNIT: Returns = result("()", "()");
pub(crate) const DATA: Returns = Returns::Result {
    ty: "Bytes",
    path: "::fusegen::Bytes",
    also: &["Vec<u8>"],
};
/// READ's answer: bytes, or a range of a file the runtime sends itself (`ReadData::from_file`).
pub(crate) const READ_DATA: Returns = Returns::Result {
    ty: "Bytes",
    path: "::fusegen::ReadData",
    also: &["Vec<u8>", "ReadData"],
};
pub(crate) const OPEN: Returns = result("FileInfo", "::fusegen::FileInfo");
const CREATED: Returns = result(
    "(FileInfo, EntryAttributes)",
    "(::fusegen::FileInfo, ::fusegen::EntryAttributes)",
);

/// Every operation, in the order of `docs/handlers.md`.
pub const OPS: &[Op] = &[
    Op {
        name: "init",
        params: &[p!("info": "&ConnectionInfo" => "&::fusegen::ConnectionInfo")],
        takes_ctx: false,
        returns: UNIT,
        fallback: Fallback::Succeed,
        writes: false,
        requests: "INIT",
        default: "nothing to do",
        doc: "Called once when the kernel connects, before any other request.",
    },
    Op {
        name: "destroy",
        params: &[],
        takes_ctx: false,
        returns: Returns::Unit,
        fallback: Fallback::Succeed,
        writes: false,
        requests: "DESTROY, unmount",
        default: "nothing to do",
        doc: "Called once when the session ends (unmount or close).",
    },
    Op {
        name: "lookup",
        params: &[
            p!("parent": "Inode" => INODE),
            p!("name": "&OsStr" => OSSTR),
        ],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "LOOKUP",
        default: "ENOSYS",
        doc: "Find `name` in `parent`. Each reply with a non-zero inode is one lookup the kernel later forgets; `EntryAttributes::negative` lets the kernel cache the absence.",
    },
    Op {
        name: "forget",
        params: &[p!("forgets": "&[Forget]" => "&[::fusegen::Forget]")],
        takes_ctx: false,
        returns: Returns::Unit,
        fallback: Fallback::Succeed,
        writes: false,
        requests: "FORGET, BATCH_FORGET",
        default: "nothing (no reply is ever sent)",
        doc: "The kernel drops lookup references. No reply is sent.",
    },
    Op {
        name: "getattr",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "Option<FileHandle>" => "::core::option::Option<::fusegen::FileHandle>"),
        ],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "GETATTR",
        default: "ENOSYS",
        doc: "Attributes of an inode; `fh` is set when the kernel asks through an open file.",
    },
    Op {
        name: "setattr",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("attr": "&SetAttr" => "&::fusegen::SetAttr"),
            p!("fh": "Option<FileHandle>" => "::core::option::Option<::fusegen::FileHandle>"),
        ],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "SETATTR",
        default: "ENOSYS",
        doc: "chmod, chown, truncate, utimens; return the new attributes.",
    },
    Op {
        name: "readlink",
        params: &[p!("ino": "Inode" => INODE)],
        takes_ctx: true,
        returns: DATA,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "READLINK",
        default: "ENOSYS",
        doc: "Target of a symbolic link.",
    },
    Op {
        name: "mknod",
        params: &[
            p!("parent": "Inode" => INODE),
            p!("name": "&OsStr" => OSSTR),
            p!("mode": "u32" => "u32"),
            p!("rdev": "u32" => "u32"),
        ],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "MKNOD",
        default: "ENOSYS",
        doc: "Create a file node (regular, FIFO, device, socket); `mode` includes the file type bits.",
    },
    Op {
        name: "mkdir",
        params: &[
            p!("parent": "Inode" => INODE),
            p!("name": "&OsStr" => OSSTR),
            p!("mode": "u32" => "u32"),
        ],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "MKDIR",
        default: "ENOSYS",
        doc: "Create a directory.",
    },
    Op {
        name: "unlink",
        params: &[
            p!("parent": "Inode" => INODE),
            p!("name": "&OsStr" => OSSTR),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "UNLINK",
        default: "ENOSYS",
        doc: "Remove a non-directory entry.",
    },
    Op {
        name: "rmdir",
        params: &[
            p!("parent": "Inode" => INODE),
            p!("name": "&OsStr" => OSSTR),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "RMDIR",
        default: "ENOSYS",
        doc: "Remove an empty directory.",
    },
    Op {
        name: "symlink",
        params: &[
            p!("parent": "Inode" => INODE),
            p!("name": "&OsStr" => OSSTR),
            p!("target": "&OsStr" => OSSTR),
        ],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "SYMLINK",
        default: "ENOSYS",
        doc: "Create a symbolic link `name` in `parent` pointing to `target`.",
    },
    Op {
        name: "rename",
        params: &[
            p!("parent": "Inode" => INODE),
            p!("name": "&OsStr" => OSSTR),
            p!("new_parent": "Inode" => INODE),
            p!("new_name": "&OsStr" => OSSTR),
            p!("flags": "RenameFlags" => "::fusegen::RenameFlags"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "RENAME, RENAME2",
        default: "ENOSYS",
        doc: "Rename, with `renameat2(2)` flags (NOREPLACE, EXCHANGE).",
    },
    Op {
        name: "link",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("new_parent": "Inode" => INODE),
            p!("new_name": "&OsStr" => OSSTR),
        ],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "LINK",
        default: "ENOSYS",
        doc: "Create a hard link to `ino` named `new_name` in `new_parent`.",
    },
    Op {
        name: "open",
        params: &[p!("ino": "Inode" => INODE), p!("flags": "i32" => "i32")],
        takes_ctx: true,
        returns: OPEN,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "OPEN",
        default: "opens are free: the kernel sends no OPEN and every request carries handle 0",
        doc: "Open a file; `flags` are the `open(2)` flags.",
    },
    Op {
        name: "read",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("offset": "u64" => "u64"),
            p!("size": "u32" => "u32"),
        ],
        takes_ctx: true,
        returns: READ_DATA,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "READ",
        default: "ENOSYS",
        doc: "Read up to `size` bytes at `offset`; fewer only at end of file (or with `direct_io`). Return the bytes (`Bytes` or `Vec<u8>`), or `ReadData::from_file(file, offset, size)` for data already in a file: the runtime then sends the range itself, by `splice(2)` on `/dev/fuse`, without copying it through the daemon.",
    },
    Op {
        name: "write",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("offset": "u64" => "u64"),
            p!("data": "&[u8]" => "&[u8]"),
        ],
        takes_ctx: true,
        returns: result("u32", "u32"),
        fallback: Fallback::Enosys,
        writes: true,
        requests: "WRITE",
        default: "ENOSYS",
        doc: "Write `data` at `offset`; return the number of bytes written. `data` may be taken as `WriteData<'_>` instead of `&[u8]`: on `/dev/fuse` the data of a large write then stays in a pipe, and `data.write_to(&file, offset)` splices it into a file without copying it through the daemon (`docs/handlers.md`, \"Data without copies\").",
    },
    Op {
        name: "flush",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("lock_owner": "u64" => "u64"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "FLUSH",
        default: "ENOSYS: the kernel stops sending FLUSH",
        doc: "Called on each `close(2)` of a descriptor (possibly several times per open).",
    },
    Op {
        name: "release",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("flags": "i32" => "i32"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Succeed,
        writes: false,
        requests: "RELEASE",
        default: "success",
        doc: "The last reference to an open file is gone. The kernel ignores errors.",
    },
    Op {
        name: "fsync",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("datasync": "bool" => "bool"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "FSYNC",
        default: "ENOSYS: the kernel treats fsync as done",
        doc: "Flush file data (and metadata unless `datasync`) to stable storage.",
    },
    Op {
        name: "opendir",
        params: &[p!("ino": "Inode" => INODE), p!("flags": "i32" => "i32")],
        takes_ctx: true,
        returns: OPEN,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "OPENDIR",
        default: "opendir is free, as for `open`",
        doc: "Open a directory.",
    },
    Op {
        name: "readdir",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("offset": "u64" => "u64"),
            p!("out": "&mut ReaddirReply<'_>" => "&mut ::fusegen::ReaddirReply<'_>"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "READDIR, READDIRPLUS",
        default: "ENOSYS",
        doc: "List entries from `offset` (0 = the start) into `out` until `out.add` returns false.",
    },
    Op {
        name: "releasedir",
        params: &[p!("ino": "Inode" => INODE), p!("fh": "FileHandle" => FH)],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Succeed,
        writes: false,
        requests: "RELEASEDIR",
        default: "success",
        doc: "The last reference to an open directory is gone.",
    },
    Op {
        name: "fsyncdir",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("datasync": "bool" => "bool"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "FSYNCDIR",
        default: "ENOSYS: the kernel treats it as done",
        doc: "Sync a directory.",
    },
    Op {
        name: "statfs",
        params: &[p!("ino": "Inode" => INODE)],
        takes_ctx: true,
        returns: result("StatvfsData", "::fusegen::StatvfsData"),
        fallback: Fallback::Succeed,
        writes: false,
        requests: "STATFS",
        default: "zero sizes, 255-byte names",
        doc: "Filesystem statistics (`statfs(2)`, `df`).",
    },
    Op {
        name: "setxattr",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("name": "&OsStr" => OSSTR),
            p!("value": "&[u8]" => "&[u8]"),
            p!("flags": "i32" => "i32"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "SETXATTR",
        default: "ENOSYS: xattrs are unsupported (EOPNOTSUPP)",
        doc: "Set an extended attribute (`XATTR_CREATE`/`XATTR_REPLACE` in `flags`).",
    },
    Op {
        name: "getxattr",
        params: &[p!("ino": "Inode" => INODE), p!("name": "&OsStr" => OSSTR)],
        takes_ctx: true,
        returns: DATA,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "GETXATTR",
        default: "ENOSYS: xattrs are unsupported (EOPNOTSUPP)",
        doc: "Value of an extended attribute (`ENODATA` if absent); size probes and `ERANGE` are handled by the runtime.",
    },
    Op {
        name: "listxattr",
        params: &[p!("ino": "Inode" => INODE)],
        takes_ctx: true,
        returns: result("Vec<OsString>", "::std::vec::Vec<::std::ffi::OsString>"),
        fallback: Fallback::Enosys,
        writes: false,
        requests: "LISTXATTR",
        default: "ENOSYS: xattrs are unsupported (EOPNOTSUPP)",
        doc: "Names of the extended attributes.",
    },
    Op {
        name: "removexattr",
        params: &[p!("ino": "Inode" => INODE), p!("name": "&OsStr" => OSSTR)],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "REMOVEXATTR",
        default: "ENOSYS: xattrs are unsupported (EOPNOTSUPP)",
        doc: "Remove an extended attribute.",
    },
    Op {
        name: "access",
        params: &[p!("ino": "Inode" => INODE), p!("mask": "i32" => "i32")],
        takes_ctx: true,
        returns: result("bool", "bool"),
        fallback: Fallback::Enosys,
        writes: false,
        requests: "ACCESS",
        default: "every access is granted",
        doc: "Check access for `access(2)` (not called with `default_permissions`); `false` answers EACCES.",
    },
    Op {
        name: "create",
        params: &[
            p!("parent": "Inode" => INODE),
            p!("name": "&OsStr" => OSSTR),
            p!("mode": "u32" => "u32"),
            p!("flags": "i32" => "i32"),
        ],
        takes_ctx: true,
        returns: CREATED,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "CREATE",
        default: "the kernel uses `mknod` then `open`",
        doc: "Create and open a file.",
    },
    Op {
        name: "getlk",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("owner": "u64" => "u64"),
            p!("lock": "FileLock" => "::fusegen::FileLock"),
        ],
        takes_ctx: true,
        returns: result("FileLock", "::fusegen::FileLock"),
        fallback: Fallback::Enosys,
        writes: false,
        requests: "GETLK",
        default: "locks are local to the kernel",
        doc: "Test for a POSIX lock (`F_GETLK`): return the conflicting lock, or `lock` with type `F_UNLCK` if there is none. Written together with `setlk`.",
    },
    Op {
        name: "setlk",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("owner": "u64" => "u64"),
            p!("lock": "FileLock" => "::fusegen::FileLock"),
            p!("sleep": "bool" => "bool"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "SETLK, SETLKW",
        default: "locks are local to the kernel",
        doc: "Acquire or release a POSIX lock; `sleep` is true for `F_SETLKW`. Written together with `getlk`.",
    },
    Op {
        name: "flock",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("owner": "u64" => "u64"),
            p!("op": "i32" => "i32"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "SETLK with FUSE_LK_FLOCK",
        default: "flock is local to the kernel",
        doc: "`flock(2)`: LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB when non-blocking.",
    },
    Op {
        name: "bmap",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("blocksize": "u32" => "u32"),
            p!("block": "u64" => "u64"),
        ],
        takes_ctx: true,
        returns: result("u64", "u64"),
        fallback: Fallback::Enosys,
        writes: false,
        requests: "BMAP",
        default: "ENOSYS",
        doc: "Map a file block to a device block. The kernel sends BMAP only to block-device (`fuseblk`) mounts, which fusegen does not make: never called today.",
    },
    Op {
        name: "ioctl",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("cmd": "u32" => "u32"),
            p!("arg": "u64" => "u64"),
            p!("input": "&[u8]" => "&[u8]"),
            p!("out_size": "u32" => "u32"),
        ],
        takes_ctx: true,
        returns: result("IoctlReply", "::fusegen::IoctlReply"),
        fallback: Fallback::Enosys,
        writes: false,
        requests: "IOCTL",
        default: "ENOSYS (ENOTTY for the caller)",
        doc: "A restricted `ioctl(2)` on an open file.",
    },
    Op {
        name: "poll",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("kh": "Option<u64>" => "::core::option::Option<u64>"),
            p!("events": "u32" => "u32"),
        ],
        takes_ctx: true,
        returns: result("u32", "u32"),
        fallback: Fallback::Enosys,
        writes: false,
        requests: "POLL",
        default: "always ready",
        doc: "I/O readiness: return the ready events; `kh`, when set, identifies a later wake-up notification.",
    },
    Op {
        name: "fallocate",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("offset": "u64" => "u64"),
            p!("length": "u64" => "u64"),
            p!("mode": "i32" => "i32"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "FALLOCATE",
        default: "ENOSYS (EOPNOTSUPP for the caller)",
        doc: "Allocate or punch space (`fallocate(2)`; `mode` holds the `FALLOC_FL_*` bits).",
    },
    Op {
        name: "lseek",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "FileHandle" => FH),
            p!("offset": "u64" => "u64"),
            p!("whence": "i32" => "i32"),
        ],
        takes_ctx: true,
        returns: result("u64", "u64"),
        fallback: Fallback::Enosys,
        writes: false,
        requests: "LSEEK",
        default: "the kernel's generic seek (no SEEK_DATA/SEEK_HOLE)",
        doc: "Reposition for `SEEK_DATA` and `SEEK_HOLE`, the only whences that reach the filesystem.",
    },
    Op {
        name: "copy_file_range",
        params: &[
            p!("ino_in": "Inode" => INODE),
            p!("fh_in": "FileHandle" => FH),
            p!("offset_in": "u64" => "u64"),
            p!("ino_out": "Inode" => INODE),
            p!("fh_out": "FileHandle" => FH),
            p!("offset_out": "u64" => "u64"),
            p!("len": "u64" => "u64"),
            p!("flags": "u64" => "u64"),
        ],
        takes_ctx: true,
        returns: result("u64", "u64"),
        fallback: Fallback::Enosys,
        writes: true,
        requests: "COPY_FILE_RANGE, COPY_FILE_RANGE_64",
        default: "the kernel copies through read and write",
        doc: "Copy a range between two open files without passing the data through the caller.",
    },
    Op {
        name: "syncfs",
        params: &[p!("ino": "Inode" => INODE)],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "SYNCFS",
        default: "ENOSYS",
        doc: "Sync the whole filesystem. The kernel (6.18) sends SYNCFS only to `fuseblk` and virtiofs mounts, not to a plain FUSE mount: never called today.",
    },
    Op {
        name: "tmpfile",
        params: &[
            p!("parent": "Inode" => INODE),
            p!("mode": "u32" => "u32"),
            p!("flags": "i32" => "i32"),
        ],
        takes_ctx: true,
        returns: CREATED,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "TMPFILE",
        default: "ENOSYS (O_TMPFILE fails with EOPNOTSUPP)",
        doc: "Create an unnamed temporary file in `parent` (`O_TMPFILE`).",
    },
    Op {
        name: "statx",
        params: &[
            p!("ino": "Inode" => INODE),
            p!("fh": "Option<FileHandle>" => "::core::option::Option<::fusegen::FileHandle>"),
            p!("flags": "u32" => "u32"),
            p!("mask": "u32" => "u32"),
        ],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "STATX",
        default: "the kernel uses `getattr`",
        doc: "Attributes including birth time (`statx(2)`).",
    },
];

/// A second type that one parameter of an inode-level `async` handler may have. The handler
/// then implements another method of `fusegen::Operations` (whose default hands the data to
/// the operation's own method), and sets a `fusegen::Handlers` bit of its own, from which
/// the runtime learns that it may deliver the data that way.
pub struct Alternative {
    /// The operation (a row of [`OPS`]).
    pub op: &'static str,
    /// The parameter (by name) that may have the other type.
    pub param: &'static str,
    /// The type as a user writes it.
    pub ty: &'static str,
    /// The fully qualified type used in generated code.
    pub path: &'static str,
    /// The `Operations` method such a handler implements; its `Handlers` bit is the name in
    /// capitals.
    pub method: &'static str,
    /// The bit's position in `Handlers` (from the top, clear of the rows' bits).
    pub bit: u32,
}

/// Every [`Alternative`]: `write` may take its data as `WriteData`, which on `/dev/fuse` can
/// still be in a pipe (`Operations::write_data`, `Handlers::WRITE_DATA`).
pub const ALTERNATIVES: &[Alternative] = &[Alternative {
    op: "write",
    param: "data",
    ty: "WriteData<'_>",
    path: "::fusegen::WriteData<'_>",
    method: "write_data",
    bit: 63,
}];

/// The alternative type of parameter `param` of `op`, if it has one.
pub fn alternative(op: &str, param: &str) -> Option<&'static Alternative> {
    ALTERNATIVES.iter().find(|a| a.op == op && a.param == param)
}

/// Names users bring from other libraries or from syscall names, with what to write instead.
pub const HINTS: &[(&str, &str)] = &[
    ("get_attr", "`getattr`"),
    ("set_attr", "`setattr`"),
    ("read_dir", "`readdir`"),
    (
        "readdirplus",
        "`readdir` (it serves both READDIR and READDIRPLUS)",
    ),
    (
        "readdir_plus",
        "`readdir` (it serves both READDIR and READDIRPLUS)",
    ),
    ("open_dir", "`opendir`"),
    ("release_dir", "`releasedir`"),
    ("fsync_dir", "`fsyncdir`"),
    ("mk_dir", "`mkdir`"),
    ("make_dir", "`mkdir`"),
    ("create_dir", "`mkdir`"),
    ("rm_dir", "`rmdir`"),
    ("remove_dir", "`rmdir`"),
    ("rename2", "`rename` (it receives RENAME2 flags too)"),
    (
        "batch_forget",
        "`forget` (it receives FORGET and BATCH_FORGET)",
    ),
    ("get_xattr", "`getxattr`"),
    ("set_xattr", "`setxattr`"),
    ("list_xattr", "`listxattr`"),
    ("remove_xattr", "`removexattr`"),
    ("read_link", "`readlink`"),
    ("statvfs", "`statfs`"),
    ("stat_fs", "`statfs`"),
    (
        "setlkw",
        "`setlk` (its `sleep` argument is true for SETLKW)",
    ),
    ("get_lk", "`getlk`"),
    ("set_lk", "`setlk`"),
    ("sym_link", "`symlink`"),
    ("hard_link", "`link`"),
    ("mknode", "`mknod`"),
    (
        "truncate",
        "`setattr` (a truncate arrives as a setattr with a size)",
    ),
    (
        "chmod",
        "`setattr` (chmod arrives as a setattr with a mode)",
    ),
    (
        "chown",
        "`setattr` (chown arrives as a setattr with uid/gid)",
    ),
    ("utimens", "`setattr` (times arrive as a setattr)"),
    (
        "close",
        "`flush` (each close) or `release` (the last close)",
    ),
    ("opendir_plus", "`opendir`"),
    ("stat", "`getattr`"),
    ("remove", "`unlink`"),
    ("delete", "`unlink`"),
];

/// The operation called `name`.
pub fn find(name: &str) -> Option<&'static Op> {
    OPS.iter().find(|op| op.name == name)
}

/// The signature as documented, e.g. `async fn lookup(&self, parent: Inode, name: &OsStr, ctx: &RequestContext) -> Result<EntryAttributes>`.
pub fn signature(op: &Op) -> String {
    let mut params: Vec<String> = vec!["&self".into()];
    params.extend(op.params.iter().map(|p| format!("{}: {}", p.name, p.ty)));
    if op.takes_ctx {
        params.push("ctx: &RequestContext".into());
    }
    let ret = match op.returns {
        Returns::Result { ty, .. } => format!(" -> Result<{ty}>"),
        Returns::Unit => String::new(),
    };
    format!("async fn {}({}){}", op.name, params.join(", "), ret)
}
