//! The values handlers take and return: inode numbers, file handles, attributes, open
//! replies, the caller's identity, setattr changes and filesystem statistics.
//!
//! These are plain Rust types; their conversion to kernel structs lives in `proto/reply.rs` and
//! from kernel structs in `proto/request.rs`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bitflags::bitflags;

/// An inode number as the kernel knows it (`nodeid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Inode(pub u64);

impl Inode {
    /// The root directory of every FUSE mount (`FUSE_ROOT_ID`, pyfuse3's `ROOT_INODE`).
    pub const ROOT: Inode = Inode(crate::proto::abi::FUSE_ROOT_ID);
}

impl From<u64> for Inode {
    fn from(v: u64) -> Inode {
        Inode(v)
    }
}

/// An opaque handle the filesystem returns from `open`/`opendir`/`create` and receives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileHandle(pub u64);

impl From<u64> for FileHandle {
    fn from(v: u64) -> FileHandle {
        FileHandle(v)
    }
}

/// Who made a request (pyfuse3's `RequestContext`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestContext {
    /// Effective (fs) user id of the caller.
    pub uid: u32,
    /// Effective (fs) group id of the caller.
    pub gid: u32,
    /// Thread group id of the caller; 0 for requests the kernel makes on its own.
    pub pid: u32,
    /// The caller's umask, for requests that create a file (0 otherwise).
    pub umask: u32,
}

impl RequestContext {
    /// Resolves when the kernel interrupts this request: its caller got a signal. A handler
    /// that waits for something that may never come (a lock, an event, a slow backend)
    /// races its wait against this and returns `Err(Errno::EINTR)`:
    ///
    /// ```
    /// # use fusegen::{Errno, RequestContext, Result};
    /// # async fn wait_for_data(ctx: &RequestContext, data: tokio::sync::Notify) -> Result<()> {
    /// tokio::select! {
    ///     () = data.notified() => Ok(()),
    ///     () = ctx.interrupted() => Err(Errno::EINTR),
    /// }
    /// # }
    /// ```
    ///
    /// The runtime cancels handlers on its own only in three cases: with the `intr` option,
    /// for a lock request that waits, and once the caller is dying (`kill -9`); see
    /// `docs/operations.md`. The returned future is tied to the request whose handler called
    /// this, so call it in the handler (not in a task the handler spawned) and move the
    /// future where it is needed; outside a handler it never resolves.
    pub fn interrupted(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.interruption().interrupted()
    }

    /// Whether the kernel has interrupted this request (see [`interrupted`](Self::interrupted)).
    pub fn is_interrupted(&self) -> bool {
        self.interruption().is_interrupted()
    }

    /// A handle on this request's interruption that can be moved into spawned tasks.
    pub fn interruption(&self) -> crate::Interruption {
        crate::Interruption::current()
    }
}

/// Kind of a file, the `S_IFMT` part of a mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    /// Regular file.
    RegularFile,
    /// Directory.
    Directory,
    /// Symbolic link.
    Symlink,
    /// Named pipe.
    NamedPipe,
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
    /// Unix socket.
    Socket,
}

impl FileType {
    /// The `S_IFMT` bits of this type.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileType::RegularFile => libc::S_IFREG,
            FileType::Directory => libc::S_IFDIR,
            FileType::Symlink => libc::S_IFLNK,
            FileType::NamedPipe => libc::S_IFIFO,
            FileType::CharDevice => libc::S_IFCHR,
            FileType::BlockDevice => libc::S_IFBLK,
            FileType::Socket => libc::S_IFSOCK,
        }
    }

    /// The type encoded in a full `st_mode`, if it is one of the seven kinds.
    pub const fn from_mode(mode: u32) -> Option<FileType> {
        Some(match mode & libc::S_IFMT {
            libc::S_IFREG => FileType::RegularFile,
            libc::S_IFDIR => FileType::Directory,
            libc::S_IFLNK => FileType::Symlink,
            libc::S_IFIFO => FileType::NamedPipe,
            libc::S_IFCHR => FileType::CharDevice,
            libc::S_IFBLK => FileType::BlockDevice,
            libc::S_IFSOCK => FileType::Socket,
            _ => return None,
        })
    }

    /// The `d_type` value `readdir` reports for this type.
    pub const fn dirent_type(self) -> u32 {
        self.mode_bits() >> 12
    }
}

