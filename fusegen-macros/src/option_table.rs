//! THE table of `#[fuse(...)]` options: name, value kind, where it goes, documentation.
//!
//! Pure data with no dependency on `syn`, so the documentation test can include this file and
//! check `docs/options.md` against it.

/// The kind of value an option takes, with its allowed range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// `name` alone means true; `name = true|false` also accepted.
    Flag,
    /// Seconds as an integer or float literal, at least 0.
    Seconds,
    /// A string literal.
    Str,
    /// An unsigned integer literal in `min..=max`.
    Int { min: u64, max: u64 },
    /// File mode bits written as an integer literal (usually octal: `0o022`), at most `0o7777`.
    Mode,
    /// One of the listed string literals.
    OneOf(&'static [&'static str]),
    /// A path (`crate = "::my::fusegen"`).
    Path,
}

/// Where an option's value goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    /// A field of `fusegen::MountOptions`.
    Mount(&'static str),
    /// A field of `fusegen::Workers`.
    Workers(&'static str),
    /// Read by the macros themselves.
    Macro,
}

/// One option.
pub struct OptionDef {
    pub name: &'static str,
    pub kind: Kind,
    pub target: Target,
    /// The equivalent `-o` mount option, if there is one.
    #[allow(dead_code)] // read by the documentation test
    pub mount_option: &'static str,
    #[allow(dead_code)] // read by the documentation test
    pub default: &'static str,
    #[allow(dead_code)] // read by the documentation test
    pub doc: &'static str,
}

const U32: u64 = u32::MAX as u64;
const U16: u64 = u16::MAX as u64;

macro_rules! opt {
    ($name:literal, $kind:expr, $target:expr, $mo:literal, $default:literal, $doc:literal) => {
        OptionDef {
            name: $name,
            kind: $kind,
            target: $target,
            mount_option: $mo,
            default: $default,
            doc: $doc,
        }
    };
}

use Kind::*;
use Target::*;

/// Every option, in the order of `docs/options.md`.
pub const OPTIONS: &[OptionDef] = &[
    opt!(
        "fsname",
        Str,
        Mount("fsname"),
        "fsname=NAME",
        "\"fusegen\"",
        "Source shown by `mount` and `df`."
    ),
    opt!(
        "subtype",
        Str,
        Mount("subtype"),
        "subtype=TYPE",
        "none",
        "Filesystem type shown as `fuse.TYPE`; letters, digits, `_`, `-`, `.`."
    ),
    opt!(
        "read_only",
        Flag,
        Mount("read_only"),
        "ro",
        "false",
        "Mount read-only: writes fail with EROFS before reaching the filesystem."
    ),
    opt!(
        "default_permissions",
        Flag,
        Mount("default_permissions"),
        "default_permissions",
        "true",
        "The kernel checks permissions from the mode bits (pyfuse3's default); `= false` leaves checks to the handlers."
    ),
    opt!(
        "allow_other",
        Flag,
        Mount("allow_other"),
        "allow_other",
        "false",
        "Other users may access the mount (unprivileged mounts need `user_allow_other` in /etc/fuse.conf)."
    ),
    opt!(
        "allow_root",
        Flag,
        Mount("allow_root"),
        "allow_root",
        "false",
        "Root may access the mount as well as its owner; excludes `allow_other`."
    ),
    opt!(
        "auto_unmount",
        Flag,
        Mount("auto_unmount"),
        "auto_unmount",
        "false",
        "Unmount automatically when the process dies, even by `kill -9` (through fusermount3)."
    ),
    opt!(
        "attr_timeout",
        Seconds,
        Mount("attr_timeout"),
        "attr_timeout=SECS",
        "per reply",
        "How long the kernel caches attributes; overrides what handlers return."
    ),
    opt!(
        "entry_timeout",
        Seconds,
        Mount("entry_timeout"),
        "entry_timeout=SECS",
        "per reply",
        "How long the kernel caches name lookups; overrides what handlers return."
    ),
    opt!(
        "negative_timeout",
        Seconds,
        Mount("negative_timeout"),
        "negative_timeout=SECS",
        "per reply",
        "How long the kernel caches \"no such entry\" answered with a negative entry."
    ),
    opt!(
        "ac_attr_timeout",
        Seconds,
        Mount("ac_attr_timeout"),
        "ac_attr_timeout=SECS",
        "attr_timeout",
        "Attribute timeout used with `auto_cache`."
    ),
    opt!(
        "writeback_cache",
        Flag,
        Mount("writeback_cache"),
        "writeback_cache",
        "false",
        "The kernel buffers writes and sends them later; needs `write`, `flush` and `fsync` handlers."
    ),
    opt!(
        "direct_io",
        Flag,
        Mount("direct_io"),
        "direct_io",
        "false",
        "Bypass the page cache for every file."
    ),
    opt!(
        "kernel_cache",
        Flag,
        Mount("kernel_cache"),
        "kernel_cache",
        "false",
        "Keep cached file data across opens (content never changes behind the kernel's back)."
    ),
    opt!(
        "auto_cache",
        Flag,
        Mount("auto_cache"),
        "auto_cache",
        "false",
        "Keep cached data across opens, dropping it when size or mtime change."
    ),
    opt!(
        "cache_symlinks",
        Flag,
        Mount("cache_symlinks"),
        "",
        "false",
        "The kernel caches `readlink` results; needs a `readlink` handler."
    ),
    opt!(
        "supports_dot_lookup",
        Flag,
        Mount("export_support"),
        "",
        "false",
        "`lookup` answers `.` and `..` (needed for NFS export); needs a `lookup` handler."
    ),
    opt!(
        "acl",
        Flag,
        Mount("acl"),
        "",
        "false",
        "POSIX ACLs enforced by the kernel; needs `getxattr` and `setxattr` handlers."
    ),
    opt!(
        "atomic_o_trunc",
        Flag,
        Mount("atomic_o_trunc"),
        "",
        "false",
        "`open` handles O_TRUNC itself (no separate truncating setattr); needs an `open` handler."
    ),
    opt!(
        "passthrough",
        Flag,
        Mount("passthrough"),
        "passthrough",
        "false",
        "Kernel passthrough (Linux 6.9+, root): opens that return a `BackingFile` are read and written by the kernel; excludes `writeback_cache`."
    ),
    opt!(
        "handle_killpriv",
        Flag,
        Mount("handle_killpriv"),
        "handle_killpriv",
        "true",
        "The runtime clears setuid/setgid and `security.capability` on write, truncate and chown (with `getattr` and `setattr` handlers), so the kernel stops asking for `security.capability` before every write (`FUSE_HANDLE_KILLPRIV_V2`); `= false` leaves the clearing to the kernel. See docs/mount.md."
    ),
    opt!(
        "max_stack_depth",
        Int { min: 1, max: 2 },
        Mount("max_stack_depth"),
        "max_stack_depth=N",
        "1",
        "How many passthrough filesystems may stack on this one's backing files; needs `passthrough`."
    ),
    opt!(
        "max_write",
        Int {
            min: 4096,
            max: 16 << 20
        },
        Mount("max_write"),
        "max_write=N",
        "1048576",
        "Largest WRITE request, in bytes (4 KiB to 16 MiB; the kernel may lower it)."
    ),
    opt!(
        "max_read",
        Int {
            min: 4096,
            max: U32
        },
        Mount("max_read"),
        "max_read=N",
        "none",
        "Largest READ request, in bytes."
    ),
    opt!(
        "max_readahead",
        Int { min: 0, max: U32 },
        Mount("max_readahead"),
        "max_readahead=N",
        "kernel's",
        "Largest readahead, in bytes."
    ),
    opt!(
        "max_background",
        Int { min: 1, max: U16 },
        Mount("max_background"),
        "max_background=N",
        "kernel's (12)",
        "Most background requests (readahead, async I/O) queued at once."
    ),
    opt!(
        "congestion_threshold",
        Int { min: 1, max: U16 },
        Mount("congestion_threshold"),
        "congestion_threshold=N",
        "kernel's",
        "Background requests at which the kernel considers the filesystem congested."
    ),
    opt!(
        "blksize",
        Int { min: 512, max: U32 },
        Mount("blksize"),
        "blksize=N",
        "none",
        "Block size of block-device (fuseblk) mounts."
    ),
    opt!(
        "umask",
        Mode,
        Mount("umask"),
        "umask=MASK",
        "none",
        "Permission bits removed from every mode reported; write it in octal (`0o022`): `022` is refused, since Rust would read it as decimal while `-o umask=022` is octal."
    ),
    opt!(
        "uid",
        Int { min: 0, max: U32 },
        Mount("uid"),
        "uid=N",
        "none",
        "Owner reported for every inode."
    ),
    opt!(
        "gid",
        Int { min: 0, max: U32 },
        Mount("gid"),
        "gid=N",
        "none",
        "Group reported for every inode."
    ),
    opt!(
        "use_ino",
        Flag,
        Mount("use_ino"),
        "use_ino",
        "false",
        "Accepted for compatibility: inode numbers always come from the handlers."
    ),
    opt!(
        "readdir_ino",
        Flag,
        Mount("readdir_ino"),
        "readdir_ino",
        "false",
        "Accepted for compatibility: readdir inode numbers always come from the handlers."
    ),
    opt!(
        "noforget",
        Flag,
        Mount("noforget"),
        "noforget",
        "false",
        "Never call `forget`; excludes a `forget` handler."
    ),
    opt!(
        "intr",
        Flag,
        Mount("intr"),
        "intr",
        "false",
        "Interrupts are acted on."
    ),
    opt!(
        "intr_signal",
        Int { min: 1, max: 64 },
        Mount("intr_signal"),
        "intr_signal=N",
        "none",
        "Accepted for compatibility with libfuse and unused: fusegen sends no signal, it drops the handler's future (with `intr`)."
    ),
    opt!(
        "debug",
        Flag,
        Mount("debug"),
        "debug",
        "false",
        "Log every request at debug level."
    ),
    opt!(
        "nonempty",
        Flag,
        Mount("nonempty"),
        "nonempty",
        "false",
        "Accepted for compatibility: FUSE 3 mounts over non-empty directories anyway."
    ),
    opt!(
        "mount_method",
        OneOf(&["auto", "direct", "fusermount"]),
        Mount("method"),
        "mount_method=M",
        "\"auto\"",
        "`direct` uses mount(2) (root), `fusermount` the fusermount3 helper, `auto` the first that works."
    ),
    opt!(
        "transport",
        OneOf(&["auto", "io_uring", "dev"]),
        Mount("transport"),
        "transport=T",
        "`FUSEGEN_TRANSPORT`, else \"auto\"",
        "How requests travel: `io_uring` (FUSE-over-io_uring, Linux 6.14+ with the `fuse` module parameter `enable_uring=Y`; `main` fails if unavailable), `dev` (`/dev/fuse` only), or `auto` (io_uring when the kernel offers it). See docs/io_uring.md."
    ),
    opt!(
        "uring_queue_depth",
        Int { min: 1, max: U16 },
        Mount("uring_queue_depth"),
        "uring_queue_depth=N",
        "16",
        "io_uring entries per queue (one queue per possible CPU): requests one CPU's callers can have in the filesystem at once. Handlers running at once stay bounded by `max_tasks` too."
    ),
    opt!(
        "min_tasks",
        Int {
            min: 1,
            max: 1 << 16
        },
        Workers("min"),
        "",
        "1",
        "Worker tasks kept alive when idle (pyfuse3's `min_tasks`)."
    ),
    opt!(
        "max_tasks",
        Int {
            min: 1,
            max: 1 << 16
        },
        Workers("max"),
        "",
        "99",
        "Most requests served at once (pyfuse3's `max_tasks`)."
    ),
    opt!(
        "shutdown_grace",
        Seconds,
        Workers("grace"),
        "",
        "5",
        "After `terminate()`, how long in-flight handlers may finish before they are cancelled."
    ),
    opt!(
        "crate",
        Path,
        Macro,
        "",
        "::fusegen",
        "Path to the fusegen crate, for crates that re-export it."
    ),
];

/// The option called `name`.
pub fn find(name: &str) -> Option<&'static OptionDef> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// Names users bring from libfuse `-o` options or other libraries, with what to write instead.
pub const HINTS: &[(&str, &str)] = &[
    ("ro", "`read_only`"),
    (
        "rw",
        "nothing: mounts are read-write unless `read_only` is set",
    ),
    ("writeback", "`writeback_cache`"),
    ("max_threads", "`max_tasks`"),
    ("threads", "`max_tasks`"),
    ("min_threads", "`min_tasks`"),
    ("workers", "`min_tasks` and `max_tasks`"),
    ("timeout", "`attr_timeout` and `entry_timeout`"),
    ("ttl", "`attr_timeout` and `entry_timeout`"),
    ("name", "`fsname`"),
    ("export_support", "`supports_dot_lookup`"),
    ("posix_acl", "`acl`"),
    ("enable_acl", "`acl`"),
    ("enable_writeback_cache", "`writeback_cache`"),
    ("direct_mount", "`mount_method = \"direct\"`"),
    ("fusermount", "`mount_method = \"fusermount\"`"),
    ("keep_cache", "`kernel_cache`"),
    ("killpriv", "`handle_killpriv`"),
    ("handle_killpriv_v2", "`handle_killpriv`"),
    ("no_handle_killpriv", "`handle_killpriv = false`"),
];

/// What an option demands of the handler set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Demand {
    /// Every listed handler must be written.
    Needs(&'static [&'static str]),
    /// The handler must not be written.
    Excludes(&'static str),
}

