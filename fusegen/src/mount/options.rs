//! `MountOptions` and `MountMethod`: what the caller asks for, as plain fields, plus builder
//! setters and the cross-option checks (`validate`).
//!
//! The `-o` text grammar lives in `parse.rs`; turning options into a kernel data string or a
//! `fusermount3 -o` string lives in `direct.rs` and `fusermount.rs`.

use std::fmt;
use std::time::Duration;

use super::MountError;

/// How to get the filesystem mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MountMethod {
    /// Mount directly when privileged, otherwise (on `EPERM`/`EACCES`) through `fusermount3`.
    /// `auto_unmount` always goes through `fusermount3`.
    #[default]
    Auto,
    /// Open `/dev/fuse` and call `mount(2)` ourselves; needs `CAP_SYS_ADMIN` (root).
    Direct,
    /// Let the setuid helper `fusermount3` mount and hand us the device over a socket.
    Fusermount,
}

impl fmt::Display for MountMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MountMethod::Auto => "auto",
            MountMethod::Direct => "direct",
            MountMethod::Fusermount => "fusermount",
        })
    }
}

/// When the kernel updates access times: the `noatime` / `relatime` / `strictatime` mount
/// options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Atime {
    /// `relatime` (the kernel's default): only when older than the modification time or a day.
    #[default]
    Relatime,
    /// `noatime` (`MS_NOATIME`): never.
    Noatime,
    /// `strictatime` (`MS_STRICTATIME`): on every access.
    Strictatime,
}

