//! Typed views of request arguments: what `request.rs` decodes from each kernel struct, so
//! that no `abi::fuse_*_in` travels past the parser. Flags the server acts on become `bool`s
//! or `Option`s here (`FUSE_GETATTR_FH` → `fh: Option<FileHandle>`), handles and inodes get
//! their types, and kernel integers that are C `int`s become `i32`. Each view is built by a
//! `From` of the struct it reads; bounds are the parser's business (it only hands over structs
//! it has read whole).

use std::time::SystemTime;

use crate::api::types::{FileHandle, FileLock, Forget, Inode, SetAttr, time_from_kernel};
use crate::proto::abi::{self, *};

/// Whether `bit` is set in `flags`.
fn has(flags: u32, bit: u32) -> bool {
    flags & bit != 0
}

/// FORGET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ForgetIn {
    pub nlookup: u64,
}

impl From<&abi::fuse_forget_in> for ForgetIn {
    fn from(a: &abi::fuse_forget_in) -> Self {
        ForgetIn { nlookup: a.nlookup }
    }
}

/// BATCH_FORGET's list, borrowed from the read buffer; read as [`Forget`]s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ForgetList<'a>(pub(super) &'a [abi::fuse_forget_one]);

impl ForgetList<'_> {
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = Forget> + '_ {
        self.0.iter().map(|f| Forget {
            ino: Inode(f.nodeid),
            nlookup: f.nlookup,
        })
    }
}

/// GETATTR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GetattrIn {
    /// The open file the attributes are asked through (`fstat`), when there is one.
    pub fh: Option<FileHandle>,
}

impl From<&abi::fuse_getattr_in> for GetattrIn {
    fn from(a: &abi::fuse_getattr_in) -> Self {
        GetattrIn {
            fh: has(a.getattr_flags, FUSE_GETATTR_FH).then_some(FileHandle(a.fh)),
        }
    }
}

/// SETATTR: the changes asked for, times resolved (`*_NOW` is the time of parsing).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SetattrIn {
    pub set: SetAttr,
    pub fh: Option<FileHandle>,
}

impl From<&abi::fuse_setattr_in> for SetattrIn {
    fn from(a: &abi::fuse_setattr_in) -> Self {
        let set_in = |bit: u32| has(a.valid, bit);
        let time = |set: bool, now: bool, secs: u64, nsecs: u32| match (set, now) {
            (_, true) => Some(SystemTime::now()),
            // The kernel sends signed seconds in an unsigned field.
            (true, false) => Some(time_from_kernel(secs as i64, nsecs)),
            (false, false) => None,
        };
        let set = SetAttr {
            mode: set_in(FATTR_MODE).then_some(a.mode),
            uid: set_in(FATTR_UID).then_some(a.uid),
            gid: set_in(FATTR_GID).then_some(a.gid),
            size: set_in(FATTR_SIZE).then_some(a.size),
            atime: time(
                set_in(FATTR_ATIME),
                set_in(FATTR_ATIME_NOW),
                a.atime,
                a.atimensec,
            ),
            mtime: time(
                set_in(FATTR_MTIME),
                set_in(FATTR_MTIME_NOW),
                a.mtime,
                a.mtimensec,
            ),
            ctime: time(set_in(FATTR_CTIME), false, a.ctime, a.ctimensec),
            kill_suidgid: set_in(FATTR_KILL_SUIDGID),
            lock_owner: set_in(FATTR_LOCKOWNER).then_some(a.lock_owner),
        };
        SetattrIn {
            set,
            fh: set_in(FATTR_FH).then_some(FileHandle(a.fh)),
        }
    }
}

/// MKNOD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MknodIn {
    pub mode: u32,
    pub rdev: u32,
    pub umask: u32,
}

impl From<&abi::fuse_mknod_in> for MknodIn {
    fn from(a: &abi::fuse_mknod_in) -> Self {
        MknodIn {
            mode: a.mode,
            rdev: a.rdev,
            umask: a.umask,
        }
    }
}

/// MKDIR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MkdirIn {
    pub mode: u32,
    pub umask: u32,
}

impl From<&abi::fuse_mkdir_in> for MkdirIn {
    fn from(a: &abi::fuse_mkdir_in) -> Self {
        MkdirIn {
            mode: a.mode,
            umask: a.umask,
        }
    }
}

/// LINK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LinkIn {
    /// The inode the new name links to.
    pub oldnodeid: Inode,
}

