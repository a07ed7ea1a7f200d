//! The rows: every option, the hints for names users bring from elsewhere, and the rules
//! between options and handlers.

use crate::{Check, Choice, DashO, Kind, OptionDef, Target};
use Kind::*;
use Target::*;

const U32: u64 = u32::MAX as u64;
const U16: u64 = u16::MAX as u64;

const MOUNT_METHODS: &[Choice] = &[
    Choice {
        name: "auto",
        variant: "Auto",
        aliases: &[],
    },
    Choice {
        name: "direct",
        variant: "Direct",
        aliases: &[],
    },
    Choice {
        name: "fusermount",
        variant: "Fusermount",
        aliases: &["fusermount3"],
    },
];

const TRANSPORTS: &[Choice] = &[
    Choice {
        name: "auto",
        variant: "Auto",
        aliases: &[],
    },
    Choice {
        name: "io_uring",
        variant: "IoUring",
        aliases: &["uring"],
    },
    Choice {
        name: "dev",
        variant: "Dev",
        aliases: &[],
    },
];

/// A row with the fields most rows share.
const ROW: OptionDef = OptionDef {
    id: Opt::Fsname,
    name: "",
    attribute: true,
    dash_o: DashO::None,
    kind: Flag,
    target: Macro,
    check: None,
    default: "",
    doc: "",
};

/// `Opt` and `OPTIONS` from one list, so that a symbol and its row cannot drift apart.
macro_rules! options {
    ($($id:ident { $($field:ident: $value:expr),* $(,)? })*) => {
        /// An option's symbol (`Opt::ReadOnly`); [`crate::def`] gives its row.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum Opt { $($id),* }

        /// Every option: first those of `#[fuse(...)]`, in the order of `docs/options.md`,
        /// then those only `-o` has (`attribute: false`).
        pub const OPTIONS: &[OptionDef] = &[$(OptionDef { id: Opt::$id, $($field: $value,)* ..ROW }),*];
    };
}

