//! The operations a path-level block (`#[fusegen::handlers(paths)]`) may implement: the
//! methods of `fusegen::paths::PathOperations`, in the shape of the inode-level table
//! (`ops.rs`) so that one set of checks serves both modes. `fusegen/src/helpers/paths/mod.rs`
//! declares the same methods; the UI test `tests/ui/pass/paths-all-handlers.rs` proves the two
//! agree.

use crate::ops::{Fallback, Op, Param, Returns};

macro_rules! p {
    ($name:literal : $ty:literal => $path:expr) => {
        Param {
            name: $name,
            ty: $ty,
            path: $path,
        }
    };
}

const PATH: &str = "&::std::path::Path";
const FH: &str = "::fusegen::FileHandle";
const OPT_FH: &str = "::core::option::Option<::fusegen::FileHandle>";
const OSSTR: &str = "&::std::ffi::OsStr";

const fn result(ty: &'static str, path: &'static str) -> Returns {
    Returns::Result {
        ty,
        path,
        also: &[],
    }
}

const ENTRY: Returns = result("EntryAttributes", "::fusegen::EntryAttributes");
const UNIT: Returns = result("()", "()");
const DATA: Returns = Returns::Result {
    ty: "Bytes",
    path: "::fusegen::Bytes",
    also: &["Vec<u8>"],
};
const OPEN: Returns = result("FileInfo", "::fusegen::FileInfo");