/// Attributes of an inode, returned by `lookup`, `getattr`, `setattr`, the creating
/// handlers and `readdir` (pyfuse3's `EntryAttributes`).
///
/// `mode` is the full `st_mode`, file type bits included:
/// ```
/// use fusegen::{EntryAttributes, FileType, Inode};
/// let attr = EntryAttributes::new(Inode(2), FileType::RegularFile, 0o644).with_size(13);
/// assert_eq!(attr.mode, libc::S_IFREG | 0o644);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryAttributes {
    /// Inode number; 0 in a `lookup` reply means "no such entry, cache that" (negative entry).
    pub ino: Inode,
    /// Generation: `(ino, generation)` must be unique over the filesystem's lifetime.
    pub generation: u64,
    /// How long the kernel may cache the name → inode mapping.
    pub entry_timeout: Duration,
    /// How long the kernel may cache these attributes.
    pub attr_timeout: Duration,
    /// Full `st_mode` (type and permission bits).
    pub mode: u32,
    /// Number of hard links.
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number for device files.
    pub rdev: u32,
    /// Size in bytes.
    pub size: u64,
    /// Preferred I/O block size.
    pub blksize: u32,
    /// Number of 512-byte blocks allocated.
    pub blocks: u64,
    /// Last access.
    pub atime: SystemTime,
    /// Last data modification.
    pub mtime: SystemTime,
    /// Last status change.
    pub ctime: SystemTime,
    /// Creation time (reported through `statx`).
    pub btime: SystemTime,
}

/// Default cache timeout of entries and attributes when a handler does not set one; the
/// mount options `entry_timeout`/`attr_timeout` override it for every reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

impl EntryAttributes {
    /// Attributes of an inode of the given type and permission bits, owned by root, one link,
    /// empty, all times at the epoch; timeouts come from the mount options.
    pub fn new(ino: Inode, kind: FileType, perm: u32) -> EntryAttributes {
        EntryAttributes {
            ino,
            generation: 0,
            entry_timeout: DEFAULT_TIMEOUT,
            attr_timeout: DEFAULT_TIMEOUT,
            mode: kind.mode_bits() | (perm & 0o7777),
            nlink: if kind == FileType::Directory { 2 } else { 1 },
            uid: 0,
            gid: 0,
            rdev: 0,
            size: 0,
            blksize: 4096,
            blocks: 0,
            atime: UNIX_EPOCH,
            mtime: UNIX_EPOCH,
            ctime: UNIX_EPOCH,
            btime: UNIX_EPOCH,
        }
    }

    /// A negative entry: `lookup` returns it to let the kernel cache "does not exist" for
    /// `timeout`. Returning `Err(Errno::ENOENT)` instead caches nothing.
    pub fn negative(timeout: Duration) -> EntryAttributes {
        let mut attr = EntryAttributes::new(Inode(0), FileType::RegularFile, 0);
        attr.entry_timeout = timeout;
        attr
    }

    /// Sets the size and the matching block count.
    pub fn with_size(mut self, size: u64) -> EntryAttributes {
        self.size = size;
        self.blocks = size.div_ceil(512);
        self
    }

    /// The file type encoded in `mode`.
    pub fn kind(&self) -> Option<FileType> {
        FileType::from_mode(self.mode)
    }

    /// Sets the owner and group, e.g. to [`Owner::of_process`] for files that belong to
    /// whoever runs the filesystem.
    ///
    /// ```
    /// use fusegen::{EntryAttributes, FileType, Inode, Owner};
    /// let me = Owner::of_process();
    /// let attr = EntryAttributes::new(Inode::ROOT, FileType::Directory, 0o755).owned_by(me);
    /// assert_eq!((attr.uid, attr.gid), (me.uid, me.gid));
    /// ```
    pub fn owned_by(mut self, owner: Owner) -> EntryAttributes {
        self.uid = owner.uid;
        self.gid = owner.gid;
        self
    }
}

