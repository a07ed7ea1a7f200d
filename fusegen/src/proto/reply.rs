//! Encoding of replies: handler results become kernel structs and one `fuse_out_header`.
//!
//! Pure functions, no file descriptors. Transports write what [`wire`] gives them (a
//! [`Reply::File`] is the one they must read first), and the sign of the errno on the wire is
//! decided in exactly one function, [`error_header`]. Mount-wide overrides (timeouts, uid/gid/umask, direct_io,
//! kernel_cache) are applied here, so handlers return what they know and the options win.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use zerocopy::{Immutable, IntoBytes};

use crate::api::errno::Errno;
use crate::api::read_data::{FileRange, ReadData, Source};
use crate::api::types::{
    EntryAttributes, FileInfo, FileLock, OpenFlags, StatvfsData, time_to_kernel,
};
use crate::proto::abi;
use crate::proto::opcodes::gets_reply;
use crate::proto::request::Header;

/// Mount-wide rules applied to every attribute and open reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReplyPolicy {
    pub entry_timeout: Option<Duration>,
    pub attr_timeout: Option<Duration>,
    pub negative_timeout: Option<Duration>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub umask: Option<u32>,
    /// Extra `FOPEN_*` flags set on every open (`direct_io`, `kernel_cache`, `auto_cache`).
    pub open_flags: OpenFlags,
}

/// Largest fixed-size reply payload: `fuse_statx_out` (288 bytes).
const FIXED_MAX: usize = 288;

/// A small reply payload kept inline, so the common replies allocate nothing.
#[derive(Clone)]
pub(crate) struct Fixed {
    buf: [u8; FIXED_MAX],
    len: usize,
}

impl Fixed {
    fn new() -> Fixed {
        Fixed {
            buf: [0; FIXED_MAX],
            len: 0,
        }
    }

    fn push<T: IntoBytes + Immutable>(mut self, value: &T) -> Fixed {
        let bytes = value.as_bytes();
        // Every caller pushes kernel structs whose total is checked against FIXED_MAX below.
        let end = self.len + bytes.len();
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
        self
    }

    pub(crate) fn of<T: IntoBytes + Immutable>(value: &T) -> Fixed {
        const { assert!(size_of::<abi::fuse_statx_out>() <= FIXED_MAX) };
        Fixed::new().push(value)
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Debug for Fixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fixed({} bytes)", self.len)
    }
}

/// The outcome of one request, as the kernel would read it. Whether it is sent at all is
/// [`Response::to`]'s call, not the reply's.
// `Fixed` is large on purpose: replies are built on the stack, so the common ones allocate nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// An error.
    Error(Errno),
    /// Success without payload.
    Empty,
    /// A fixed-size struct (or two, for CREATE).
    Fixed(Fixed),
    /// Variable data: read, readlink, xattr values, readdir buffers.
    Data(Bytes),
    /// READ data still in a file: the transport moves it (`transport::file_reply`), because
    /// only the transport knows where the reply goes and its length is known once it is read.
    File(FileRange),
}

impl Reply {
    pub(crate) fn from_result(r: Result<Reply, Errno>) -> Reply {
        r.unwrap_or_else(Reply::Error)
    }
}

/// What goes back to the kernel for one request: the one encoding of "no reply".
// Large for the same reason as `Reply`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(crate) enum Response {
    /// `reply`, addressed to request `unique`.
    Reply { unique: u64, reply: Reply },
    /// Nothing: the kernel waits for no reply to this request (FORGET, BATCH_FORGET,
    /// INTERRUPT, NOTIFY_REPLY).
    Unanswered,
}

impl Response {
    /// `reply` for the request of `header`, or [`Unanswered`](Response::Unanswered) when the
    /// opcode table says the kernel waits for no reply (`opcodes::gets_reply`). Every answer
    /// the server gives goes through here, malformed requests' too: the one place that decides
    /// whether a request is answered.
    pub(crate) fn to(header: &Header, reply: Reply) -> Response {
        if gets_reply(header.opcode) {
            Response::Reply {
                unique: header.unique,
                reply,
            }
        } else {
            Response::Unanswered
        }
    }
}