options! {
    Fsname {
        name: "fsname",
        dash_o: DashO::Value { name: "fsname", placeholder: "NAME" },
        kind: Str,
        target: OptionalField("fsname"),
        check: Some(Check::Fsname),
        default: "\"fusegen\"",
        doc: "Source shown by `mount` and `df`.",
    }
    Subtype {
        name: "subtype",
        dash_o: DashO::Value { name: "subtype", placeholder: "TYPE" },
        kind: Str,
        target: OptionalField("subtype"),
        check: Some(Check::Subtype),
        default: "none",
        doc: "Filesystem type shown as `fuse.TYPE`; letters, digits, `_`, `-`, `.`.",
    }
    ReadOnly {
        name: "read_only",
        dash_o: DashO::Flag { on: "ro", off: Some("rw") },
        kind: Flag,
        target: Field("read_only"),
        default: "false",
        doc: "Mount read-only: writes fail with EROFS before reaching the filesystem.",
    }
    DefaultPermissions {
        name: "default_permissions",
        dash_o: DashO::Flag { on: "default_permissions", off: Some("no_default_permissions") },
        kind: Flag,
        target: Field("default_permissions"),
        default: "true",
        doc: "The kernel checks permissions from the mode bits (pyfuse3's default); `= false` leaves checks to the handlers.",
    }
    AllowOther {
        name: "allow_other",
        dash_o: DashO::Flag { on: "allow_other", off: None },
        kind: Flag,
        target: Field("allow_other"),
        default: "false",
        doc: "Other users may access the mount (unprivileged mounts need `user_allow_other` in /etc/fuse.conf).",
    }
    AllowRoot {
        name: "allow_root",
        dash_o: DashO::Flag { on: "allow_root", off: None },
        kind: Flag,
        target: Field("allow_root"),
        default: "false",
        doc: "Root may access the mount as well as its owner; excludes `allow_other`.",
    }
    AutoUnmount {
        name: "auto_unmount",
        dash_o: DashO::Flag { on: "auto_unmount", off: None },
        kind: Flag,
        target: Field("auto_unmount"),
        default: "false",
        doc: "Unmount automatically when the process dies, even by `kill -9` (through fusermount3).",
    }
    AttrTimeout {
        name: "attr_timeout",
        dash_o: DashO::Value { name: "attr_timeout", placeholder: "SECS" },
        kind: Seconds,
        target: OptionalField("attr_timeout"),
        default: "per reply",
        doc: "How long the kernel caches attributes; overrides what handlers return.",
    }
    EntryTimeout {
        name: "entry_timeout",
        dash_o: DashO::Value { name: "entry_timeout", placeholder: "SECS" },
        kind: Seconds,
        target: OptionalField("entry_timeout"),
        default: "per reply",
        doc: "How long the kernel caches name lookups; overrides what handlers return.",
    }
    NegativeTimeout {
        name: "negative_timeout",
        dash_o: DashO::Value { name: "negative_timeout", placeholder: "SECS" },
        kind: Seconds,
        target: OptionalField("negative_timeout"),
        default: "per reply",
        doc: "How long the kernel caches \"no such entry\" answered with a negative entry.",
    }
    AcAttrTimeout {
        name: "ac_attr_timeout",
        dash_o: DashO::Value { name: "ac_attr_timeout", placeholder: "SECS" },
        kind: Seconds,
        target: OptionalField("ac_attr_timeout"),
        default: "attr_timeout",
        doc: "Attribute timeout used with `auto_cache`.",
    }
    WritebackCache {
        name: "writeback_cache",
        dash_o: DashO::Flag { on: "writeback_cache", off: None },
        kind: Flag,
        target: Field("writeback_cache"),
        default: "false",
        doc: "The kernel buffers writes and sends them later; needs `write`, `flush` and `fsync` handlers.",
    }
    DirectIo {
        name: "direct_io",
        dash_o: DashO::Flag { on: "direct_io", off: None },
        kind: Flag,
        target: Field("direct_io"),
        default: "false",
        doc: "Bypass the page cache for every file.",
    }
    KernelCache {
        name: "kernel_cache",
        dash_o: DashO::Flag { on: "kernel_cache", off: None },
        kind: Flag,
        target: Field("kernel_cache"),
        default: "false",
        doc: "Keep cached file data across opens (content never changes behind the kernel's back).",
    }
    AutoCache {
        name: "auto_cache",
        dash_o: DashO::Flag { on: "auto_cache", off: Some("noauto_cache") },
        kind: Flag,
        target: Field("auto_cache"),
        default: "false",
        doc: "Keep cached data across opens, dropping it when size or mtime change.",
    }
    CacheSymlinks {
        name: "cache_symlinks",
        dash_o: DashO::Flag { on: "cache_symlinks", off: None },
        kind: Flag,
        target: Field("cache_symlinks"),
        default: "false",
        doc: "The kernel caches `readlink` results; needs a `readlink` handler.",
    }
    SupportsDotLookup {
        name: "supports_dot_lookup",
        dash_o: DashO::Flag { on: "export_support", off: None },
        kind: Flag,
        target: Field("export_support"),
        default: "false",
        doc: "`lookup` answers `.` and `..` (needed for NFS export); needs a `lookup` handler.",
    }
    Acl {
        name: "acl",
        dash_o: DashO::Flag { on: "acl", off: None },
        kind: Flag,
        target: Field("acl"),
        default: "false",
        doc: "POSIX ACLs enforced by the kernel; needs `getxattr` and `setxattr` handlers.",
    }
    AtomicOTrunc {
        name: "atomic_o_trunc",
        dash_o: DashO::Flag { on: "atomic_o_trunc", off: None },
        kind: Flag,
        target: Field("atomic_o_trunc"),
        default: "false",
        doc: "`open` handles O_TRUNC itself (no separate truncating setattr); needs an `open` handler.",
    }
    Passthrough {
        name: "passthrough",
        dash_o: DashO::Flag { on: "passthrough", off: None },
        kind: Flag,
        target: Field("passthrough"),
        default: "false",
        doc: "Kernel passthrough (Linux 6.9+, root): opens that return a `BackingFile` are read and written by the kernel; excludes `writeback_cache`.",
    }
    HandleKillpriv {
        name: "handle_killpriv",
        dash_o: DashO::Flag { on: "handle_killpriv", off: Some("no_handle_killpriv") },
        kind: Flag,
        target: Field("handle_killpriv"),
        default: "true",
        doc: "The runtime clears setuid/setgid and `security.capability` on write, truncate and chown (with `getattr` and `setattr` handlers), so the kernel stops asking for `security.capability` before every write (`FUSE_HANDLE_KILLPRIV_V2`); `= false` leaves the clearing to the kernel. See docs/mount.md.",
    }
    MaxStackDepth {
        name: "max_stack_depth",
        dash_o: DashO::Value { name: "max_stack_depth", placeholder: "N" },
        kind: Int { min: 1, max: 2 },
        target: OptionalField("max_stack_depth"),
        default: "1",
        doc: "How many passthrough filesystems may stack on this one's backing files; needs `passthrough`.",
    }
    MaxWrite {
        name: "max_write",
        dash_o: DashO::Value { name: "max_write", placeholder: "N" },
        kind: Int { min: 4096, max: 16 << 20 },
        target: OptionalField("max_write"),
        default: "1048576",
        doc: "Largest WRITE request, in bytes (4 KiB to 16 MiB; the kernel may lower it).",
    }
    MaxRead {
        name: "max_read",
        dash_o: DashO::Value { name: "max_read", placeholder: "N" },
        kind: Int { min: 4096, max: U32 },
        target: OptionalField("max_read"),
        default: "none",
        doc: "Largest READ request, in bytes.",
    }
    MaxReadahead {
        name: "max_readahead",
        dash_o: DashO::Value { name: "max_readahead", placeholder: "N" },
        kind: Int { min: 0, max: U32 },
        target: OptionalField("max_readahead"),
        default: "kernel's",
        doc: "Largest readahead, in bytes.",
    }
    MaxBackground {
        name: "max_background",
        dash_o: DashO::Value { name: "max_background", placeholder: "N" },
        kind: Int { min: 1, max: U16 },
        target: OptionalField("max_background"),
        default: "kernel's (12)",
        doc: "Most background requests (readahead, async I/O) queued at once.",
    }
    CongestionThreshold {
        name: "congestion_threshold",
        dash_o: DashO::Value { name: "congestion_threshold", placeholder: "N" },
        kind: Int { min: 1, max: U16 },
        target: OptionalField("congestion_threshold"),
        default: "kernel's",
        doc: "Background requests at which the kernel considers the filesystem congested.",
    }
    Blksize {
        name: "blksize",
        dash_o: DashO::Value { name: "blksize", placeholder: "N" },
        kind: Int { min: 512, max: U32 },
        target: OptionalField("blksize"),
        check: Some(Check::PowerOfTwo),
        default: "none",
        doc: "Block size of block-device (fuseblk) mounts; a power of two.",
    }
    Umask {
        name: "umask",
        dash_o: DashO::Value { name: "umask", placeholder: "MASK" },
        kind: Mode,
        target: OptionalField("umask"),
        default: "none",
        doc: "Permission bits removed from every mode reported; write it in octal (`0o022`): `022` is refused, since Rust would read it as decimal while `-o umask=022` is octal.",
    }
    Uid {
        name: "uid",
        dash_o: DashO::Value { name: "uid", placeholder: "N" },
        kind: Int { min: 0, max: U32 },
        target: OptionalField("uid"),
        default: "none",
        doc: "Owner reported for every inode.",
    }
    Gid {
        name: "gid",
        dash_o: DashO::Value { name: "gid", placeholder: "N" },
        kind: Int { min: 0, max: U32 },
        target: OptionalField("gid"),
        default: "none",
        doc: "Group reported for every inode.",
    }
    UseIno {
        name: "use_ino",
        dash_o: DashO::Flag { on: "use_ino", off: None },
        kind: Flag,
        target: Field("use_ino"),
        default: "false",
        doc: "Accepted for compatibility: inode numbers always come from the handlers.",
    }
    ReaddirIno {
        name: "readdir_ino",
        dash_o: DashO::Flag { on: "readdir_ino", off: None },
        kind: Flag,
        target: Field("readdir_ino"),
        default: "false",
        doc: "Accepted for compatibility: readdir inode numbers always come from the handlers.",
    }
    Noforget {
        name: "noforget",
        dash_o: DashO::Flag { on: "noforget", off: None },
        kind: Flag,
        target: Field("noforget"),
        default: "false",
        doc: "Never call `forget`; excludes a `forget` handler.",
    }
    Intr {
        name: "intr",
        dash_o: DashO::Flag { on: "intr", off: None },
        kind: Flag,
        target: Field("intr"),
        default: "false",
        doc: "Interrupts are acted on.",
    }
    IntrSignal {
        name: "intr_signal",
        dash_o: DashO::Value { name: "intr_signal", placeholder: "N" },
        kind: Int { min: 1, max: 64 },
        target: OptionalField("intr_signal"),
        default: "none",
        doc: "Accepted for compatibility with libfuse and unused: fusegen sends no signal, it drops the handler's future (with `intr`).",
    }
    Debug {
        name: "debug",
        dash_o: DashO::Flag { on: "debug", off: None },
        kind: Flag,
        target: Field("debug"),
        default: "false",
        doc: "Log every request at debug level.",
    }
    Nonempty {
        name: "nonempty",
        dash_o: DashO::Flag { on: "nonempty", off: None },
        kind: Flag,
        target: Field("nonempty"),
        default: "false",
        doc: "Accepted for compatibility: FUSE 3 mounts over non-empty directories anyway.",
    }
    MountMethod {
        name: "mount_method",
        dash_o: DashO::Value { name: "mount_method", placeholder: "auto|direct|fusermount" },
        kind: OneOf { ty: "MountMethod", choices: MOUNT_METHODS },
        target: Field("method"),
        default: "\"auto\"",
        doc: "`direct` uses mount(2) (root), `fusermount` the fusermount3 helper, `auto` the first that works.",
    }
    Transport {
        name: "transport",
        dash_o: DashO::Value { name: "transport", placeholder: "auto|io_uring|dev" },
        kind: OneOf { ty: "Transport", choices: TRANSPORTS },
        target: OptionalField("transport"),
        default: "`FUSEGEN_TRANSPORT`, else \"auto\"",
        doc: "How requests travel: `io_uring` (FUSE-over-io_uring, Linux 6.14+ with the `fuse` module parameter `enable_uring=Y`; `main` fails if unavailable), `dev` (`/dev/fuse` only), or `auto` (io_uring when the kernel offers it). See docs/io_uring.md.",
    }
    UringQueueDepth {
        name: "uring_queue_depth",
        dash_o: DashO::Value { name: "uring_queue_depth", placeholder: "N" },
        kind: Int { min: 1, max: U16 },
        target: OptionalField("uring_queue_depth"),
        default: "16",
        doc: "io_uring entries per queue (one queue per possible CPU): requests one CPU's callers can have in the filesystem at once. Handlers running at once stay bounded by `max_tasks` too.",
    }
    MinTasks {
        name: "min_tasks",
        dash_o: DashO::None,
        kind: Int { min: 1, max: 1 << 16 },
        target: Workers("min"),
        default: "1",
        doc: "Worker tasks kept alive when idle (pyfuse3's `min_tasks`).",
    }
    MaxTasks {
        name: "max_tasks",
        dash_o: DashO::None,
        kind: Int { min: 1, max: 1 << 16 },
        target: Workers("max"),
        default: "99",
        doc: "Most requests served at once (pyfuse3's `max_tasks`).",
    }
    ShutdownGrace {
        name: "shutdown_grace",
        dash_o: DashO::None,
        kind: Seconds,
        target: Workers("grace"),
        default: "5",
        doc: "After `terminate()`, how long in-flight handlers may finish before they are cancelled.",
    }
    Crate {
        name: "crate",
        dash_o: DashO::None,
        kind: Path,
        target: Macro,
        default: "::fusegen",
        doc: "Path to the fusegen crate, for crates that re-export it.",
    }
    Stats {
        name: "stats",
        attribute: false,
        dash_o: DashO::Flag { on: "stats", off: None },
        kind: Flag,
        target: Field("stats"),
        default: "false",
        doc: "Programs built on `fusegen::cli` print per-operation request metrics on stderr when they exit.",
    }
    Suid {
        name: "suid",
        attribute: false,
        dash_o: DashO::Flag { on: "suid", off: Some("nosuid") },
        kind: Flag,
        target: Field("suid"),
        default: "false",
        doc: "Honour set-user-ID and set-group-ID bits.",
    }
    Dev {
        name: "dev",
        attribute: false,
        dash_o: DashO::Flag { on: "dev", off: Some("nodev") },
        kind: Flag,
        target: Field("dev"),
        default: "false",
        doc: "Allow device files.",
    }
    Noexec {
        name: "noexec",
        attribute: false,
        dash_o: DashO::Flag { on: "noexec", off: Some("exec") },
        kind: Flag,
        target: Field("noexec"),
        default: "false",
        doc: "Forbid executing programs from the mount.",
    }
    Sync {
        name: "sync",
        attribute: false,
        dash_o: DashO::Flag { on: "sync", off: Some("async") },
        kind: Flag,
        target: Field("sync"),
        default: "false",
        doc: "Writes are synchronous.",
    }
    Dirsync {
        name: "dirsync",
        attribute: false,
        dash_o: DashO::Flag { on: "dirsync", off: None },
        kind: Flag,
        target: Field("dirsync"),
        default: "false",
        doc: "Directory changes are synchronous.",
    }
    Noatime {
        name: "noatime",
        attribute: false,
        dash_o: DashO::Flag { on: "noatime", off: None },
        kind: Flag,
        target: Field("atime"),
        default: "false",
        doc: "Never update access times.",
    }
    Atime {
        name: "atime",
        attribute: false,
        dash_o: DashO::Flag { on: "atime", off: None },
        kind: Flag,
        target: Field("atime"),
        default: "false",
        doc: "Undoes `noatime` (back to `relatime`).",
    }
    Relatime {
        name: "relatime",
        attribute: false,
        dash_o: DashO::Flag { on: "relatime", off: None },
        kind: Flag,
        target: Field("atime"),
        default: "true",
        doc: "Update access times when older than the modification time or a day (the kernel's default).",
    }
    Strictatime {
        name: "strictatime",
        attribute: false,
        dash_o: DashO::Flag { on: "strictatime", off: None },
        kind: Flag,
        target: Field("atime"),
        default: "false",
        doc: "Update access times on every access.",
    }
    Nodiratime {
        name: "nodiratime",
        attribute: false,
        dash_o: DashO::Flag { on: "nodiratime", off: Some("diratime") },
        kind: Flag,
        target: Field("nodiratime"),
        default: "false",
        doc: "No access-time updates on directories.",
    }
    Lazytime {
        name: "lazytime",
        attribute: false,
        dash_o: DashO::Flag { on: "lazytime", off: Some("nolazytime") },
        kind: Flag,
        target: Field("lazytime"),
        default: "false",
        doc: "Keep timestamp updates in memory.",
    }
}