/// Mount options, libfuse-compatible.
///
/// Build them with [`MountOptions::parse`] from `-o` style text, or start from
/// [`MountOptions::default`] (pyfuse3's `default_options`: only `default_permissions` on) and
/// change fields or use the builder setters. Options marked *runtime* are not passed to the
/// kernel's mount call; the session applies them while serving requests.
///
/// ```
/// use fusegen::MountOptions;
///
/// let opts = MountOptions::parse(["ro,fsname=demo", "allow_other"])?;
/// assert!(opts.read_only && opts.allow_other && opts.default_permissions);
/// assert_eq!(opts.fsname.as_deref(), Some("demo"));
///
/// let built = MountOptions::default().read_only(true).fsname("demo");
/// assert_eq!(built.fsname, opts.fsname);
/// # Ok::<(), fusegen::MountError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MountOptions {
    // ---- passed to the kernel / fusermount3 ----
    /// `default_permissions`: the kernel checks file modes against the caller before sending
    /// requests. On by default; `no_default_permissions` turns it off.
    pub default_permissions: bool,
    /// `allow_other`: users other than the mounting one may access the filesystem. For a
    /// non-root user, `fusermount3` requires `user_allow_other` in `/etc/fuse.conf`.
    pub allow_other: bool,
    /// `allow_root`: like `allow_other` for root only. The kernel is told `allow_other`;
    /// refusing requests from anyone but the mounting user and root (`EACCES`, as libfuse
    /// does) is the session's job. Conflicts with `allow_other`.
    pub allow_root: bool,
    /// `ro` / `rw`: mount read-only (`MS_RDONLY`). Default `rw`; the last of the two wins.
    pub read_only: bool,
    /// `fsname=NAME`: the "device" column of `mount`/`df`. Default `fusegen`.
    pub fsname: Option<String>,
    /// `subtype=TYPE`: the filesystem type becomes `fuse.TYPE`. Only `[A-Za-z0-9_.-]`.
    pub subtype: Option<String>,
    /// `nonempty`: accepted and ignored. FUSE 3 always allows mounting over a non-empty
    /// directory (libfuse dropped the check), so there is nothing to switch on.
    pub nonempty: bool,
    /// `auto_unmount`: `fusermount3` stays alive and unmounts when this process exits, even
    /// if it is killed. Forces the `fusermount3` method.
    pub auto_unmount: bool,
    /// `max_read=N`: the largest read request the kernel will send, in bytes.
    pub max_read: Option<u32>,
    /// `blksize=N`: block size, a power of two of at least 512. Linux accepts it only for
    /// block-device (`fuseblk`) mounts, so a plain FUSE mount with it fails with
    /// [`MountError::InvalidOption`].
    pub blksize: Option<u32>,
    /// `debug`: the runtime logs every request and reply at `debug` level.
    pub debug: bool,

    // ---- generic mount flags (`mount(8)`), visible in /proc/mounts ----
    /// `suid` / `nosuid`: honour set-user-ID and set-group-ID bits. Default off (`nosuid`),
    /// as libfuse and fusermount3 mount; `mount.fuse3` passes `suid` when root mounts.
    /// fusermount3 ignores it for unprivileged users.
    pub suid: bool,
    /// `dev` / `nodev`: allow device files. Default off (`nodev`); `mount.fuse3` passes `dev`
    /// when root mounts. fusermount3 ignores it for unprivileged users.
    pub dev: bool,
    /// `noexec` / `exec`: forbid executing programs from the mount (`MS_NOEXEC`).
    pub noexec: bool,
    /// `sync` / `async`: writes are synchronous (`MS_SYNCHRONOUS`).
    pub sync: bool,
    /// `dirsync`: directory changes are synchronous (`MS_DIRSYNC`).
    pub dirsync: bool,
    /// `noatime`, `relatime`, `strictatime` (and `atime`, which undoes `noatime`): when the
    /// kernel updates access times.
    pub atime: Atime,
    /// `nodiratime` / `diratime`: no access-time updates on directories (`MS_NODIRATIME`).
    pub nodiratime: bool,
    /// `lazytime` / `nolazytime`: keep timestamp updates in memory (`MS_LAZYTIME`).
    pub lazytime: bool,

    // ---- runtime: applied by the session ----
    /// `use_ino` (runtime): accepted for compatibility. fusegen always reports the
    /// filesystem's own inode numbers, so it changes nothing.
    pub use_ino: bool,
    /// `readdir_ino` (runtime): accepted for compatibility; as for `use_ino`, readdir entries
    /// always carry the filesystem's inode numbers.
    pub readdir_ino: bool,
    /// `direct_io` (runtime): open every file with `FOPEN_DIRECT_IO`, bypassing the page cache.
    pub direct_io: bool,
    /// `kernel_cache` (runtime): open every file with `FOPEN_KEEP_CACHE`, keeping cached data
    /// across opens.
    pub kernel_cache: bool,
    /// `auto_cache` / `noauto_cache` (runtime): drop cached data when a file's size or
    /// modification time changes. Default off.
    pub auto_cache: bool,
    /// `umask=OCTAL` (runtime): mask applied to the mode of every attribute reply.
    pub umask: Option<u32>,
    /// `uid=N` (runtime): report this owner for every file.
    pub uid: Option<u32>,
    /// `gid=N` (runtime): report this group for every file.
    pub gid: Option<u32>,
    /// `entry_timeout=SECS` (runtime): override how long the kernel caches names.
    pub entry_timeout: Option<Duration>,
    /// `attr_timeout=SECS` (runtime): override how long the kernel caches attributes.
    pub attr_timeout: Option<Duration>,
    /// `ac_attr_timeout=SECS` (runtime): with `auto_cache`, how often attributes are
    /// re-checked for changes (defaults to `attr_timeout`).
    pub ac_attr_timeout: Option<Duration>,
    /// `negative_timeout=SECS` (runtime): how long the kernel caches "no such file" answers.
    pub negative_timeout: Option<Duration>,
    /// `noforget` (runtime): never forget inodes (debugging aid; memory grows).
    pub noforget: bool,
    /// `intr` (runtime): interrupt a handler when the kernel sends `FUSE_INTERRUPT`.
    pub intr: bool,
    /// `intr_signal=N` (runtime): accepted for compatibility with libfuse (1..=64) and unused:
    /// libfuse signals the thread serving an interrupted request, fusegen sends no signal.
    pub intr_signal: Option<i32>,
    /// `writeback_cache` (runtime): ask for the kernel's write-back cache at INIT.
    pub writeback_cache: bool,
    /// `export_support` (runtime): `lookup` answers `.` and `..`, so the mount can be
    /// exported over NFS (`FUSE_EXPORT_SUPPORT`; pyfuse3's `supports_dot_lookup`).
    pub export_support: bool,
    /// `cache_symlinks` (runtime): the kernel may cache `readlink` results.
    pub cache_symlinks: bool,
    /// `acl` (runtime): the kernel enforces POSIX ACLs stored as `system.posix_acl_*` xattrs.
    pub acl: bool,
    /// `atomic_o_trunc` (runtime): `open` handles `O_TRUNC` itself, so the kernel sends no
    /// separate truncating `setattr`.
    pub atomic_o_trunc: bool,
    /// `passthrough` (runtime): ask for kernel passthrough (Linux 6.9+, root), so opens that
    /// return a [`BackingFile`](crate::BackingFile) are read and written by the kernel directly.
    /// Not compatible with `writeback_cache`.
    pub passthrough: bool,
    /// `handle_killpriv` / `no_handle_killpriv` (runtime): on by default. The runtime clears
    /// setuid/setgid (and `security.capability`) on write, truncate and chown itself, so the
    /// kernel can be granted `FUSE_HANDLE_KILLPRIV_V2` and stops asking for
    /// `security.capability` before writes. Takes effect only for filesystems with `getattr`
    /// and `setattr` handlers. Off: the kernel clears the bits with its own SETATTR, probing
    /// the xattr (one GETXATTR when the filesystem has `getxattr`) on every write.
    pub handle_killpriv: bool,
    /// `max_stack_depth=N` (runtime, 1 or 2): how many passthrough filesystems may be stacked
    /// on top of this one's backing files; 1 when unset.
    pub max_stack_depth: Option<u32>,
    /// `max_write=N` (runtime): the largest write request to accept, in bytes.
    pub max_write: Option<u32>,
    /// `max_readahead=N` (runtime): the readahead limit to negotiate at INIT, in bytes.
    pub max_readahead: Option<u32>,
    /// `max_background=N` (runtime): how many background requests the kernel may queue.
    pub max_background: Option<u16>,
    /// `congestion_threshold=N` (runtime): queued background requests at which the kernel
    /// considers the filesystem congested.
    pub congestion_threshold: Option<u16>,

    /// `transport=auto|io_uring|dev` (runtime): how requests travel, see [`Transport`].
    /// Unset means the `FUSEGEN_TRANSPORT` environment variable, else `auto`.
    pub transport: Option<Transport>,
    /// `stats` (runtime): programs built on `fusegen::cli` print the per-operation request
    /// metrics ([`SessionHandle::metrics`](crate::SessionHandle::metrics)) on stderr when they
    /// exit. The metrics are collected either way.
    pub stats: bool,
    /// `uring_queue_depth=N` (runtime): io_uring entries per queue (one queue per possible
    /// CPU); 16 when unset. Handlers running at once stay bounded by `max_tasks` as well.
    pub uring_queue_depth: Option<u16>,

    // ---- how to mount ----
    /// `mount_method=auto|direct|fusermount`: see [`MountMethod`]. Default `auto`.
    pub method: MountMethod,
}