/// A reply as a transport writes it: what every transport matches on, so none can send a
/// [`Reply::File`] as if it were bytes.
#[derive(Debug)]
pub(crate) enum Wire<'a> {
    /// Header and payload, ready to write.
    Bytes(abi::fuse_out_header, &'a [u8]),
    /// READ data still in a file: the transport reads it and then writes the header
    /// ([`data_header`] with the length it read, or [`error_header`]).
    File(&'a FileRange),
}

/// The reply to request `unique` as it goes on the wire.
pub(crate) fn wire<'a>(unique: u64, reply: &'a Reply) -> Wire<'a> {
    let bytes = |payload: &'a [u8]| Wire::Bytes(data_header(unique, payload.len()), payload);
    match reply {
        Reply::Error(e) => Wire::Bytes(error_header(unique, *e), &[]),
        Reply::Empty => bytes(&[]),
        Reply::Fixed(f) => bytes(f.as_bytes()),
        Reply::Data(d) => bytes(d),
        Reply::File(range) => Wire::File(range),
    }
}

/// The header of a successful reply with `payload` bytes after it.
pub(crate) fn data_header(unique: u64, payload: usize) -> abi::fuse_out_header {
    let len = size_of::<abi::fuse_out_header>() + payload;
    abi::fuse_out_header {
        len: u32::try_from(len).unwrap_or(u32::MAX),
        error: 0,
        unique,
    }
}

/// The header of an error reply.
pub(crate) fn error_header(unique: u64, errno: Errno) -> abi::fuse_out_header {
    abi::fuse_out_header {
        len: size_of::<abi::fuse_out_header>() as u32,
        error: -errno.raw(),
        unique,
    }
}

/// A `read` handler's answer, at most `size` bytes (more would fail the whole read).
pub(crate) fn read(data: ReadData, size: u32) -> Reply {
    match data.limit(size).source {
        Source::Bytes(bytes) => Reply::Data(bytes),
        Source::File(range) => Reply::File(range),
    }
}

fn split(d: Duration) -> (u64, u32) {
    (d.as_secs(), d.subsec_nanos())
}

/// Kernel attributes from handler attributes, with the mount-wide uid/gid/umask applied.
pub(crate) fn fuse_attr(attr: &EntryAttributes, policy: &ReplyPolicy) -> abi::fuse_attr {
    let (atime, atimensec) = time_to_kernel(attr.atime);
    let (mtime, mtimensec) = time_to_kernel(attr.mtime);
    let (ctime, ctimensec) = time_to_kernel(attr.ctime);
    let mode = match policy.umask {
        Some(mask) => attr.mode & !(mask & 0o7777),
        None => attr.mode,
    };
    abi::fuse_attr {
        ino: attr.ino.0,
        size: attr.size,
        blocks: attr.blocks,
        // The kernel reads these as signed 64-bit seconds.
        atime: atime as u64,
        mtime: mtime as u64,
        ctime: ctime as u64,
        atimensec,
        mtimensec,
        ctimensec,
        mode,
        nlink: attr.nlink,
        uid: policy.uid.unwrap_or(attr.uid),
        gid: policy.gid.unwrap_or(attr.gid),
        rdev: attr.rdev,
        blksize: attr.blksize,
        flags: 0,
    }
}

/// `fuse_entry_out` for lookup and the creating operations. An entry with inode 0 is a
/// negative entry, cached for `negative_timeout` when the mount sets one.
pub(crate) fn entry_out(attr: &EntryAttributes, policy: &ReplyPolicy) -> abi::fuse_entry_out {
    let entry_timeout = if attr.ino.0 == 0 {
        policy.negative_timeout.unwrap_or(attr.entry_timeout)
    } else {
        policy.entry_timeout.unwrap_or(attr.entry_timeout)
    };
    let (entry_valid, entry_valid_nsec) = split(entry_timeout);
    let (attr_valid, attr_valid_nsec) = split(policy.attr_timeout.unwrap_or(attr.attr_timeout));
    abi::fuse_entry_out {
        nodeid: attr.ino.0,
        generation: attr.generation,
        entry_valid,
        attr_valid,
        entry_valid_nsec,
        attr_valid_nsec,
        attr: fuse_attr(attr, policy),
    }
}