/// Options that `mount(8)`, `mount.fuse3`, fstab and systemd read and that mean nothing to the
/// filesystem; `mount.fuse3` passes some of them on, so `-o` accepts and ignores them, as
/// libfuse's `mount.fuse3` expects of a FUSE program (as are `comment=...` and `x-...`).
pub const IGNORED: &[&str] = &[
    "defaults", "_netdev", "nofail", "auto", "noauto", "user", "users", "nouser", "owner", "group",
];

/// What to suggest for a name users bring from elsewhere.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HintTo {
    /// That option, as the side spells it.
    Option(Opt),
    /// Both options.
    Both(Opt, Opt),
    /// The option set to this value (`mount_method = "direct"`).
    Set(Opt, &'static str),
    /// Advice, the same on both sides.
    Advice(&'static str),
}

/// Names users bring from libfuse, FUSE 2, pyfuse3 or other libraries, with what to write
/// instead. A hint whose option the side does not have is skipped there. The other side's
/// spelling of an option (`-o ro` in `#[fuse(...)]`) needs no row: `suggest` derives it.
pub const HINTS: &[(&str, HintTo)] = &[
    (
        "rw",
        HintTo::Advice("no option is needed, mounts are read-write unless `read_only` is set"),
    ),
    ("writeback", HintTo::Option(Opt::WritebackCache)),
    ("max_threads", HintTo::Option(Opt::MaxTasks)),
    ("threads", HintTo::Option(Opt::MaxTasks)),
    ("min_threads", HintTo::Option(Opt::MinTasks)),
    ("workers", HintTo::Both(Opt::MinTasks, Opt::MaxTasks)),
    ("timeout", HintTo::Both(Opt::AttrTimeout, Opt::EntryTimeout)),
    ("ttl", HintTo::Both(Opt::AttrTimeout, Opt::EntryTimeout)),
    ("name", HintTo::Option(Opt::Fsname)),
    ("posix_acl", HintTo::Option(Opt::Acl)),
    ("enable_acl", HintTo::Option(Opt::Acl)),
    (
        "enable_writeback_cache",
        HintTo::Option(Opt::WritebackCache),
    ),
    ("direct_mount", HintTo::Set(Opt::MountMethod, "direct")),
    ("fusermount", HintTo::Set(Opt::MountMethod, "fusermount")),
    ("keep_cache", HintTo::Option(Opt::KernelCache)),
    ("killpriv", HintTo::Option(Opt::HandleKillpriv)),
    ("handle_killpriv_v2", HintTo::Option(Opt::HandleKillpriv)),
    (
        "big_writes",
        HintTo::Advice("a FUSE 2 option: FUSE 3 always allows big writes, so remove it"),
    ),
    (
        "large_read",
        HintTo::Advice("obsolete since Linux 2.6, so remove it"),
    ),
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
/// Only the macros see handlers, so `-o` does not check these.
#[derive(Clone, Copy, Debug)]
pub struct HandlerRule {
    pub option: Opt,
    pub demand: Demand,
    /// Why, in the user's terms (shown as a note).
    pub why: &'static str,
    /// An option under which the rule does not apply (`passthrough`: the kernel reads and
    /// writes the backing files, so `read` and `write` handlers are optional).
    pub unless: Option<Opt>,
}

/// Every option↔handler rule.
pub const HANDLER_RULES: &[HandlerRule] = &[
    HandlerRule {
        option: Opt::WritebackCache,
        demand: Demand::Needs(&["write", "flush", "fsync"]),
        why: "the kernel keeps written data in its cache and sends it later through `write`; \
              without it writes succeed and the data is lost at writeback, and `flush` and \
              `fsync` are how close(2) and fsync(2) reach the filesystem",
        unless: None,
    },
    HandlerRule {
        option: Opt::CacheSymlinks,
        demand: Demand::Needs(&["readlink"]),
        why: "the kernel caches what `readlink` returns; there is nothing to cache without it",
        unless: None,
    },
    HandlerRule {
        option: Opt::SupportsDotLookup,
        demand: Demand::Needs(&["lookup"]),
        why: "the kernel (e.g. for NFS export) looks up `.` and `..` through `lookup`",
        unless: None,
    },
    HandlerRule {
        option: Opt::Acl,
        demand: Demand::Needs(&["getxattr", "setxattr"]),
        why: "POSIX ACLs are stored as the extended attributes `system.posix_acl_*`",
        unless: None,
    },
    HandlerRule {
        option: Opt::AtomicOTrunc,
        demand: Demand::Needs(&["open"]),
        why: "the kernel leaves `O_TRUNC` to `open` instead of sending a truncating `setattr`; \
              without an `open` handler files opened with `O_TRUNC` are not truncated",
        unless: None,
    },
    HandlerRule {
        option: Opt::HandleKillpriv,
        demand: Demand::Needs(&["getattr", "setattr"]),
        why: "the runtime reads the mode and clears setuid/setgid through them",
        unless: None,
    },
    HandlerRule {
        option: Opt::Passthrough,
        demand: Demand::Needs(&["open"]),
        why: "a file is passed through when `open` returns a `BackingFile`",
        unless: None,
    },
    HandlerRule {
        option: Opt::KernelCache,
        demand: Demand::Needs(&["read"]),
        why: "the page cache holds what `read` returns; there is no file data to keep without it",
        unless: Some(Opt::Passthrough),
    },
    HandlerRule {
        option: Opt::AutoCache,
        demand: Demand::Needs(&["read"]),
        why: "the page cache holds what `read` returns; there is no file data to keep without it",
        unless: Some(Opt::Passthrough),
    },
    HandlerRule {
        option: Opt::MaxRead,
        demand: Demand::Needs(&["read"]),
        why: "it limits READ requests, which only a `read` handler serves",
        unless: Some(Opt::Passthrough),
    },
    HandlerRule {
        option: Opt::MaxReadahead,
        demand: Demand::Needs(&["read"]),
        why: "readahead is served by `read`",
        unless: Some(Opt::Passthrough),
    },
    HandlerRule {
        option: Opt::MaxWrite,
        demand: Demand::Needs(&["write"]),
        why: "it limits WRITE requests, which only a `write` handler serves",
        unless: Some(Opt::Passthrough),
    },
    HandlerRule {
        option: Opt::Noforget,
        demand: Demand::Excludes("forget"),
        why: "with `noforget` the kernel never sends FORGET",
        unless: None,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DashO, Side, def, find_dash_o};

    #[test]
    fn rows_follow_the_symbols() {
        for (i, o) in OPTIONS.iter().enumerate() {
            assert_eq!(o.id as usize, i, "`{}` is out of place", o.name);
            assert_eq!(def(o.id).name, o.name);
        }
    }

    #[test]
    fn names_are_unique_on_each_side() {
        let mut attribute: Vec<&str> = OPTIONS
            .iter()
            .filter_map(|o| o.name_on(Side::Attribute))
            .collect();
        let mut dash_o: Vec<&str> = OPTIONS
            .iter()
            .flat_map(|o| match o.dash_o {
                DashO::None => vec![],
                DashO::Flag { on, off } => [Some(on), off].into_iter().flatten().collect(),
                DashO::Value { name, .. } => vec![name],
            })
            .chain(IGNORED.iter().copied())
            .collect();
        for names in [&mut attribute, &mut dash_o] {
            let n = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), n, "a name is used twice: {names:?}");
        }
        assert!(find_dash_o("ro").is_some() && find_dash_o("read_only").is_none());
    }

    #[test]
    fn every_option_has_a_side_and_docs() {
        for o in OPTIONS {
            assert!(
                o.attribute || o.dash_o != DashO::None,
                "`{}` has no spelling",
                o.name
            );
            assert!(!o.doc.is_empty() && !o.default.is_empty(), "`{}`", o.name);
        }
    }
}