/// A file's owner: user and group ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl Owner {
    /// The user and group this process runs as (its effective ids): the user who mounted the
    /// filesystem, whether as root or through `fusermount3`. Files a filesystem makes for
    /// itself (its root directory, fixed content) usually belong to them, as on tmpfs.
    ///
    /// ```
    /// let me = fusegen::Owner::of_process();
    /// assert_eq!(me.uid, nix::unistd::geteuid().as_raw());
    /// ```
    pub fn of_process() -> Owner {
        Owner {
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
        }
    }
}

bitflags! {
    /// Flags of an open reply (`FOPEN_*`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct OpenFlags: u32 {
        /// Bypass the page cache for this file.
        const DIRECT_IO = crate::proto::abi::FOPEN_DIRECT_IO;
        /// Keep cached data from a previous open.
        const KEEP_CACHE = crate::proto::abi::FOPEN_KEEP_CACHE;
        /// The file is not seekable.
        const NONSEEKABLE = crate::proto::abi::FOPEN_NONSEEKABLE;
        /// Allow caching of this directory's entries.
        const CACHE_DIR = crate::proto::abi::FOPEN_CACHE_DIR;
        /// A stream: no file position at all.
        const STREAM = crate::proto::abi::FOPEN_STREAM;
        /// Do not send FLUSH on close.
        const NOFLUSH = crate::proto::abi::FOPEN_NOFLUSH;
        /// Allow concurrent direct writes to the same file.
        const PARALLEL_DIRECT_WRITES = crate::proto::abi::FOPEN_PARALLEL_DIRECT_WRITES;
    }
}

/// A file whose reads and writes the kernel performs itself, without calling the `read` and
/// `write` handlers (FUSE passthrough, Linux 6.9+): attach it to an open reply with
/// [`FileInfo::with_backing`].
///
/// Used only when the mount asks for it (`#[fuse(passthrough)]`) and the kernel grants it;
/// otherwise the handlers serve the data as usual.
#[derive(Debug, Clone)]
pub struct BackingFile(Arc<OwnedFd>);

impl BackingFile {
    /// Backs an open file with `fd` (opened with the access mode the caller asked for).
    pub fn new(fd: impl Into<OwnedFd>) -> BackingFile {
        BackingFile(Arc::new(fd.into()))
    }

    /// Backs an open file with a duplicate of `file`'s descriptor.
    pub fn from_file(file: &std::fs::File) -> std::io::Result<BackingFile> {
        Ok(BackingFile::new(file.try_clone()?))
    }

    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl PartialEq for BackingFile {
    /// Two backings are equal when they share the same descriptor.
    fn eq(&self, other: &BackingFile) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for BackingFile {}

/// The reply to `open`, `opendir` and `create` (pyfuse3's `FileInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Handle passed back on every request for this open file.
    pub fh: FileHandle,
    /// `FOPEN_*` flags. [`FileInfo::new`] sets `KEEP_CACHE`, as pyfuse3 does.
    pub flags: OpenFlags,
    /// A file the kernel reads and writes directly (kernel passthrough), if any.
    pub backing: Option<BackingFile>,
}

impl FileInfo {
    /// An open file with handle `fh` whose cached pages survive reopening.
    pub fn new(fh: impl Into<FileHandle>) -> FileInfo {
        FileInfo {
            fh: fh.into(),
            flags: OpenFlags::KEEP_CACHE,
            backing: None,
        }
    }

    /// Lets the kernel do this file's reads and writes on `backing` (kernel passthrough).
    pub fn with_backing(mut self, backing: BackingFile) -> FileInfo {
        self.backing = Some(backing);
        self
    }

    /// Adds or removes `DIRECT_IO` (reads and writes bypass the page cache).
    pub fn direct_io(mut self, on: bool) -> FileInfo {
        self.flags.set(OpenFlags::DIRECT_IO, on);
        self
    }

    /// Adds or removes `KEEP_CACHE`.
    pub fn keep_cache(mut self, on: bool) -> FileInfo {
        self.flags.set(OpenFlags::KEEP_CACHE, on);
        self
    }