/// `fuse_attr_out` for getattr and setattr.
pub(crate) fn attr_out(attr: &EntryAttributes, policy: &ReplyPolicy) -> abi::fuse_attr_out {
    let (attr_valid, attr_valid_nsec) = split(policy.attr_timeout.unwrap_or(attr.attr_timeout));
    abi::fuse_attr_out {
        attr_valid,
        attr_valid_nsec,
        dummy: 0,
        attr: fuse_attr(attr, policy),
    }
}

/// `fuse_statx_out` for statx; birth time included.
pub(crate) fn statx_out(attr: &EntryAttributes, policy: &ReplyPolicy) -> abi::fuse_statx_out {
    let a = fuse_attr(attr, policy);
    let t = |time| {
        let (tv_sec, tv_nsec) = time_to_kernel(time);
        abi::fuse_sx_time {
            tv_sec,
            tv_nsec,
            reserved: 0,
        }
    };
    let (attr_valid, attr_valid_nsec) = split(policy.attr_timeout.unwrap_or(attr.attr_timeout));
    let basic = libc::STATX_BASIC_STATS | libc::STATX_BTIME;
    abi::fuse_statx_out {
        attr_valid,
        attr_valid_nsec,
        flags: 0,
        spare: [0; 2],
        stat: abi::fuse_statx {
            mask: basic,
            blksize: a.blksize,
            attributes: 0,
            nlink: a.nlink,
            uid: a.uid,
            gid: a.gid,
            // st_mode fits 16 bits by definition.
            mode: (a.mode & 0xffff) as u16,
            spare0: [0],
            ino: a.ino,
            size: a.size,
            blocks: a.blocks,
            attributes_mask: 0,
            atime: t(attr.atime),
            btime: t(attr.btime),
            ctime: t(attr.ctime),
            mtime: t(attr.mtime),
            rdev_major: libc::major(u64::from(a.rdev)),
            rdev_minor: libc::minor(u64::from(a.rdev)),
            dev_major: 0,
            dev_minor: 0,
            spare2: [0; 14],
        },
    }
}

/// `fuse_open_out` for open and create, with the mount's forced flags added and, when the
/// file was registered for kernel passthrough, its backing id.
pub(crate) fn open_out(
    info: &FileInfo,
    policy: &ReplyPolicy,
    backing_id: Option<u32>,
) -> abi::fuse_open_out {
    let mut open_flags = (info.flags | policy.open_flags).bits();
    let mut backing = 0;
    if let Some(id) = backing_id {
        // The kernel refuses passthrough opens carrying any other flag (EINVAL).
        const ALLOWED: u32 = abi::FOPEN_PASSTHROUGH
            | abi::FOPEN_DIRECT_IO
            | abi::FOPEN_PARALLEL_DIRECT_WRITES
            | abi::FOPEN_NOFLUSH;
        open_flags = (open_flags | abi::FOPEN_PASSTHROUGH) & ALLOWED;
        // Backing ids are small positive integers assigned by the kernel.
        backing = i32::try_from(id).unwrap_or(i32::MAX);
    }
    abi::fuse_open_out {
        fh: info.fh.0,
        open_flags,
        backing_id: backing,
    }
}

/// OPEN: [`open_out`].
pub(crate) fn open(info: &FileInfo, policy: &ReplyPolicy, backing_id: Option<u32>) -> Reply {
    fixed(&open_out(info, policy, backing_id))
}

/// OPENDIR: the handler's handle and flags only; mount-wide file flags (direct_io,
/// kernel_cache) do not apply to directories.
pub(crate) fn opendir(info: &FileInfo) -> Reply {
    fixed(&abi::fuse_open_out {
        fh: info.fh.0,
        open_flags: info.flags.bits(),
        backing_id: 0,
    })
}

/// `fuse_statfs_out` for statfs.
pub(crate) fn statfs_out(st: &StatvfsData) -> abi::fuse_statfs_out {
    abi::fuse_statfs_out {
        st: abi::fuse_kstatfs {
            blocks: st.blocks,
            bfree: st.bfree,
            bavail: st.bavail,
            files: st.files,
            ffree: st.ffree,
            bsize: st.bsize,
            namelen: st.namemax,
            frsize: st.frsize,
            padding: 0,
            spare: [0; 6],
        },
    }
}

/// Reply for a fixed struct.
pub(crate) fn fixed<T: IntoBytes + Immutable>(value: &T) -> Reply {
    Reply::Fixed(Fixed::of(value))
}