impl From<&abi::fuse_link_in> for LinkIn {
    fn from(a: &abi::fuse_link_in) -> Self {
        LinkIn {
            oldnodeid: Inode(a.oldnodeid),
        }
    }
}

/// OPEN and OPENDIR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenIn {
    /// The `open(2)` flags.
    pub flags: i32,
    /// `FUSE_OPEN_KILL_SUIDGID`: an `O_TRUNC` open by a caller without `CAP_FSETID`.
    pub kill_suidgid: bool,
}

impl From<&abi::fuse_open_in> for OpenIn {
    fn from(a: &abi::fuse_open_in) -> Self {
        OpenIn {
            flags: a.flags as i32,
            kill_suidgid: has(a.open_flags, FUSE_OPEN_KILL_SUIDGID),
        }
    }
}

/// READ, READDIR and READDIRPLUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadIn {
    pub fh: FileHandle,
    pub offset: u64,
    pub size: u32,
    /// Sent with `FUSE_READ_LOCKOWNER`.
    pub lock_owner: Option<u64>,
    /// The file's `open(2)` flags.
    pub flags: i32,
}

impl From<&abi::fuse_read_in> for ReadIn {
    fn from(a: &abi::fuse_read_in) -> Self {
        ReadIn {
            fh: FileHandle(a.fh),
            offset: a.offset,
            size: a.size,
            lock_owner: has(a.read_flags, FUSE_READ_LOCKOWNER).then_some(a.lock_owner),
            flags: a.flags as i32,
        }
    }
}

/// WRITE (the data follows in the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WriteIn {
    pub fh: FileHandle,
    pub offset: u64,
    pub size: u32,
    /// `FUSE_WRITE_CACHE`: a write-back of cached pages, not a caller's `write(2)`.
    pub cached: bool,
    /// `FUSE_WRITE_KILL_SUIDGID`: clear setuid/setgid before the data lands.
    pub kill_suidgid: bool,
    /// Sent with `FUSE_WRITE_LOCKOWNER`.
    pub lock_owner: Option<u64>,
    /// The file's `open(2)` flags.
    pub flags: i32,
}

impl From<&abi::fuse_write_in> for WriteIn {
    fn from(a: &abi::fuse_write_in) -> Self {
        WriteIn {
            fh: FileHandle(a.fh),
            offset: a.offset,
            size: a.size,
            cached: has(a.write_flags, FUSE_WRITE_CACHE),
            kill_suidgid: has(a.write_flags, FUSE_WRITE_KILL_SUIDGID),
            lock_owner: has(a.write_flags, FUSE_WRITE_LOCKOWNER).then_some(a.lock_owner),
            flags: a.flags as i32,
        }
    }
}

/// RELEASE and RELEASEDIR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReleaseIn {
    pub fh: FileHandle,
    /// The file's `open(2)` flags.
    pub flags: i32,
    /// `FUSE_RELEASE_FLUSH`: flush before releasing.
    pub flush: bool,
    /// `FUSE_RELEASE_FLOCK_UNLOCK`: drop the `flock` locks of `lock_owner`.
    pub flock_unlock: bool,
    pub lock_owner: u64,
}

impl From<&abi::fuse_release_in> for ReleaseIn {
    fn from(a: &abi::fuse_release_in) -> Self {
        ReleaseIn {
            fh: FileHandle(a.fh),
            flags: a.flags as i32,
            flush: has(a.release_flags, FUSE_RELEASE_FLUSH),
            flock_unlock: has(a.release_flags, FUSE_RELEASE_FLOCK_UNLOCK),
            lock_owner: a.lock_owner,
        }
    }
}

/// FSYNC and FSYNCDIR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FsyncIn {
    pub fh: FileHandle,
    /// `FUSE_FSYNC_FDATASYNC`: data only (`fdatasync(2)`).
    pub datasync: bool,
}

impl From<&abi::fuse_fsync_in> for FsyncIn {
    fn from(a: &abi::fuse_fsync_in) -> Self {
        FsyncIn {
            fh: FileHandle(a.fh),
            datasync: has(a.fsync_flags, FUSE_FSYNC_FDATASYNC),
        }
    }
}

/// GETXATTR and LISTXATTR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GetxattrIn {
    /// The caller's buffer size; 0 asks for the size needed.
    pub size: u32,
}

impl From<&abi::fuse_getxattr_in> for GetxattrIn {
    fn from(a: &abi::fuse_getxattr_in) -> Self {
        GetxattrIn { size: a.size }
    }
}