    /// Adds or removes `NONSEEKABLE`.
    pub fn nonseekable(mut self, on: bool) -> FileInfo {
        self.flags.set(OpenFlags::NONSEEKABLE, on);
        self
    }
}

bitflags! {
    /// Which attributes a `setattr` changes (pyfuse3's `SetattrFields`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SetattrFields: u32 {
        /// `mode` changes (chmod).
        const MODE = 1 << 0;
        /// `uid` changes (chown).
        const UID = 1 << 1;
        /// `gid` changes (chown).
        const GID = 1 << 2;
        /// `size` changes (truncate).
        const SIZE = 1 << 3;
        /// `atime` changes.
        const ATIME = 1 << 4;
        /// `mtime` changes.
        const MTIME = 1 << 5;
        /// `ctime` changes.
        const CTIME = 1 << 6;
    }
}

/// The changes a `setattr` asks for; `None` means "leave as is". `UTIME_NOW` from the caller
/// arrives already resolved to the current time, as in pyfuse3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetAttr {
    /// New permission and type bits.
    pub mode: Option<u32>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New size.
    pub size: Option<u64>,
    /// New access time.
    pub atime: Option<SystemTime>,
    /// New modification time.
    pub mtime: Option<SystemTime>,
    /// New change time.
    pub ctime: Option<SystemTime>,
    /// The kernel asks to clear setuid/setgid bits (`FATTR_KILL_SUIDGID`: truncate or chown
    /// by a caller without `CAP_FSETID`). With the `handle_killpriv` option (the default) the
    /// runtime has already put the cleared mode into [`mode`](Self::mode), so handlers need
    /// not act on it; a `setattr` with this set and a mode that only clears
    /// `S_ISUID`/`S_ISGID` is the kernel's order, not the caller's `chmod` (see
    /// `docs/mount.md`, "Setuid and setgid on write").
    pub kill_suidgid: bool,
    /// Lock owner of the caller, when the kernel sends one.
    pub lock_owner: Option<u64>,
}

impl SetAttr {
    /// Applies this change's metadata (mode bits, owner, `kill_suidgid`, times) to `attr`
    /// with a local filesystem's rules: ctime becomes `now` when anything changed, unless
    /// the kernel sent one, and a resize (`resized`: the caller changed the size, with the
    /// data it holds) also sets mtime. The size itself is the caller's to apply.
    ///
    /// ```
    /// # use fusegen::{EntryAttributes, FileType, Inode, SetAttr};
    /// # use std::time::{Duration, SystemTime, UNIX_EPOCH};
    /// let mut attr = EntryAttributes::new(Inode(2), FileType::RegularFile, 0o4755);
    /// let set = SetAttr { uid: Some(1000), kill_suidgid: true, ..SetAttr::default() };
    /// let now = UNIX_EPOCH + Duration::from_secs(60);
    /// set.apply_metadata(&mut attr, false, now);
    /// assert_eq!((attr.uid, attr.mode & 0o7777, attr.ctime), (1000, 0o755, now));
    /// ```
    pub fn apply_metadata(&self, attr: &mut EntryAttributes, resized: bool, now: SystemTime) {
        let changed = resized
            || self.mode.is_some()
            || self.uid.is_some()
            || self.gid.is_some()
            || self.atime.is_some()
            || self.mtime.is_some()
            || self.kill_suidgid;
        if resized {
            attr.mtime = now;
        }
        if let Some(mode) = self.mode {
            attr.mode = (attr.mode & libc::S_IFMT) | (mode & 0o7777);
        }
        if let Some(uid) = self.uid {
            attr.uid = uid;
        }
        if let Some(gid) = self.gid {
            attr.gid = gid;
        }
        if self.kill_suidgid {
            attr.mode &= !libc::S_ISUID;
            // Without group execute, setgid means mandatory locking, not privilege.
            if attr.mode & libc::S_IXGRP != 0 {
                attr.mode &= !libc::S_ISGID;
            }
        }
        if let Some(t) = self.atime {
            attr.atime = t;
        }
        if let Some(t) = self.mtime {
            attr.mtime = t;
        }
        match self.ctime {
            Some(t) => attr.ctime = t,
            None if changed => attr.ctime = now,
            None => {}
        }
    }