impl Default for MountOptions {
    /// pyfuse3's `default_options`: `default_permissions` on, and fusegen's `handle_killpriv`;
    /// everything else off or unset.
    fn default() -> Self {
        MountOptions {
            default_permissions: true,
            allow_other: false,
            allow_root: false,
            read_only: false,
            fsname: None,
            subtype: None,
            nonempty: false,
            auto_unmount: false,
            max_read: None,
            blksize: None,
            debug: false,
            suid: false,
            dev: false,
            noexec: false,
            sync: false,
            dirsync: false,
            atime: Atime::Relatime,
            nodiratime: false,
            lazytime: false,
            use_ino: false,
            readdir_ino: false,
            direct_io: false,
            kernel_cache: false,
            auto_cache: false,
            umask: None,
            uid: None,
            gid: None,
            entry_timeout: None,
            attr_timeout: None,
            ac_attr_timeout: None,
            negative_timeout: None,
            noforget: false,
            intr: false,
            intr_signal: None,
            writeback_cache: false,
            export_support: false,
            cache_symlinks: false,
            acl: false,
            atomic_o_trunc: false,
            passthrough: false,
            handle_killpriv: true,
            max_stack_depth: None,
            max_write: None,
            max_readahead: None,
            max_background: None,
            congestion_threshold: None,
            transport: None,
            stats: false,
            uring_queue_depth: None,
            method: MountMethod::Auto,
        }
    }
}