/// An option that is meaningless or dangerous with the wrong handler set; checked at compile
/// time on the option's span when the option is on (a flag set to true, or a value given).
pub struct HandlerRule {
    pub option: &'static str,
    pub demand: Demand,
    /// Why, in the user's terms (shown as a note).
    pub why: &'static str,
    /// An option under which the rule does not apply (`passthrough`: the kernel reads and
    /// writes the backing files, so `read` and `write` handlers are optional).
    pub unless: Option<&'static str>,
}

/// Every option↔handler rule.
pub const HANDLER_RULES: &[HandlerRule] = &[
    HandlerRule {
        option: "writeback_cache",
        demand: Demand::Needs(&["write", "flush", "fsync"]),
        why: "the kernel keeps written data in its cache and sends it later through `write`; \
              without it writes succeed and the data is lost at writeback, and `flush` and \
              `fsync` are how close(2) and fsync(2) reach the filesystem",
        unless: None,
    },
    HandlerRule {
        option: "cache_symlinks",
        demand: Demand::Needs(&["readlink"]),
        why: "the kernel caches what `readlink` returns; there is nothing to cache without it",
        unless: None,
    },
    HandlerRule {
        option: "supports_dot_lookup",
        demand: Demand::Needs(&["lookup"]),
        why: "the kernel (e.g. for NFS export) looks up `.` and `..` through `lookup`",
        unless: None,
    },
    HandlerRule {
        option: "acl",
        demand: Demand::Needs(&["getxattr", "setxattr"]),
        why: "POSIX ACLs are stored as the extended attributes `system.posix_acl_*`",
        unless: None,
    },
    HandlerRule {
        option: "atomic_o_trunc",
        demand: Demand::Needs(&["open"]),
        why: "the kernel leaves `O_TRUNC` to `open` instead of sending a truncating `setattr`; \
              without an `open` handler files opened with `O_TRUNC` are not truncated",
        unless: None,
    },
    HandlerRule {
        option: "handle_killpriv",
        demand: Demand::Needs(&["getattr", "setattr"]),
        why: "the runtime reads the mode and clears setuid/setgid through them",
        unless: None,
    },
    HandlerRule {
        option: "passthrough",
        demand: Demand::Needs(&["open"]),
        why: "a file is passed through when `open` returns a `BackingFile`",
        unless: None,
    },
    HandlerRule {
        option: "kernel_cache",
        demand: Demand::Needs(&["read"]),
        why: "the page cache holds what `read` returns; there is no file data to keep without it",
        unless: Some("passthrough"),
    },
    HandlerRule {
        option: "auto_cache",
        demand: Demand::Needs(&["read"]),
        why: "the page cache holds what `read` returns; there is no file data to keep without it",
        unless: Some("passthrough"),
    },
    HandlerRule {
        option: "max_read",
        demand: Demand::Needs(&["read"]),
        why: "it limits READ requests, which only a `read` handler serves",
        unless: Some("passthrough"),
    },
    HandlerRule {
        option: "max_readahead",
        demand: Demand::Needs(&["read"]),
        why: "readahead is served by `read`",
        unless: Some("passthrough"),
    },
    HandlerRule {
        option: "max_write",
        demand: Demand::Needs(&["write"]),
        why: "it limits WRITE requests, which only a `write` handler serves",
        unless: Some("passthrough"),
    },
    HandlerRule {
        option: "noforget",
        demand: Demand::Excludes("forget"),
        why: "with `noforget` the kernel never sends FORGET",
        unless: None,
    },
];