    /// Which fields are set.
    pub fn fields(&self) -> SetattrFields {
        let mut f = SetattrFields::empty();
        f.set(SetattrFields::MODE, self.mode.is_some());
        f.set(SetattrFields::UID, self.uid.is_some());
        f.set(SetattrFields::GID, self.gid.is_some());
        f.set(SetattrFields::SIZE, self.size.is_some());
        f.set(SetattrFields::ATIME, self.atime.is_some());
        f.set(SetattrFields::MTIME, self.mtime.is_some());
        f.set(SetattrFields::CTIME, self.ctime.is_some());
        f
    }
}

/// Filesystem statistics returned by `statfs` (pyfuse3's `StatvfsData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatvfsData {
    /// Preferred block size.
    pub bsize: u32,
    /// Fragment size (unit of `blocks`).
    pub frsize: u32,
    /// Total blocks.
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Free blocks for unprivileged users.
    pub bavail: u64,
    /// Total inodes.
    pub files: u64,
    /// Free inodes.
    pub ffree: u64,
    /// Free inodes for unprivileged users (the kernel reports `ffree` for it).
    pub favail: u64,
    /// Maximum name length.
    pub namemax: u32,
}

impl Default for StatvfsData {
    /// What a filesystem without a `statfs` handler reports: no space figures, 255-byte names.
    fn default() -> StatvfsData {
        StatvfsData {
            bsize: 512,
            frsize: 512,
            blocks: 0,
            bfree: 0,
            bavail: 0,
            files: 0,
            ffree: 0,
            favail: 0,
            namemax: 255,
        }
    }
}

bitflags! {
    /// Flags of `rename` (`renameat2(2)`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RenameFlags: u32 {
        /// Fail with `EEXIST` if the target exists.
        const NOREPLACE = libc::RENAME_NOREPLACE;
        /// Atomically swap source and target.
        const EXCHANGE = libc::RENAME_EXCHANGE;
        /// Leave a whiteout at the source (overlay filesystems).
        const WHITEOUT = libc::RENAME_WHITEOUT;
    }
}

/// One entry of a `forget` batch: the kernel drops `nlookup` references to `ino`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forget {
    /// The inode.
    pub ino: Inode,
    /// How many lookups to subtract.
    pub nlookup: u64,
}

/// A POSIX byte-range lock (`getlk`/`setlk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLock {
    /// First byte.
    pub start: u64,
    /// Last byte, inclusive. "To the end of the file" is `i64::MAX as u64` (the kernel's
    /// `OFFSET_MAX`): that is what the kernel sends, and a `getlk` reply with an `end` above
    /// it is refused by the kernel with `EIO`.
    pub end: u64,
    /// `F_RDLCK`, `F_WRLCK` or `F_UNLCK`.
    pub typ: i32,
    /// Process holding the lock (in `getlk` replies).
    pub pid: u32,
}

/// Splits a `SystemTime` into the kernel's (seconds, nanoseconds), negative seconds allowed.
pub(crate) fn time_to_kernel(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() == 0 {
                (-secs, 0)
            } else {
                (-secs - 1, 1_000_000_000 - d.subsec_nanos())
            }
        }
    }
}

/// The inverse of [`time_to_kernel`]; an out-of-range nanosecond field is clamped.
pub(crate) fn time_from_kernel(secs: i64, nsecs: u32) -> SystemTime {
    let nsecs = nsecs.min(999_999_999);
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs.unsigned_abs(), nsecs)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nsecs.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_time_round_trips_before_and_after_epoch() {
        for (s, n) in [(0i64, 0u32), (1_700_000_000, 123), (-1, 500), (-100, 0)] {
            assert_eq!(time_to_kernel(time_from_kernel(s, n)), (s, n));
        }
    }

    #[test]
    fn dirent_type_matches_dt_constants() {
        assert_eq!(FileType::Directory.dirent_type(), u32::from(libc::DT_DIR));
        assert_eq!(FileType::RegularFile.dirent_type(), u32::from(libc::DT_REG));
        assert_eq!(FileType::Symlink.dirent_type(), u32::from(libc::DT_LNK));
    }

    #[test]
    fn setattr_fields_follow_options() {
        let s = SetAttr {
            size: Some(0),
            mode: Some(0o600),
            ..SetAttr::default()
        };
        assert_eq!(s.fields(), SetattrFields::SIZE | SetattrFields::MODE);
    }
}