/// LOOKUP and the creating operations: [`entry_out`].
pub(crate) fn entry(attr: &EntryAttributes, policy: &ReplyPolicy) -> Reply {
    fixed(&entry_out(attr, policy))
}

/// GETATTR and SETATTR: [`attr_out`].
pub(crate) fn attr(attr: &EntryAttributes, policy: &ReplyPolicy) -> Reply {
    fixed(&attr_out(attr, policy))
}

/// STATX: [`statx_out`].
pub(crate) fn statx(attr: &EntryAttributes, policy: &ReplyPolicy) -> Reply {
    fixed(&statx_out(attr, policy))
}

/// STATFS: [`statfs_out`].
pub(crate) fn statfs(st: &StatvfsData) -> Reply {
    fixed(&statfs_out(st))
}

/// CREATE and TMPFILE answer an entry followed by an open reply ([`open_out`]).
pub(crate) fn create(
    attr: &EntryAttributes,
    info: &FileInfo,
    policy: &ReplyPolicy,
    backing_id: Option<u32>,
) -> Reply {
    Reply::Fixed(Fixed::of(&entry_out(attr, policy)).push(&open_out(info, policy, backing_id)))
}

/// BMAP: the device block.
pub(crate) fn bmap(block: u64) -> Reply {
    fixed(&abi::fuse_bmap_out { block })
}

/// POLL: the events ready.
pub(crate) fn poll(revents: u32) -> Reply {
    fixed(&abi::fuse_poll_out {
        revents,
        padding: 0,
    })
}

/// LSEEK: the new offset.
pub(crate) fn lseek(offset: u64) -> Reply {
    fixed(&abi::fuse_lseek_out { offset })
}

/// COPY_FILE_RANGE answers with a `fuse_write_out` (a 32-bit count), COPY_FILE_RANGE_64
/// (`wide`) with a `fuse_copy_file_range_out`.
pub(crate) fn copied(bytes: u64, wide: bool) -> Reply {
    if wide {
        fixed(&abi::fuse_copy_file_range_out {
            bytes_copied: bytes,
        })
    } else {
        write(u32::try_from(bytes).unwrap_or(u32::MAX))
    }
}

/// IOCTL: the result, then the output data (already cut to what the caller takes).
pub(crate) fn ioctl(result: i32, data: &[u8]) -> Reply {
    let out = abi::fuse_ioctl_out {
        result,
        flags: 0,
        in_iovs: 0,
        out_iovs: 0,
    };
    let mut buf = BytesMut::with_capacity(size_of::<abi::fuse_ioctl_out>() + data.len());
    buf.put_slice(out.as_bytes());
    buf.put_slice(data);
    Reply::Data(buf.freeze())
}

/// `fuse_write_out` for write.
pub(crate) fn write(size: u32) -> Reply {
    fixed(&abi::fuse_write_out { size, padding: 0 })
}

/// GETXATTR/LISTXATTR: a size probe (`size == 0`) answers the needed size; data that does not
/// fit the caller's buffer is `ERANGE`, as `getxattr(2)` documents.
pub(crate) fn xattr(data: Bytes, requested: u32) -> Reply {
    if requested == 0 {
        let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        fixed(&abi::fuse_getxattr_out { size, padding: 0 })
    } else if data.len() > requested as usize {
        Reply::Error(Errno::ERANGE)
    } else {
        Reply::Data(data)
    }
}

/// LISTXATTR: the names NUL-separated (the `listxattr(2)` format), under [`xattr`]'s size
/// rules.
pub(crate) fn xattr_names(names: &[OsString], requested: u32) -> Reply {
    let mut out = BytesMut::with_capacity(names.iter().map(|n| n.len() + 1).sum());
    for n in names {
        out.put_slice(n.as_bytes());
        out.put_u8(0);
    }
    xattr(out.freeze(), requested)
}

/// `fuse_lk_out` for getlk.
pub(crate) fn lock(lk: &FileLock) -> Reply {
    fixed(&abi::fuse_lk_out {
        lk: abi::fuse_file_lock {
            start: lk.start,
            end: lk.end,
            r#type: lk.typ as u32,
            pid: lk.pid,
        },
    })
}

#[cfg(test)]
#[path = "reply_tests.rs"]
mod tests;