/// Every path-level operation, in the order of `docs/paths.md`.
pub const PATH_OPS: &[Op] = &[
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
        doc: "Called once when the session ends.",
    },
    Op {
        name: "getattr",
        params: &[
            p!("path": "&Path" => PATH),
            p!("fh": "Option<FileHandle>" => OPT_FH),
        ],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "LOOKUP, GETATTR",
        default: "ENOSYS",
        doc: "Attributes of `path` (lookups come here too); `fh` is set when asked through an open file.",
    },
    Op {
        name: "setattr",
        params: &[
            p!("path": "&Path" => PATH),
            p!("attr": "&SetAttr" => "&::fusegen::SetAttr"),
            p!("fh": "Option<FileHandle>" => OPT_FH),
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
        params: &[p!("path": "&Path" => PATH)],
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
            p!("path": "&Path" => PATH),
            p!("mode": "u32" => "u32"),
            p!("rdev": "u32" => "u32"),
        ],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "MKNOD",
        default: "ENOSYS",
        doc: "Create a file node; `mode` includes the file type bits.",
    },
    Op {
        name: "mkdir",
        params: &[p!("path": "&Path" => PATH), p!("mode": "u32" => "u32")],
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
        params: &[p!("path": "&Path" => PATH)],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "UNLINK",
        default: "ENOSYS",
        doc: "Remove a non-directory.",
    },
    Op {
        name: "rmdir",
        params: &[p!("path": "&Path" => PATH)],
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
        params: &[p!("path": "&Path" => PATH), p!("target": "&OsStr" => OSSTR)],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "SYMLINK",
        default: "ENOSYS",
        doc: "Create a symbolic link at `path` pointing to `target`.",
    },
    Op {
        name: "rename",
        params: &[
            p!("from": "&Path" => PATH),
            p!("to": "&Path" => PATH),
            p!("flags": "RenameFlags" => "::fusegen::RenameFlags"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "RENAME, RENAME2",
        default: "ENOSYS",
        doc: "Rename `from` to `to` (`renameat2(2)` flags); the runtime moves whole subtrees.",
    },
    Op {
        name: "link",
        params: &[p!("existing": "&Path" => PATH), p!("new": "&Path" => PATH)],
        takes_ctx: true,
        returns: ENTRY,
        fallback: Fallback::Enosys,
        writes: true,
        requests: "LINK",
        default: "ENOSYS",
        doc: "Create `new` as a hard link to `existing` (same `ino` in the attributes).",
    },
    Op {
        name: "open",
        params: &[p!("path": "&Path" => PATH), p!("flags": "i32" => "i32")],
        takes_ctx: true,
        returns: OPEN,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "OPEN",
        default: "opens are free: every request carries handle 0",
        doc: "Open a file; `flags` are the `open(2)` flags.",
    },
    Op {
        name: "read",
        params: &[
            p!("path": "&Path" => PATH),
            p!("fh": "FileHandle" => FH),
            p!("offset": "u64" => "u64"),
            p!("size": "u32" => "u32"),
        ],
        takes_ctx: true,
        returns: DATA,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "READ",
        default: "ENOSYS",
        doc: "Read up to `size` bytes at `offset`; fewer only at end of file.",
    },
    Op {
        name: "write",
        params: &[
            p!("path": "&Path" => PATH),
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
        doc: "Write `data` at `offset`; return the number of bytes written.",
    },
    Op {
        name: "flush",
        params: &[
            p!("path": "&Path" => PATH),
            p!("fh": "FileHandle" => FH),
            p!("lock_owner": "u64" => "u64"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "FLUSH",
        default: "ENOSYS: the kernel stops sending FLUSH",
        doc: "Called on each `close(2)` of a descriptor.",
    },
    Op {
        name: "release",
        params: &[
            p!("path": "&Path" => PATH),
            p!("fh": "FileHandle" => FH),
            p!("flags": "i32" => "i32"),
        ],
        takes_ctx: true,
        returns: UNIT,
        fallback: Fallback::Succeed,
        writes: false,
        requests: "RELEASE",
        default: "success",
        doc: "The last reference to an open file is gone.",
    },
    Op {
        name: "fsync",
        params: &[
            p!("path": "&Path" => PATH),
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
        params: &[p!("path": "&Path" => PATH), p!("flags": "i32" => "i32")],
        takes_ctx: true,
        returns: OPEN,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "OPENDIR",
        default: "the runtime opens directories for listing itself",
        doc: "Open a directory (a handle of the filesystem's own for `readdir`).",
    },
    Op {
        name: "readdir",
        params: &[p!("path": "&Path" => PATH), p!("fh": "FileHandle" => FH)],
        takes_ctx: true,
        returns: result(
            "Vec<DirEntry>",
            "::std::vec::Vec<::fusegen::paths::DirEntry>",
        ),
        fallback: Fallback::Enosys,
        writes: false,
        requests: "READDIR, READDIRPLUS",
        default: "ENOSYS",
        doc: "The whole listing, without `.` and `..`; the runtime serves the kernel's offsets from it.",
    },
    Op {
        name: "releasedir",
        params: &[p!("path": "&Path" => PATH), p!("fh": "FileHandle" => FH)],
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
            p!("path": "&Path" => PATH),
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
        params: &[p!("path": "&Path" => PATH)],
        takes_ctx: true,
        returns: result("StatvfsData", "::fusegen::StatvfsData"),
        fallback: Fallback::Succeed,
        writes: false,
        requests: "STATFS",
        default: "zero sizes, 255-byte names",
        doc: "Filesystem statistics (`df`).",
    },
    Op {
        name: "setxattr",
        params: &[
            p!("path": "&Path" => PATH),
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
        params: &[p!("path": "&Path" => PATH), p!("name": "&OsStr" => OSSTR)],
        takes_ctx: true,
        returns: DATA,
        fallback: Fallback::Enosys,
        writes: false,
        requests: "GETXATTR",
        default: "ENOSYS: xattrs are unsupported (EOPNOTSUPP)",
        doc: "Value of an extended attribute (`ENODATA` if absent).",
    },
    Op {
        name: "listxattr",
        params: &[p!("path": "&Path" => PATH)],
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
        params: &[p!("path": "&Path" => PATH), p!("name": "&OsStr" => OSSTR)],
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
        params: &[p!("path": "&Path" => PATH), p!("mask": "i32" => "i32")],
        takes_ctx: true,
        returns: result("bool", "bool"),
        fallback: Fallback::Enosys,
        writes: false,
        requests: "ACCESS",
        default: "every access is granted",
        doc: "Check access for `access(2)`; `false` answers EACCES.",
    },
    Op {
        name: "create",
        params: &[
            p!("path": "&Path" => PATH),
            p!("mode": "u32" => "u32"),
            p!("flags": "i32" => "i32"),
        ],
        takes_ctx: true,
        returns: result(
            "(FileInfo, EntryAttributes)",
            "(::fusegen::FileInfo, ::fusegen::EntryAttributes)",
        ),
        fallback: Fallback::Enosys,
        writes: true,
        requests: "CREATE",
        default: "the kernel uses `mknod` then `open`",
        doc: "Create and open a file.",
    },
    Op {
        name: "fallocate",
        params: &[
            p!("path": "&Path" => PATH),
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
        doc: "Allocate or punch space.",
    },
];

/// Why an inode-level operation has no path-level handler.
pub fn why_inode_only(name: &str) -> &'static str {
    match name {
        "lookup" => {
            "the runtime looks names up itself and asks `getattr` for the path's attributes"
        }
        "forget" => "the runtime keeps the lookup counts and answers FORGET itself",
        "getlk" | "setlk" | "flock" => {
            "locks are left to the kernel, which is correct for a filesystem on one host"
        }
        "statx" => "the runtime answers STATX from `getattr`",
        _ => {
            "it has no path-level form; write an inode-level `#[fusegen::handlers]` block if you need it"
        }
    }
}