/// FLUSH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlushIn {
    pub fh: FileHandle,
    pub lock_owner: u64,
}

impl From<&abi::fuse_flush_in> for FlushIn {
    fn from(a: &abi::fuse_flush_in) -> Self {
        FlushIn {
            fh: FileHandle(a.fh),
            lock_owner: a.lock_owner,
        }
    }
}

/// GETLK, SETLK and SETLKW.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LockIn {
    pub fh: FileHandle,
    pub owner: u64,
    pub lock: FileLock,
    /// `FUSE_LK_FLOCK`: a `flock(2)` lock, not a POSIX one.
    pub flock: bool,
}

impl From<&abi::fuse_lk_in> for LockIn {
    fn from(a: &abi::fuse_lk_in) -> Self {
        LockIn {
            fh: FileHandle(a.fh),
            owner: a.owner,
            lock: FileLock {
                start: a.lk.start,
                end: a.lk.end,
                typ: a.lk.r#type as i32,
                pid: a.lk.pid,
            },
            flock: has(a.lk_flags, FUSE_LK_FLOCK),
        }
    }
}

/// ACCESS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AccessIn {
    /// `R_OK`, `W_OK`, `X_OK` or `F_OK`.
    pub mask: i32,
}

impl From<&abi::fuse_access_in> for AccessIn {
    fn from(a: &abi::fuse_access_in) -> Self {
        AccessIn {
            mask: a.mask as i32,
        }
    }
}

/// CREATE and TMPFILE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CreateIn {
    /// The `open(2)` flags.
    pub flags: i32,
    pub mode: u32,
    pub umask: u32,
    /// `FUSE_OPEN_KILL_SUIDGID`, as for OPEN.
    pub kill_suidgid: bool,
}

impl From<&abi::fuse_create_in> for CreateIn {
    fn from(a: &abi::fuse_create_in) -> Self {
        CreateIn {
            flags: a.flags as i32,
            mode: a.mode,
            umask: a.umask,
            kill_suidgid: has(a.open_flags, FUSE_OPEN_KILL_SUIDGID),
        }
    }
}

/// INTERRUPT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InterruptIn {
    /// The request to interrupt.
    pub unique: u64,
}

impl From<&abi::fuse_interrupt_in> for InterruptIn {
    fn from(a: &abi::fuse_interrupt_in) -> Self {
        InterruptIn { unique: a.unique }
    }
}

/// BMAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BmapIn {
    pub block: u64,
    pub blocksize: u32,
}

impl From<&abi::fuse_bmap_in> for BmapIn {
    fn from(a: &abi::fuse_bmap_in) -> Self {
        BmapIn {
            block: a.block,
            blocksize: a.blocksize,
        }
    }
}

/// IOCTL (the input data follows in the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IoctlIn {
    pub fh: FileHandle,
    /// `FUSE_IOCTL_UNRESTRICTED` (CUSE only).
    pub unrestricted: bool,
    pub cmd: u32,
    pub arg: u64,
    /// The most output the caller takes.
    pub out_size: u32,
}

impl From<&abi::fuse_ioctl_in> for IoctlIn {
    fn from(a: &abi::fuse_ioctl_in) -> Self {
        IoctlIn {
            fh: FileHandle(a.fh),
            unrestricted: has(a.flags, FUSE_IOCTL_UNRESTRICTED),
            cmd: a.cmd,
            arg: a.arg,
            out_size: a.out_size,
        }
    }
}

/// POLL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PollIn {
    pub fh: FileHandle,
    /// The handle to wake later, when the kernel asks for a notification
    /// (`FUSE_POLL_SCHEDULE_NOTIFY`).
    pub kh: Option<u64>,
    pub events: u32,
}

impl From<&abi::fuse_poll_in> for PollIn {
    fn from(a: &abi::fuse_poll_in) -> Self {
        PollIn {
            fh: FileHandle(a.fh),
            kh: has(a.flags, FUSE_POLL_SCHEDULE_NOTIFY).then_some(a.kh),
            events: a.events,
        }
    }
}

/// NOTIFY_REPLY (the retrieved data follows in the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotifyReplyIn {
    pub offset: u64,
    pub size: u32,
}

impl From<&abi::fuse_notify_retrieve_in> for NotifyReplyIn {
    fn from(a: &abi::fuse_notify_retrieve_in) -> Self {
        NotifyReplyIn {
            offset: a.offset,
            size: a.size,
        }
    }
}

/// FALLOCATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FallocateIn {
    pub fh: FileHandle,
    pub offset: u64,
    pub length: u64,
    /// `FALLOC_FL_*`.
    pub mode: i32,
}

impl From<&abi::fuse_fallocate_in> for FallocateIn {
    fn from(a: &abi::fuse_fallocate_in) -> Self {
        FallocateIn {
            fh: FileHandle(a.fh),
            offset: a.offset,
            length: a.length,
            mode: a.mode as i32,
        }
    }
}

/// LSEEK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LseekIn {
    pub fh: FileHandle,
    pub offset: u64,
    /// `SEEK_*`.
    pub whence: i32,
}

impl From<&abi::fuse_lseek_in> for LseekIn {
    fn from(a: &abi::fuse_lseek_in) -> Self {
        LseekIn {
            fh: FileHandle(a.fh),
            offset: a.offset,
            whence: a.whence as i32,
        }
    }
}

/// COPY_FILE_RANGE and COPY_FILE_RANGE_64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CopyFileRangeIn {
    pub fh_in: FileHandle,
    pub off_in: u64,
    pub nodeid_out: Inode,
    pub fh_out: FileHandle,
    pub off_out: u64,
    pub len: u64,
    pub flags: u64,
}

impl From<&abi::fuse_copy_file_range_in> for CopyFileRangeIn {
    fn from(a: &abi::fuse_copy_file_range_in) -> Self {
        CopyFileRangeIn {
            fh_in: FileHandle(a.fh_in),
            off_in: a.off_in,
            nodeid_out: Inode(a.nodeid_out),
            fh_out: FileHandle(a.fh_out),
            off_out: a.off_out,
            len: a.len,
            flags: a.flags,
        }
    }
}

/// SETUPMAPPING (DAX, virtiofs only; refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SetupmappingIn {
    pub fh: FileHandle,
    pub foffset: u64,
    pub len: u64,
    pub flags: u64,
    pub moffset: u64,
}

impl From<&abi::fuse_setupmapping_in> for SetupmappingIn {
    fn from(a: &abi::fuse_setupmapping_in) -> Self {
        SetupmappingIn {
            fh: FileHandle(a.fh),
            foffset: a.foffset,
            len: a.len,
            flags: a.flags,
            moffset: a.moffset,
        }
    }
}

/// STATX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatxIn {
    /// The open file asked through, when there is one (`FUSE_GETATTR_FH`).
    pub fh: Option<FileHandle>,
    /// `AT_STATX_*` sync flags.
    pub flags: u32,
    /// `STATX_*` fields asked for.
    pub mask: u32,
}

impl From<&abi::fuse_statx_in> for StatxIn {
    fn from(a: &abi::fuse_statx_in) -> Self {
        StatxIn {
            fh: has(a.getattr_flags, FUSE_GETATTR_FH).then_some(FileHandle(a.fh)),
            flags: a.sx_flags,
            mask: a.sx_mask,
        }
    }
}

/// CUSE_INIT (refused: fusegen serves no character devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CuseInitIn {
    pub major: u32,
    pub minor: u32,
    pub flags: u32,
}

impl From<&abi::cuse_init_in> for CuseInitIn {
    fn from(a: &abi::cuse_init_in) -> Self {
        CuseInitIn {
            major: a.major,
            minor: a.minor,
            flags: a.flags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setattr_now_flags_resolve_to_now() {
        let a = abi::fuse_setattr_in {
            valid: FATTR_MTIME | FATTR_MTIME_NOW | FATTR_SIZE | FATTR_FH,
            size: 10,
            fh: 7,
            ..Default::default()
        };
        let before = SystemTime::now();
        let SetattrIn { set, fh } = SetattrIn::from(&a);
        assert_eq!(set.size, Some(10));
        assert_eq!(fh, Some(FileHandle(7)));
        assert!(set.mtime.is_some_and(|t| t >= before));
        assert_eq!((set.atime, set.mode), (None, None));
    }

    #[test]
    fn handles_and_owners_come_only_with_their_flags() {
        let getattr = abi::fuse_getattr_in {
            fh: 5,
            ..Default::default()
        };
        assert_eq!(GetattrIn::from(&getattr).fh, None);
        let read = abi::fuse_read_in {
            lock_owner: 9,
            ..Default::default()
        };
        assert_eq!(ReadIn::from(&read).lock_owner, None);
        let poll = abi::fuse_poll_in {
            kh: 3,
            ..Default::default()
        };
        assert_eq!(PollIn::from(&poll).kh, None);
    }
}