/// Builder setters for the common options; each returns the options for chaining.
impl MountOptions {
    /// Sets `default_permissions`.
    pub fn default_permissions(mut self, on: bool) -> Self {
        self.default_permissions = on;
        self
    }

    /// Sets `allow_other`.
    pub fn allow_other(mut self, on: bool) -> Self {
        self.allow_other = on;
        self
    }

    /// Sets `allow_root`.
    pub fn allow_root(mut self, on: bool) -> Self {
        self.allow_root = on;
        self
    }

    /// Sets `ro` (true) or `rw` (false).
    pub fn read_only(mut self, on: bool) -> Self {
        self.read_only = on;
        self
    }

    /// Sets `fsname`; checked by [`validate`](Self::validate) when mounting.
    pub fn fsname(mut self, name: impl Into<String>) -> Self {
        self.fsname = Some(name.into());
        self
    }

    /// Sets `subtype`; checked by [`validate`](Self::validate) when mounting.
    pub fn subtype(mut self, subtype: impl Into<String>) -> Self {
        self.subtype = Some(subtype.into());
        self
    }

    /// Sets `auto_unmount`.
    pub fn auto_unmount(mut self, on: bool) -> Self {
        self.auto_unmount = on;
        self
    }

    /// Sets `debug`.
    pub fn debug(mut self, on: bool) -> Self {
        self.debug = on;
        self
    }

    /// Sets the mount method.
    pub fn method(mut self, method: MountMethod) -> Self {
        self.method = method;
        self
    }

    /// Checks what single options cannot: conflicts between options, and values set through
    /// fields or setters. `parse`, `set` and mounting call it.
    ///
    /// ```
    /// use fusegen::MountOptions;
    ///
    /// let both = MountOptions::default().allow_other(true).allow_root(true);
    /// assert!(both.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), MountError> {
        use fusegen_options::rules::{self, Lookup};
        use fusegen_options::{OPTIONS, Side, def, values};
        for o in OPTIONS {
            let Some(value) = self.value(o.id) else {
                continue;
            };
            if let Err(reason) = values::check(o, &value) {
                let name = o.name_on(Side::DashO).unwrap_or(o.name);
                return Err(MountError::invalid(
                    format!("{name}={}", shown(o.kind, &value)),
                    format!("`{name}` {reason}"),
                ));
            }
        }
        match rules::check(self, Side::DashO).into_iter().next() {
            Some(broken) => {
                let last = broken.options.last().map(|o| def(*o));
                let name = last
                    .and_then(|d| d.name_on(Side::DashO))
                    .unwrap_or_default();
                Err(MountError::invalid(name, broken.message))
            }
            None => Ok(()),
        }
    }
}

/// A value as `-o` text would give it, for error messages.
fn shown(kind: fusegen_options::Kind, value: &fusegen_options::Value) -> String {
    use fusegen_options::{Kind, Value};
    match value {
        Value::Int(v) if kind == Kind::Mode => format!("{v:o}"),
        Value::Bool(b) => b.to_string(),
        Value::Nanos(n) => Duration::from_nanos(*n).as_secs_f64().to_string(),
        Value::Str(s) => s.clone(),
        Value::Int(v) => v.to_string(),
        Value::Choice(c) => c.name.to_string(),
    }
}

/// The `transport=` option: how requests travel between the kernel and the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// io_uring when the kernel offers it (Linux 6.14+ with the `fuse` module parameter
    /// `enable_uring=Y`), `/dev/fuse` otherwise. The log says which one runs.
    #[default]
    Auto,
    /// FUSE-over-io_uring, or `main` fails with the reason it is unavailable.
    IoUring,
    /// Only `/dev/fuse` reads and writes.
    Dev,
}

impl Transport {
    /// Parses `auto`, `io_uring` (also `uring`) or `dev`.
    pub fn parse(text: &str) -> Option<Transport> {
        match text {
            "auto" => Some(Transport::Auto),
            "io_uring" | "uring" => Some(Transport::IoUring),
            "dev" => Some(Transport::Dev),
            _ => None,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Auto => "auto",
            Transport::IoUring => "io_uring",
            Transport::Dev => "dev",
        })
    }
}

/// The environment variable that chooses the transport of mounts whose options leave it unset,
/// so a whole test suite can run on either transport.
pub const TRANSPORT_ENV: &str = "FUSEGEN_TRANSPORT";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_pyfuse3_default_options() {
        let d = MountOptions::default();
        // Only `default_permissions` (pyfuse3's) and `handle_killpriv` (fusegen's) are on;
        // every other flag is off and every value unset.
        let text = format!("{d:?}");
        assert!(text.contains("default_permissions: true"), "{text}");
        assert!(text.contains("handle_killpriv: true"), "{text}");
        assert_eq!(text.matches("true").count(), 2, "{text}");
        assert!(!text.contains("Some("), "{text}");
        assert_eq!(d.method, MountMethod::Auto);
    }

    #[test]
    fn builders_set_fields() {
        let o = MountOptions::default()
            .default_permissions(false)
            .allow_other(true)
            .read_only(true)
            .fsname("x")
            .subtype("y")
            .auto_unmount(true)
            .debug(true)
            .method(MountMethod::Fusermount);
        assert!(
            !o.default_permissions && o.allow_other && o.read_only && o.auto_unmount && o.debug
        );
        assert_eq!(
            (o.fsname.as_deref(), o.subtype.as_deref()),
            (Some("x"), Some("y"))
        );
        assert_eq!(o.method, MountMethod::Fusermount);
        assert!(o.validate().is_ok());
        assert!(MountOptions::default().allow_root(true).validate().is_ok());
    }

    #[test]
    fn validate_rejects_conflicts_and_bad_fields() {
        let msg = |o: MountOptions| {
            o.validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let both = msg(MountOptions::default().allow_other(true).allow_root(true));
        assert!(both.contains("cannot be used together"), "{both}");
        let direct = msg(MountOptions::default()
            .auto_unmount(true)
            .method(MountMethod::Direct));
        assert!(direct.contains("needs `fusermount3`"), "{direct}");
        assert!(msg(MountOptions::default().fsname("a\0b")).contains("NUL"));
        assert!(msg(MountOptions::default().fsname("")).contains("empty"));
        assert!(msg(MountOptions::default().subtype("a b")).contains("' ' is not allowed"));
        assert!(msg(MountOptions::default().subtype("a\0")).contains("not allowed"));
        let d = MountOptions::default;
        assert!(
            msg(MountOptions {
                blksize: Some(1000),
                ..d()
            })
            .contains("power of two")
        );
        assert!(
            msg(MountOptions {
                intr_signal: Some(65),
                ..d()
            })
            .contains("from 1 to 64")
        );
        assert!(
            msg(MountOptions {
                umask: Some(0o10000),
                ..d()
            })
            .contains("the largest mask is 0o7777")
        );
        let fine = MountOptions {
            blksize: Some(4096),
            intr_signal: Some(10),
            umask: Some(0o22),
            ..d()
        };
        assert!(fine.validate().is_ok());
    }

    #[test]
    fn method_display() {
        assert_eq!(MountMethod::Auto.to_string(), "auto");
        assert_eq!(MountMethod::Direct.to_string(), "direct");
        assert_eq!(MountMethod::Fusermount.to_string(), "fusermount");
    }
}
