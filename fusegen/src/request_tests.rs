//! Byte fixtures for `request.rs`: one per opcode, every row commented with the field it
//! fills and its value, then the malformed cases and a deterministic no-panic sweep.
//!
//! Fixtures are written from the kernel header (`include/uapi/linux/fuse.h`, 7.45), not from
//! `abi.rs`, so a field at the wrong offset in either shows up here. All values are little
//! endian, as on every Linux FUSE host.

use zerocopy::IntoBytes;

use super::*;
use crate::abi::{self, fuse_in_header};

const PLAIN: Layout = Layout {
    setxattr_ext: false,
};
const EXT: Layout = Layout { setxattr_ext: true };
const HEADER_LEN: usize = size_of::<fuse_in_header>();
/// The `fh` most fixtures carry.
const FH: u64 = 0x1000_0000_0000_0007;
/// The `lock_owner` most fixtures carry.
const LOCK_OWNER: u64 = 0xdead_beef;

/// A message as the session's read buffer holds it: 8-byte aligned, `len` bytes long.
struct Message {
    header: fuse_in_header,
    words: Vec<u64>,
    len: usize,
}

impl Message {
    fn bytes(&self) -> &[u8] {
        &self.words.as_bytes()[..self.len]
    }
}

/// Copies `bytes` into 8-byte-aligned storage; the parser borrows structs in place.
fn aligned(bytes: &[u8]) -> Vec<u64> {
    let mut words = vec![0u64; bytes.len().div_ceil(8)];
    words.as_mut_bytes()[..bytes.len()].copy_from_slice(bytes);
    words
}

/// A header with distinct values in every field; `len` is filled in by [`message`].
fn header(opcode: u32) -> fuse_in_header {
    fuse_in_header {
        len: 0,
        opcode,
        unique: 0x0000_0001_0000_0002,
        nodeid: 0x0000_0002_0000_0005,
        uid: 1000,
        gid: 1001,
        pid: 4242,
        total_extlen: 0,
        padding: 0,
    }
}

/// `header` with its length computed, followed by `args` (arguments and any extensions).
fn message(mut header: fuse_in_header, args: &[u8]) -> Message {
    let len = HEADER_LEN + args.len();
    header.len = u32::try_from(len).unwrap();
    let words = aligned(&[header.as_bytes(), args].concat());
    Message { header, words, len }
}

fn request(opcode: u32, args: &[u8]) -> Message {
    message(header(opcode), args)
}

/// Parses `msg`, checks the header came through unchanged and returns the operation.
fn op_with(msg: &Message, layout: Layout) -> Operation<'_> {
    let req = match parse(msg.bytes(), layout) {
        Ok(req) => req,
        Err(e) => panic!(
            "{} fixture did not parse: {e:?}",
            opcode_name(msg.header.opcode)
        ),
    };
    assert_eq!(*req.header, msg.header, "header");
    req.op
}

/// [`op_with`] without `FUSE_SETXATTR_EXT`.
fn op(msg: &Message) -> Operation<'_> {
    op_with(msg, PLAIN)
}

fn err_with(msg: &Message, layout: Layout) -> RequestError {
    parse(msg.bytes(), layout).unwrap_err()
}

fn err(msg: &Message) -> RequestError {
    err_with(msg, PLAIN)
}

fn truncated(opcode: u32, what: &'static str, need: usize, left: usize) -> RequestError {
    RequestError::Truncated {
        opcode: opcode_name(opcode),
        what,
        need,
        left,
    }
}

/// Destructures the operation a test expects, or fails naming the one that was parsed.
macro_rules! expect_op {
    ($op:expr, $pat:pat => $out:expr) => {
        match $op {
            $pat => $out,
            other => panic!("expected {}, parsed {other:?}", stringify!($pat)),
        }
    };
}

const NO_ARGS: &[u8] = &[];
const LOOKUP_IN: &[u8] = &[
    b'h', b'e', b'l', b'l', b'o', 0, // name = "hello", NUL
];
const FORGET_IN: &[u8] = &[
    0x2a, 0, 0, 0, 0, 0, 0, 0x01, // nlookup = 0x0100_0000_0000_002a
];
const GETATTR_IN: &[u8] = &[
    0x01, 0, 0, 0, 0, 0, 0, 0, // getattr_flags = FUSE_GETATTR_FH, dummy = 0
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
];
const SETATTR_IN: &[u8] = &[
    0x7f, 0x06, 0, 0, 0, 0, 0, 0, // valid = 0x67f (MODE..MTIME, FH, LOCKOWNER, CTIME)
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x00, 0x10, 0, 0, 0x01, 0, 0, 0, // size = 0x1_0000_1000
    0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0, // lock_owner = 0xdead_beef
    0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0, // atime = 1_700_000_000
    0x01, 0xf1, 0x53, 0x65, 0, 0, 0, 0, // mtime = 1_700_000_001
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // ctime = -1 (before the epoch)
    0x01, 0, 0, 0, 0x02, 0, 0, 0, // atimensec = 1, mtimensec = 2
    0x03, 0, 0, 0, 0xa4, 0x81, 0, 0, // ctimensec = 3, mode = 0o100644
    0, 0, 0, 0, 0xe8, 0x03, 0, 0, // unused4 = 0, uid = 1000
    0xe9, 0x03, 0, 0, 0, 0, 0, 0, // gid = 1001, unused5 = 0
];
const SYMLINK_IN: &[u8] = &[
    b'l', b'n', b'k', 0, // name = "lnk" (the new entry), NUL
    b'/', b't', b'g', b't', 0, // target = "/tgt", NUL
];
const MKNOD_IN: &[u8] = &[
    0xb6, 0x21, 0, 0, 0x05, 0x01, 0, 0, // mode = 0o20666 (S_IFCHR), rdev = 0x105 (1, 5)
    0x12, 0, 0, 0, 0, 0, 0, 0, // umask = 0o022, padding = 0
    b'n', b'u', b'l', b'l', 0, // name = "null", NUL
];
const MKDIR_IN: &[u8] = &[
    0xed, 0x01, 0, 0, 0x12, 0, 0, 0, // mode = 0o755, umask = 0o022
    b'd', b'i', b'r', 0, // name = "dir", NUL
];
const UNLINK_IN: &[u8] = &[
    b'g', b'o', b'n', b'e', 0, // name = "gone", NUL
];
const RMDIR_IN: &[u8] = &[
    b'o', b'l', b'd', 0, // name = "old", NUL
];
const RENAME_IN: &[u8] = &[
    0x09, 0, 0, 0, 0, 0, 0, 0x20, // newdir = 0x2000_0000_0000_0009
    b'a', 0, // name = "a", NUL
    b'b', b'2', 0, // newname = "b2", NUL
];
const RENAME2_IN: &[u8] = &[
    0x09, 0, 0, 0, 0, 0, 0, 0x20, // newdir = 0x2000_0000_0000_0009
    0x02, 0, 0, 0, 0, 0, 0, 0, // flags = RENAME_EXCHANGE, padding = 0
    b'a', 0, // name = "a", NUL
    b'b', b'2', 0, // newname = "b2", NUL
];
const LINK_IN: &[u8] = &[
    0x0b, 0, 0, 0, 0, 0, 0, 0x30, // oldnodeid = 0x3000_0000_0000_000b
    b'h', b'a', b'r', b'd', 0, // name = "hard", NUL
];
const OPEN_IN: &[u8] = &[
    0x02, 0x80, 0, 0, 0x01, 0, 0,
    0, // flags = 0x8002 (O_RDWR|O_LARGEFILE), open_flags = KILL_SUIDGID
];
const READ_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x00, 0x10, 0, 0, 0x01, 0, 0, 0, // offset = 0x1_0000_1000
    0x00, 0x00, 0x02, 0, 0x02, 0, 0, 0, // size = 0x2_0000, read_flags = FUSE_READ_LOCKOWNER
    0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0, // lock_owner = 0xdead_beef
    0x00, 0x08, 0, 0, 0, 0, 0, 0, // flags = O_NONBLOCK (0x800), padding = 0
];
const WRITE_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x00, 0x02, 0, 0, 0, 0, 0, 0, // offset = 512
    0x05, 0, 0, 0, 0x03, 0, 0, 0, // size = 5, write_flags = WRITE_CACHE | WRITE_LOCKOWNER
    0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0, // lock_owner = 0xdead_beef
    0x01, 0x04, 0, 0, 0, 0, 0, 0, // flags = O_WRONLY|O_APPEND (0x401), padding = 0
    b'd', b'a', b't', b'a', b'!', // data = "data!" (size bytes)
];
const RELEASE_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x02, 0x80, 0, 0, 0x03, 0, 0, 0, // flags = 0x8002, release_flags = FLUSH | FLOCK_UNLOCK
    0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0, // lock_owner = 0xdead_beef
];
const FSYNC_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x01, 0, 0, 0, 0, 0, 0, 0, // fsync_flags = FUSE_FSYNC_FDATASYNC, padding = 0
];
/// Without `FUSE_SETXATTR_EXT`: the 8-byte `FUSE_COMPAT_SETXATTR_IN_SIZE` layout.
const SETXATTR_COMPAT_IN: &[u8] = &[
    0x03, 0, 0, 0, 0x01, 0, 0, 0, // size = 3, flags = XATTR_CREATE
    b'u', b'.', b'k', 0, // name = "u.k", NUL
    b'v', b'a', b'l', // value = "val" (size bytes, no NUL)
];
const SETXATTR_EXT_IN: &[u8] = &[
    0x03, 0, 0, 0, 0x02, 0, 0, 0, // size = 3, flags = XATTR_REPLACE
    0x01, 0, 0, 0, 0, 0, 0, 0, // setxattr_flags = ACL_KILL_SGID, padding = 0
    b'u', b'.', b'k', 0, // name = "u.k", NUL
    b'v', b'a', b'l', // value = "val" (size bytes, no NUL)
];
const GETXATTR_IN: &[u8] = &[
    0x00, 0x01, 0, 0, 0, 0, 0, 0, // size = 256, padding = 0
    b'u', b'.', b'k', 0, // name = "u.k", NUL
];
const LISTXATTR_IN: &[u8] = &[
    0x00, 0x10, 0, 0, 0, 0, 0, 0, // size = 4096, padding = 0
];
const REMOVEXATTR_IN: &[u8] = &[
    b'u', b'.', b'k', 0, // name = "u.k", NUL
];
const FLUSH_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0, 0, 0, 0, 0, 0, 0, 0, // unused = 0, padding = 0
    0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0, // lock_owner = 0xdead_beef
];
/// A 7.45 kernel's INIT: 64 bytes, `FUSE_INIT_EXT` set, so `flags2` counts.
const INIT_IN: &[u8] = &[
    0x07, 0, 0, 0, 0x2d, 0, 0, 0, // major = 7, minor = 45
    0x00, 0x00, 0x02, 0, 0x01, 0, 0, 0x60, // max_readahead = 0x2_0000, flags = 0x6000_0001
    0x21, 0, 0, 0, 0, 0, 0, 0, // flags2 = 0x21 (SECURITY_CTX, PASSTHROUGH), unused[0] = 0
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // unused[1..5] = 0
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // unused[5..9] = 0
    0, 0, 0, 0, 0, 0, 0, 0, // unused[9..11] = 0
];
/// A pre-7.36 kernel's INIT: 16 bytes, no `flags2`.
const INIT_OLD_IN: &[u8] = &[
    0x07, 0, 0, 0, 0x16, 0, 0, 0, // major = 7, minor = 22
    0x00, 0x10, 0, 0, 0x01, 0, 0, 0, // max_readahead = 4096, flags = FUSE_ASYNC_READ
];
const OPENDIR_IN: &[u8] = &[
    0x00, 0x08, 0x01, 0, 0, 0, 0,
    0, // flags = O_NONBLOCK|O_DIRECTORY (0x10800), open_flags = 0
];
const READDIR_IN: &[u8] = &[
    0x08, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0008
    0x03, 0, 0, 0, 0, 0, 0, 0, // offset = 3 (cookie of the last entry seen)
    0x00, 0x10, 0, 0, 0, 0, 0, 0, // size = 4096, read_flags = 0
    0, 0, 0, 0, 0, 0, 0, 0, // lock_owner = 0
    0x00, 0x08, 0x01, 0, 0, 0, 0, 0, // flags = 0x10800, padding = 0
];
const LK_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x0d, 0xf0, 0xad, 0x0b, 0, 0, 0, 0x40, // owner = 0x4000_0000_0bad_f00d
    0x00, 0x01, 0, 0, 0, 0, 0, 0, // lk.start = 256
    0xff, 0x01, 0, 0, 0, 0, 0, 0, // lk.end = 511
    0x01, 0, 0, 0, 0x92, 0x10, 0, 0, // lk.type = F_WRLCK (1), lk.pid = 4242
    0x01, 0, 0, 0, 0, 0, 0, 0, // lk_flags = FUSE_LK_FLOCK, padding = 0
];
const ACCESS_IN: &[u8] = &[
    0x06, 0, 0, 0, 0, 0, 0, 0, // mask = R_OK | W_OK, padding = 0
];
const CREATE_IN: &[u8] = &[
    0x41, 0x02, 0, 0, 0xa4, 0x81, 0, 0, // flags = O_WRONLY|O_CREAT|O_TRUNC, mode = 0o100644
    0x12, 0, 0, 0, 0x01, 0, 0, 0, // umask = 0o022, open_flags = FUSE_OPEN_KILL_SUIDGID
    b'n', b'e', b'w', 0, // name = "new", NUL
];
const INTERRUPT_IN: &[u8] = &[
    0x10, 0, 0, 0, 0, 0, 0, 0x01, // unique = 0x0100_0000_0000_0010 (request to interrupt)
];
const BMAP_IN: &[u8] = &[
    0x64, 0, 0, 0, 0, 0, 0, 0x01, // block = 0x0100_0000_0000_0064
    0x00, 0x10, 0, 0, 0, 0, 0, 0, // blocksize = 4096, padding = 0
];
const IOCTL_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x02, 0, 0, 0, 0x01, 0x54, 0, 0, // flags = FUSE_IOCTL_UNRESTRICTED, cmd = 0x5401
    0x00, 0x10, 0, 0, 0, 0x7f, 0, 0, // arg = 0x7f00_0000_1000
    0x03, 0, 0, 0, 0x08, 0, 0, 0, // in_size = 3, out_size = 8
    0x01, 0x02, 0x03, // input data (in_size bytes)
];
const POLL_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x05, 0, 0, 0, 0, 0, 0, 0x02, // kh = 0x0200_0000_0000_0005
    0x01, 0, 0, 0, 0x01, 0, 0, 0, // flags = FUSE_POLL_SCHEDULE_NOTIFY, events = POLLIN
];
const NOTIFY_REPLY_IN: &[u8] = &[
    0, 0, 0, 0, 0, 0, 0, 0, // dummy1 = 0
    0x00, 0x20, 0, 0, 0, 0, 0, 0x03, // offset = 0x0300_0000_0000_2000
    0x04, 0, 0, 0, 0, 0, 0, 0, // size = 4, dummy2 = 0
    0, 0, 0, 0, 0, 0, 0, 0, // dummy3 = 0
    0, 0, 0, 0, 0, 0, 0, 0, // dummy4 = 0
    b'p', b'a', b'g', b'e', // retrieved data (size bytes)
];
const BATCH_FORGET_IN: &[u8] = &[
    0x03, 0, 0, 0, 0, 0, 0, 0, // count = 3, dummy = 0
    0x02, 0, 0, 0, 0, 0, 0, 0, // forgets[0].nodeid = 2
    0x01, 0, 0, 0, 0, 0, 0, 0, // forgets[0].nlookup = 1
    0x03, 0, 0, 0, 0, 0, 0, 0x50, // forgets[1].nodeid = 0x5000_0000_0000_0003
    0x0a, 0, 0, 0, 0, 0, 0, 0, // forgets[1].nlookup = 10
    0x04, 0, 0, 0, 0, 0, 0, 0, // forgets[2].nodeid = 4
    0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, // forgets[2].nlookup = 0xffff_ffff
];
const FALLOCATE_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x00, 0x10, 0, 0, 0, 0, 0, 0, // offset = 4096
    0x00, 0x00, 0x10, 0, 0, 0, 0, 0, // length = 0x10_0000
    0x03, 0, 0, 0, 0, 0, 0, 0, // mode = KEEP_SIZE | PUNCH_HOLE, padding = 0
];
const LSEEK_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x00, 0x10, 0, 0, 0, 0, 0, 0, // offset = 4096
    0x03, 0, 0, 0, 0, 0, 0, 0, // whence = SEEK_DATA, padding = 0
];
const COPY_FILE_RANGE_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh_in = 0x1000_0000_0000_0007
    0x00, 0x10, 0, 0, 0, 0, 0, 0, // off_in = 4096
    0x09, 0, 0, 0, 0, 0, 0, 0x20, // nodeid_out = 0x2000_0000_0000_0009
    0x08, 0, 0, 0, 0, 0, 0, 0, // fh_out = 8
    0, 0, 0, 0, 0x01, 0, 0, 0, // off_out = 0x1_0000_0000
    0x00, 0x00, 0x10, 0, 0, 0, 0, 0, // len = 0x10_0000
    0, 0, 0, 0, 0, 0, 0, 0, // flags = 0
];
const SETUPMAPPING_IN: &[u8] = &[
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x00, 0x00, 0x20, 0, 0, 0, 0, 0, // foffset = 0x20_0000
    0x00, 0x00, 0x20, 0, 0, 0, 0, 0, // len = 0x20_0000
    0x03, 0, 0, 0, 0, 0, 0, 0, // flags = FLAG_WRITE | FLAG_READ
    0x00, 0x00, 0x00, 0x40, 0, 0, 0, 0, // moffset = 0x4000_0000
];
const REMOVEMAPPING_IN: &[u8] = &[
    0x02, 0, 0, 0, // count = 2 (the entries follow at offset 4, unaligned)
    0x00, 0x00, 0x20, 0, 0, 0, 0, 0, // entries[0].moffset = 0x20_0000
    0x00, 0x00, 0x20, 0, 0, 0, 0, 0, // entries[0].len = 0x20_0000
    0x00, 0x00, 0x40, 0, 0, 0, 0, 0, // entries[1].moffset = 0x40_0000
    0x00, 0x10, 0, 0, 0, 0, 0, 0, // entries[1].len = 4096
];
const SYNCFS_IN: &[u8] = &[
    0, 0, 0, 0, 0, 0, 0, 0, // padding = 0
];
const STATX_IN: &[u8] = &[
    0x01, 0, 0, 0, 0, 0, 0, 0, // getattr_flags = FUSE_GETATTR_FH, reserved = 0
    0x07, 0, 0, 0, 0, 0, 0, 0x10, // fh = 0x1000_0000_0000_0007
    0x00, 0x40, 0, 0, 0xff, 0x0f, 0, 0, // sx_flags = AT_STATX_DONT_SYNC, sx_mask = 0xfff
];
const CUSE_INIT_IN: &[u8] = &[
    0x07, 0, 0, 0, 0x2d, 0, 0, 0, // major = 7, minor = 45
    0, 0, 0, 0, 0x01, 0, 0, 0, // unused = 0, flags = CUSE_UNRESTRICTED_IOCTL
];
const UNKNOWN_OPCODE: u32 = 9999;
const UNKNOWN_IN: &[u8] = &[
    0xde, 0xad, 0xbe, 0xef, // four bytes of a future struct
];

/// Every valid fixture with the layout it is parsed under; the sweeps start from these.
const FIXTURES: &[(u32, Layout, &[u8])] = &[
    (FUSE_LOOKUP, PLAIN, LOOKUP_IN),
    (FUSE_FORGET, PLAIN, FORGET_IN),
    (FUSE_GETATTR, PLAIN, GETATTR_IN),
    (FUSE_SETATTR, PLAIN, SETATTR_IN),
    (FUSE_READLINK, PLAIN, NO_ARGS),
    (FUSE_SYMLINK, PLAIN, SYMLINK_IN),
    (FUSE_MKNOD, PLAIN, MKNOD_IN),
    (FUSE_MKDIR, PLAIN, MKDIR_IN),
    (FUSE_UNLINK, PLAIN, UNLINK_IN),
    (FUSE_RMDIR, PLAIN, RMDIR_IN),
    (FUSE_RENAME, PLAIN, RENAME_IN),
    (FUSE_LINK, PLAIN, LINK_IN),
    (FUSE_OPEN, PLAIN, OPEN_IN),
    (FUSE_READ, PLAIN, READ_IN),
    (FUSE_WRITE, PLAIN, WRITE_IN),
    (FUSE_STATFS, PLAIN, NO_ARGS),
    (FUSE_RELEASE, PLAIN, RELEASE_IN),
    (FUSE_FSYNC, PLAIN, FSYNC_IN),
    (FUSE_SETXATTR, PLAIN, SETXATTR_COMPAT_IN),
    (FUSE_SETXATTR, EXT, SETXATTR_EXT_IN),
    (FUSE_GETXATTR, PLAIN, GETXATTR_IN),
    (FUSE_LISTXATTR, PLAIN, LISTXATTR_IN),
    (FUSE_REMOVEXATTR, PLAIN, REMOVEXATTR_IN),
    (FUSE_FLUSH, PLAIN, FLUSH_IN),
    (FUSE_INIT, PLAIN, INIT_IN),
    (FUSE_INIT, PLAIN, INIT_OLD_IN),
    (FUSE_OPENDIR, PLAIN, OPENDIR_IN),
    (FUSE_READDIR, PLAIN, READDIR_IN),
    (FUSE_RELEASEDIR, PLAIN, RELEASE_IN),
    (FUSE_FSYNCDIR, PLAIN, FSYNC_IN),
    (FUSE_GETLK, PLAIN, LK_IN),
    (FUSE_SETLK, PLAIN, LK_IN),
    (FUSE_SETLKW, PLAIN, LK_IN),
    (FUSE_ACCESS, PLAIN, ACCESS_IN),
    (FUSE_CREATE, PLAIN, CREATE_IN),
    (FUSE_INTERRUPT, PLAIN, INTERRUPT_IN),
    (FUSE_BMAP, PLAIN, BMAP_IN),
    (FUSE_DESTROY, PLAIN, NO_ARGS),
    (FUSE_IOCTL, PLAIN, IOCTL_IN),
    (FUSE_POLL, PLAIN, POLL_IN),
    (FUSE_NOTIFY_REPLY, PLAIN, NOTIFY_REPLY_IN),
    (FUSE_BATCH_FORGET, PLAIN, BATCH_FORGET_IN),
    (FUSE_FALLOCATE, PLAIN, FALLOCATE_IN),
    (FUSE_READDIRPLUS, PLAIN, READDIR_IN),
    (FUSE_RENAME2, PLAIN, RENAME2_IN),
    (FUSE_LSEEK, PLAIN, LSEEK_IN),
    (FUSE_COPY_FILE_RANGE, PLAIN, COPY_FILE_RANGE_IN),
    (FUSE_SETUPMAPPING, PLAIN, SETUPMAPPING_IN),
    (FUSE_REMOVEMAPPING, PLAIN, REMOVEMAPPING_IN),
    (FUSE_SYNCFS, PLAIN, SYNCFS_IN),
    (FUSE_TMPFILE, PLAIN, CREATE_IN),
    (FUSE_STATX, PLAIN, STATX_IN),
    (FUSE_COPY_FILE_RANGE_64, PLAIN, COPY_FILE_RANGE_IN),
    (CUSE_INIT, PLAIN, CUSE_INIT_IN),
    (UNKNOWN_OPCODE, PLAIN, UNKNOWN_IN),
];

#[test]
fn header_fields_are_read_at_kernel_offsets() {
    const BYTES: &[u8] = &[
        0x30, 0, 0, 0, 0x02, 0, 0, 0, // len = 48, opcode = FUSE_FORGET
        0x11, 0, 0, 0, 0x02, 0, 0, 0x80, // unique = 0x8000_0002_0000_0011 (RESEND bit)
        0x05, 0, 0, 0, 0x02, 0, 0, 0, // nodeid = 0x2_0000_0005
        0xe8, 0x03, 0, 0, 0xe9, 0x03, 0, 0, // uid = 1000, gid = 1001
        0x92, 0x10, 0, 0, 0x03, 0, 0, 0, // pid = 4242, total_extlen = 3, padding = 0
        0x2a, 0, 0, 0, 0, 0, 0, 0, // fuse_forget_in.nlookup = 42
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // extensions (16 of 24 bytes)
        0, 0, 0, 0, 0, 0, 0, 0, // extensions (8 of 24 bytes)
    ];
    let mut bytes = BYTES.to_vec();
    bytes[0] = 72; // len = 72: header, nlookup and three extension units
    let words = aligned(&bytes);
    let req = parse(&words.as_bytes()[..72], PLAIN).unwrap();
    assert_eq!(req.header.len, 72);
    assert_eq!(req.header.opcode, FUSE_FORGET);
    assert_eq!(req.header.unique, 0x8000_0002_0000_0011);
    assert_eq!(req.header.nodeid, 0x2_0000_0005);
    assert_eq!(req.header.uid, 1000);
    assert_eq!(req.header.gid, 1001);
    assert_eq!(req.header.pid, 4242);
    assert_eq!(req.header.total_extlen, 3);
    let nlookup = expect_op!(req.op, Operation::Forget { arg } => arg.nlookup);
    assert_eq!(nlookup, 42);
}

#[test]
fn lookup_reads_the_name() {
    let msg = request(FUSE_LOOKUP, LOOKUP_IN);
    let name = expect_op!(op(&msg), Operation::Lookup { name } => name);
    assert_eq!(name, "hello");
}

#[test]
fn forget_reads_nlookup() {
    let msg = request(FUSE_FORGET, FORGET_IN);
    let arg = expect_op!(op(&msg), Operation::Forget { arg } => arg);
    assert_eq!(arg.nlookup, 0x0100_0000_0000_002a);
}

#[test]
fn getattr_reads_flags_and_fh() {
    let msg = request(FUSE_GETATTR, GETATTR_IN);
    let arg = expect_op!(op(&msg), Operation::Getattr { arg } => arg);
    assert_eq!(arg.getattr_flags, abi::FUSE_GETATTR_FH);
    assert_eq!(arg.fh, FH);
}

#[test]
fn setattr_reads_every_field() {
    let msg = request(FUSE_SETATTR, SETATTR_IN);
    let arg = expect_op!(op(&msg), Operation::Setattr { arg } => arg);
    assert_eq!(arg.valid, 0x67f);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.size, 0x1_0000_1000);
    assert_eq!(arg.lock_owner, LOCK_OWNER);
    assert_eq!(arg.atime, 1_700_000_000);
    assert_eq!(arg.mtime, 1_700_000_001);
    assert_eq!(arg.ctime as i64, -1);
    assert_eq!(arg.atimensec, 1);
    assert_eq!(arg.mtimensec, 2);
    assert_eq!(arg.ctimensec, 3);
    assert_eq!(arg.mode, libc::S_IFREG | 0o644);
    assert_eq!(arg.uid, 1000);
    assert_eq!(arg.gid, 1001);
}

#[test]
fn readlink_has_no_arguments() {
    let msg = request(FUSE_READLINK, NO_ARGS);
    expect_op!(op(&msg), Operation::Readlink => ());
}

#[test]
fn symlink_reads_name_then_target() {
    let msg = request(FUSE_SYMLINK, SYMLINK_IN);
    let (name, target) =
        expect_op!(op(&msg), Operation::Symlink { name, target } => (name, target));
    assert_eq!(name, "lnk");
    assert_eq!(target, "/tgt");
}

#[test]
fn mknod_reads_mode_rdev_umask_and_name() {
    let msg = request(FUSE_MKNOD, MKNOD_IN);
    let (arg, name) = expect_op!(op(&msg), Operation::Mknod { arg, name } => (arg, name));
    assert_eq!(arg.mode, libc::S_IFCHR | 0o666);
    assert_eq!(arg.rdev, 0x105);
    assert_eq!(arg.umask, 0o022);
    assert_eq!(name, "null");
}

#[test]
fn mkdir_reads_mode_umask_and_name() {
    let msg = request(FUSE_MKDIR, MKDIR_IN);
    let (arg, name) = expect_op!(op(&msg), Operation::Mkdir { arg, name } => (arg, name));
    assert_eq!(arg.mode, 0o755);
    assert_eq!(arg.umask, 0o022);
    assert_eq!(name, "dir");
}

#[test]
fn unlink_reads_the_name() {
    let msg = request(FUSE_UNLINK, UNLINK_IN);
    let name = expect_op!(op(&msg), Operation::Unlink { name } => name);
    assert_eq!(name, "gone");
}

#[test]
fn rmdir_reads_the_name() {
    let msg = request(FUSE_RMDIR, RMDIR_IN);
    let name = expect_op!(op(&msg), Operation::Rmdir { name } => name);
    assert_eq!(name, "old");
}

#[test]
fn rename_reads_newdir_and_both_names_with_no_flags() {
    let msg = request(FUSE_RENAME, RENAME_IN);
    let (newdir, flags, name, newname) = expect_op!(op(&msg),
        Operation::Rename { newdir, flags, name, newname } => (newdir, flags, name, newname));
    assert_eq!(newdir, 0x2000_0000_0000_0009);
    assert_eq!(flags, 0);
    assert_eq!(name, "a");
    assert_eq!(newname, "b2");
}

#[test]
fn rename2_reads_flags() {
    let msg = request(FUSE_RENAME2, RENAME2_IN);
    let (newdir, flags, name, newname) = expect_op!(op(&msg),
        Operation::Rename { newdir, flags, name, newname } => (newdir, flags, name, newname));
    assert_eq!(newdir, 0x2000_0000_0000_0009);
    assert_eq!(flags, libc::RENAME_EXCHANGE);
    assert_eq!(name, "a");
    assert_eq!(newname, "b2");
}

#[test]
fn link_reads_oldnodeid_and_name() {
    let msg = request(FUSE_LINK, LINK_IN);
    let (arg, name) = expect_op!(op(&msg), Operation::Link { arg, name } => (arg, name));
    assert_eq!(arg.oldnodeid, 0x3000_0000_0000_000b);
    assert_eq!(name, "hard");
}

#[test]
fn open_reads_flags_and_open_flags() {
    let msg = request(FUSE_OPEN, OPEN_IN);
    let arg = expect_op!(op(&msg), Operation::Open { arg } => arg);
    assert_eq!(arg.flags, 0x8002);
    assert_eq!(arg.open_flags, abi::FUSE_OPEN_KILL_SUIDGID);
}

#[test]
fn read_reads_every_field() {
    let msg = request(FUSE_READ, READ_IN);
    let arg = expect_op!(op(&msg), Operation::Read { arg } => arg);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.offset, 0x1_0000_1000);
    assert_eq!(arg.size, 0x2_0000);
    assert_eq!(arg.read_flags, abi::FUSE_READ_LOCKOWNER);
    assert_eq!(arg.lock_owner, LOCK_OWNER);
    assert_eq!(arg.flags, 0x800);
}

#[test]
fn write_reads_arguments_and_exactly_size_bytes_of_payload() {
    let msg = request(FUSE_WRITE, WRITE_IN);
    let (arg, data) = expect_op!(op(&msg), Operation::Write { arg, data } => (arg, data));
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.offset, 512);
    assert_eq!(arg.size, 5);
    assert_eq!(
        arg.write_flags,
        abi::FUSE_WRITE_CACHE | abi::FUSE_WRITE_LOCKOWNER
    );
    assert_eq!(arg.lock_owner, LOCK_OWNER);
    assert_eq!(arg.flags, 0x401);
    assert_eq!(data, b"data!");
}

#[test]
fn statfs_has_no_arguments() {
    let msg = request(FUSE_STATFS, NO_ARGS);
    expect_op!(op(&msg), Operation::Statfs => ());
}

#[test]
fn release_reads_fh_flags_and_lock_owner() {
    let msg = request(FUSE_RELEASE, RELEASE_IN);
    let arg = expect_op!(op(&msg), Operation::Release { arg } => arg);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.flags, 0x8002);
    let release_flags = abi::FUSE_RELEASE_FLUSH | abi::FUSE_RELEASE_FLOCK_UNLOCK;
    assert_eq!(arg.release_flags, release_flags);
    assert_eq!(arg.lock_owner, LOCK_OWNER);
}

#[test]
fn fsync_reads_fh_and_datasync_flag() {
    let msg = request(FUSE_FSYNC, FSYNC_IN);
    let arg = expect_op!(op(&msg), Operation::Fsync { arg } => arg);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.fsync_flags, abi::FUSE_FSYNC_FDATASYNC);
}

#[test]
fn setxattr_compat_layout_has_no_setxattr_flags() {
    let msg = request(FUSE_SETXATTR, SETXATTR_COMPAT_IN);
    let (size, flags, setxattr_flags, name, value) = expect_op!(op(&msg),
        Operation::Setxattr { size, flags, setxattr_flags, name, value } =>
        (size, flags, setxattr_flags, name, value));
    assert_eq!(size, 3);
    assert_eq!(flags, libc::XATTR_CREATE as u32);
    assert_eq!(setxattr_flags, 0);
    assert_eq!(name, "u.k");
    assert_eq!(value, b"val");
}

#[test]
fn setxattr_ext_layout_reads_setxattr_flags() {
    let msg = request(FUSE_SETXATTR, SETXATTR_EXT_IN);
    let (size, flags, setxattr_flags, name, value) = expect_op!(op_with(&msg, EXT),
        Operation::Setxattr { size, flags, setxattr_flags, name, value } =>
        (size, flags, setxattr_flags, name, value));
    assert_eq!(size, 3);
    assert_eq!(flags, libc::XATTR_REPLACE as u32);
    assert_eq!(setxattr_flags, abi::FUSE_SETXATTR_ACL_KILL_SGID);
    assert_eq!(name, "u.k");
    assert_eq!(value, b"val");
}

#[test]
fn setxattr_layout_must_match_the_negotiated_one() {
    // The 15-byte compat message cannot hold the 16-byte struct.
    let msg = request(FUSE_SETXATTR, SETXATTR_COMPAT_IN);
    let expected = truncated(FUSE_SETXATTR, "fuse_setxattr_in", 16, 15);
    assert_eq!(err_with(&msg, EXT), expected);
    // Read as compat, the extended struct's setxattr_flags become the name.
    let msg = request(FUSE_SETXATTR, SETXATTR_EXT_IN);
    let name = expect_op!(op(&msg), Operation::Setxattr { name, .. } => name);
    assert_eq!(name, "\u{1}");
}

#[test]
fn getxattr_reads_size_and_name() {
    let msg = request(FUSE_GETXATTR, GETXATTR_IN);
    let (arg, name) = expect_op!(op(&msg), Operation::Getxattr { arg, name } => (arg, name));
    assert_eq!(arg.size, 256);
    assert_eq!(name, "u.k");
}

#[test]
fn listxattr_reads_size() {
    let msg = request(FUSE_LISTXATTR, LISTXATTR_IN);
    let arg = expect_op!(op(&msg), Operation::Listxattr { arg } => arg);
    assert_eq!(arg.size, 4096);
}

#[test]
fn removexattr_reads_the_name() {
    let msg = request(FUSE_REMOVEXATTR, REMOVEXATTR_IN);
    let name = expect_op!(op(&msg), Operation::Removexattr { name } => name);
    assert_eq!(name, "u.k");
}

#[test]
fn flush_reads_fh_and_lock_owner() {
    let msg = request(FUSE_FLUSH, FLUSH_IN);
    let arg = expect_op!(op(&msg), Operation::Flush { arg } => arg);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.lock_owner, LOCK_OWNER);
}

#[test]
fn init_with_init_ext_puts_flags2_in_the_high_half() {
    let msg = request(FUSE_INIT, INIT_IN);
    let arg = expect_op!(op(&msg), Operation::Init { arg } => arg);
    assert_eq!((arg.major, arg.minor), (7, 45));
    assert_eq!(arg.max_readahead, 0x2_0000);
    let low = abi::FUSE_ASYNC_READ | abi::FUSE_SETXATTR_EXT | abi::FUSE_INIT_EXT;
    let high = abi::FUSE_SECURITY_CTX | abi::FUSE_PASSTHROUGH;
    assert_eq!(arg.flags, low | high);
}

#[test]
fn init_without_init_ext_ignores_flags2() {
    let mut args = INIT_IN.to_vec();
    args[15] &= !0x40; // flags: clear FUSE_INIT_EXT (bit 30), leaving 0x2000_0001
    let msg = request(FUSE_INIT, &args);
    let arg = expect_op!(op(&msg), Operation::Init { arg } => arg);
    assert_eq!((arg.major, arg.minor), (7, 45));
    assert_eq!(arg.max_readahead, 0x2_0000);
    assert_eq!(arg.flags, abi::FUSE_ASYNC_READ | abi::FUSE_SETXATTR_EXT);
}

#[test]
fn init_from_an_old_kernel_is_16_bytes() {
    let msg = request(FUSE_INIT, INIT_OLD_IN);
    let arg = expect_op!(op(&msg), Operation::Init { arg } => arg);
    assert_eq!((arg.major, arg.minor), (7, 22));
    assert_eq!(arg.max_readahead, 4096);
    assert_eq!(arg.flags, abi::FUSE_ASYNC_READ);
}

#[test]
fn init_ext_without_flags2_is_truncated() {
    let msg = request(FUSE_INIT, &INIT_IN[..18]); // INIT_EXT set, half of flags2
    let expected = truncated(FUSE_INIT, "fuse_init_in.flags2", 4, 2);
    assert_eq!(err(&msg), expected);
}

#[test]
fn opendir_reads_flags() {
    let msg = request(FUSE_OPENDIR, OPENDIR_IN);
    let arg = expect_op!(op(&msg), Operation::Opendir { arg } => arg);
    assert_eq!(arg.flags, 0x10800);
    assert_eq!(arg.open_flags, 0);
}

#[test]
fn readdir_reads_fh_offset_and_size() {
    let msg = request(FUSE_READDIR, READDIR_IN);
    let arg = expect_op!(op(&msg), Operation::Readdir { arg } => arg);
    assert_eq!(arg.fh, 0x1000_0000_0000_0008);
    assert_eq!(arg.offset, 3);
    assert_eq!(arg.size, 4096);
    assert_eq!(arg.flags, 0x10800);
}

#[test]
fn readdirplus_reads_the_same_struct_as_readdir() {
    let msg = request(FUSE_READDIRPLUS, READDIR_IN);
    let arg = expect_op!(op(&msg), Operation::Readdirplus { arg } => arg);
    assert_eq!(arg.fh, 0x1000_0000_0000_0008);
    assert_eq!(arg.offset, 3);
    assert_eq!(arg.size, 4096);
    assert_eq!(arg.flags, 0x10800);
}

#[test]
fn releasedir_reads_fh_flags_and_lock_owner() {
    let msg = request(FUSE_RELEASEDIR, RELEASE_IN);
    let arg = expect_op!(op(&msg), Operation::Releasedir { arg } => arg);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.flags, 0x8002);
    assert_eq!(arg.lock_owner, LOCK_OWNER);
}

#[test]
fn fsyncdir_reads_fh_and_datasync_flag() {
    let msg = request(FUSE_FSYNCDIR, FSYNC_IN);
    let arg = expect_op!(op(&msg), Operation::Fsyncdir { arg } => arg);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.fsync_flags, abi::FUSE_FSYNC_FDATASYNC);
}

fn assert_lk_in(arg: &abi::fuse_lk_in) {
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.owner, 0x4000_0000_0bad_f00d);
    assert_eq!(arg.lk.start, 256);
    assert_eq!(arg.lk.end, 511);
    assert_eq!(arg.lk.r#type, libc::F_WRLCK as u32);
    assert_eq!(arg.lk.pid, 4242);
    assert_eq!(arg.lk_flags, abi::FUSE_LK_FLOCK);
}

#[test]
fn getlk_reads_the_lock() {
    let msg = request(FUSE_GETLK, LK_IN);
    assert_lk_in(expect_op!(op(&msg), Operation::Getlk { arg } => arg));
}

#[test]
fn setlk_does_not_sleep() {
    let msg = request(FUSE_SETLK, LK_IN);
    let (arg, sleep) = expect_op!(op(&msg), Operation::Setlk { arg, sleep } => (arg, sleep));
    assert_lk_in(arg);
    assert!(!sleep);
}

#[test]
fn setlkw_sleeps() {
    let msg = request(FUSE_SETLKW, LK_IN);
    let (arg, sleep) = expect_op!(op(&msg), Operation::Setlk { arg, sleep } => (arg, sleep));
    assert_lk_in(arg);
    assert!(sleep);
}

#[test]
fn access_reads_the_mask() {
    let msg = request(FUSE_ACCESS, ACCESS_IN);
    let mask = expect_op!(op(&msg), Operation::Access { arg } => arg.mask);
    assert_eq!(mask, (libc::R_OK | libc::W_OK) as u32);
}

fn assert_create_in(arg: &abi::fuse_create_in) {
    assert_eq!(arg.flags, 0x241);
    assert_eq!(arg.mode, libc::S_IFREG | 0o644);
    assert_eq!(arg.umask, 0o022);
    assert_eq!(arg.open_flags, abi::FUSE_OPEN_KILL_SUIDGID);
}

#[test]
fn create_reads_flags_mode_umask_and_name() {
    let msg = request(FUSE_CREATE, CREATE_IN);
    let (arg, name) = expect_op!(op(&msg), Operation::Create { arg, name } => (arg, name));
    assert_create_in(arg);
    assert_eq!(name, "new");
}

#[test]
fn interrupt_reads_the_interrupted_unique() {
    let msg = request(FUSE_INTERRUPT, INTERRUPT_IN);
    let unique = expect_op!(op(&msg), Operation::Interrupt { arg } => arg.unique);
    assert_eq!(unique, 0x0100_0000_0000_0010);
}

#[test]
fn bmap_reads_block_and_blocksize() {
    let msg = request(FUSE_BMAP, BMAP_IN);
    let arg = expect_op!(op(&msg), Operation::Bmap { arg } => arg);
    assert_eq!(arg.block, 0x0100_0000_0000_0064);
    assert_eq!(arg.blocksize, 4096);
}

#[test]
fn destroy_has_no_arguments() {
    let msg = request(FUSE_DESTROY, NO_ARGS);
    expect_op!(op(&msg), Operation::Destroy => ());
}

#[test]
fn ioctl_reads_arguments_and_in_size_bytes_of_input() {
    let msg = request(FUSE_IOCTL, IOCTL_IN);
    let (arg, data) = expect_op!(op(&msg), Operation::Ioctl { arg, data } => (arg, data));
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.flags, abi::FUSE_IOCTL_UNRESTRICTED);
    assert_eq!(arg.cmd, 0x5401);
    assert_eq!(arg.arg, 0x7f00_0000_1000);
    assert_eq!(arg.in_size, 3);
    assert_eq!(arg.out_size, 8);
    assert_eq!(data, [1, 2, 3]);
}

#[test]
fn poll_reads_fh_kh_flags_and_events() {
    let msg = request(FUSE_POLL, POLL_IN);
    let arg = expect_op!(op(&msg), Operation::Poll { arg } => arg);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.kh, 0x0200_0000_0000_0005);
    assert_eq!(arg.flags, abi::FUSE_POLL_SCHEDULE_NOTIFY);
    assert_eq!(arg.events, libc::POLLIN as u32);
}

#[test]
fn notify_reply_reads_offset_and_size_bytes_of_data() {
    let msg = request(FUSE_NOTIFY_REPLY, NOTIFY_REPLY_IN);
    let (arg, data) = expect_op!(op(&msg), Operation::NotifyReply { arg, data } => (arg, data));
    assert_eq!(arg.offset, 0x0300_0000_0000_2000);
    assert_eq!(arg.size, 4);
    assert_eq!(data, b"page");
}

#[test]
fn batch_forget_reads_count_entries() {
    let msg = request(FUSE_BATCH_FORGET, BATCH_FORGET_IN);
    let forgets = expect_op!(op(&msg), Operation::BatchForget { forgets } => forgets);
    let pairs: Vec<(u64, u64)> = forgets.iter().map(|f| (f.nodeid, f.nlookup)).collect();
    assert_eq!(
        pairs,
        [(2, 1), (0x5000_0000_0000_0003, 10), (4, 0xffff_ffff)]
    );
}

#[test]
fn fallocate_reads_every_field() {
    let msg = request(FUSE_FALLOCATE, FALLOCATE_IN);
    let arg = expect_op!(op(&msg), Operation::Fallocate { arg } => arg);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.offset, 4096);
    assert_eq!(arg.length, 0x10_0000);
    let mode = libc::FALLOC_FL_KEEP_SIZE | libc::FALLOC_FL_PUNCH_HOLE;
    assert_eq!(arg.mode, mode as u32);
}

#[test]
fn lseek_reads_fh_offset_and_whence() {
    let msg = request(FUSE_LSEEK, LSEEK_IN);
    let arg = expect_op!(op(&msg), Operation::Lseek { arg } => arg);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.offset, 4096);
    assert_eq!(arg.whence, libc::SEEK_DATA as u32);
}

fn assert_copy_file_range_in(arg: &abi::fuse_copy_file_range_in) {
    assert_eq!(arg.fh_in, FH);
    assert_eq!(arg.off_in, 4096);
    assert_eq!(arg.nodeid_out, 0x2000_0000_0000_0009);
    assert_eq!(arg.fh_out, 8);
    assert_eq!(arg.off_out, 0x1_0000_0000);
    assert_eq!(arg.len, 0x10_0000);
    assert_eq!(arg.flags, 0);
}

#[test]
fn copy_file_range_is_not_wide() {
    let msg = request(FUSE_COPY_FILE_RANGE, COPY_FILE_RANGE_IN);
    let (arg, wide) = expect_op!(op(&msg), Operation::CopyFileRange { arg, wide } => (arg, wide));
    assert_copy_file_range_in(arg);
    assert!(!wide);
}

#[test]
fn copy_file_range_64_is_wide() {
    let msg = request(FUSE_COPY_FILE_RANGE_64, COPY_FILE_RANGE_IN);
    let (arg, wide) = expect_op!(op(&msg), Operation::CopyFileRange { arg, wide } => (arg, wide));
    assert_copy_file_range_in(arg);
    assert!(wide);
}

#[test]
fn setupmapping_reads_every_field() {
    let msg = request(FUSE_SETUPMAPPING, SETUPMAPPING_IN);
    let arg = expect_op!(op(&msg), Operation::Setupmapping { arg } => arg);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.foffset, 0x20_0000);
    assert_eq!(arg.len, 0x20_0000);
    assert_eq!(arg.flags, 3);
    assert_eq!(arg.moffset, 0x4000_0000);
}

#[test]
fn removemapping_keeps_the_unaligned_entries_as_bytes() {
    let msg = request(FUSE_REMOVEMAPPING, REMOVEMAPPING_IN);
    let (count, entries) =
        expect_op!(op(&msg), Operation::Removemapping { count, entries } => (count, entries));
    assert_eq!(count, 2);
    assert_eq!(entries, &REMOVEMAPPING_IN[4..]);
}

#[test]
fn syncfs_reads_its_padding_struct() {
    let msg = request(FUSE_SYNCFS, SYNCFS_IN);
    let padding = expect_op!(op(&msg), Operation::Syncfs { arg } => arg.padding);
    assert_eq!(padding, 0);
}

#[test]
fn tmpfile_reads_a_create_struct_and_name() {
    let msg = request(FUSE_TMPFILE, CREATE_IN);
    let (arg, name) = expect_op!(op(&msg), Operation::Tmpfile { arg, name } => (arg, name));
    assert_create_in(arg);
    assert_eq!(name, "new");
}

#[test]
fn statx_reads_flags_fh_and_mask() {
    let msg = request(FUSE_STATX, STATX_IN);
    let arg = expect_op!(op(&msg), Operation::Statx { arg } => arg);
    assert_eq!(arg.getattr_flags, abi::FUSE_GETATTR_FH);
    assert_eq!(arg.fh, FH);
    assert_eq!(arg.sx_flags, libc::AT_STATX_DONT_SYNC as u32);
    assert_eq!(arg.sx_mask, libc::STATX_BASIC_STATS | libc::STATX_BTIME);
}

#[test]
fn cuse_init_reads_version_and_flags() {
    let msg = request(CUSE_INIT, CUSE_INIT_IN);
    let arg = expect_op!(op(&msg), Operation::CuseInit { arg } => arg);
    assert_eq!((arg.major, arg.minor), (7, 45));
    assert_eq!(arg.flags, abi::CUSE_UNRESTRICTED_IOCTL);
}

#[test]
fn unknown_opcode_is_kept_with_its_number() {
    let msg = request(UNKNOWN_OPCODE, UNKNOWN_IN);
    let opcode = expect_op!(op(&msg), Operation::Unknown { opcode } => opcode);
    assert_eq!(opcode, 9999);
}

// Malformed messages.

#[test]
fn short_read_header() {
    let msg = request(FUSE_FORGET, FORGET_IN);
    for len in [0, 1, 8, HEADER_LEN - 1] {
        let bytes = &msg.words.as_bytes()[..len];
        assert_eq!(
            parse(bytes, PLAIN).unwrap_err(),
            RequestError::ShortHeader(len)
        );
        assert_eq!(
            parse_header(bytes).unwrap_err(),
            RequestError::ShortHeader(len)
        );
    }
}

#[test]
fn header_length_must_match_the_read() {
    let msg = request(FUSE_FORGET, FORGET_IN); // len = 48
    let short_read = RequestError::LengthMismatch {
        header: 48,
        read: 44,
    };
    assert_eq!(parse(&msg.bytes()[..44], PLAIN).unwrap_err(), short_read);
    let mut bytes = msg.bytes().to_vec();
    bytes[0] = 40; // len = 40, but 48 bytes were read
    let words = aligned(&bytes);
    let long_read = RequestError::LengthMismatch {
        header: 40,
        read: 48,
    };
    assert_eq!(
        parse(&words.as_bytes()[..48], PLAIN).unwrap_err(),
        long_read
    );
}

#[test]
fn malformed_arguments_still_yield_the_header() {
    let msg = request(FUSE_GETATTR, &GETATTR_IN[..3]);
    assert_eq!(err(&msg), truncated(FUSE_GETATTR, "fuse_getattr_in", 16, 3));
    assert_eq!(*parse_header(msg.bytes()).unwrap(), msg.header);
}

#[test]
fn truncated_argument_structs() {
    let cases: &[(u32, &[u8], &str)] = &[
        (FUSE_FORGET, FORGET_IN, "fuse_forget_in"),
        (FUSE_GETATTR, GETATTR_IN, "fuse_getattr_in"),
        (FUSE_SETATTR, SETATTR_IN, "fuse_setattr_in"),
        (FUSE_MKNOD, MKNOD_IN, "fuse_mknod_in"),
        (FUSE_READ, READ_IN, "fuse_read_in"),
        (FUSE_WRITE, WRITE_IN, "fuse_write_in"),
        (FUSE_RENAME2, RENAME2_IN, "fuse_rename2_in"),
        (FUSE_SETLKW, LK_IN, "fuse_lk_in"),
        (FUSE_INIT, INIT_OLD_IN, "fuse_init_in"),
        (FUSE_SETXATTR, SETXATTR_EXT_IN, "fuse_setxattr_in"),
        (FUSE_STATX, STATX_IN, "fuse_statx_in"),
        (CUSE_INIT, CUSE_INIT_IN, "cuse_init_in"),
    ];
    for &(opcode, fixture, what) in cases {
        // The struct is the fixture's prefix up to its first name or payload byte.
        let need = match opcode {
            FUSE_MKNOD => 16,
            FUSE_WRITE => 40,
            FUSE_RENAME2 | FUSE_SETXATTR => 16,
            _ => fixture.len(),
        };
        for left in [0, need / 2, need - 1] {
            let msg = request(opcode, &fixture[..left]);
            assert_eq!(err_with(&msg, EXT), truncated(opcode, what, need, left));
        }
    }
}

#[test]
fn missing_nul() {
    let cases: &[(u32, &[u8])] = &[
        (FUSE_LOOKUP, b"hello"),
        (FUSE_SYMLINK, b"lnk\0/tgt"),
        (FUSE_MKDIR, &MKDIR_IN[..11]),
        (FUSE_RENAME, &RENAME_IN[..12]),
        (FUSE_CREATE, &CREATE_IN[..16]),
        (FUSE_GETXATTR, &GETXATTR_IN[..8]),
    ];
    for &(opcode, args) in cases {
        let opcode_str = opcode_name(opcode);
        let expected = RequestError::MissingNul { opcode: opcode_str };
        assert_eq!(err(&request(opcode, args)), expected);
    }
}

#[test]
fn empty_name_is_accepted() {
    let msg = request(FUSE_LOOKUP, &[0]);
    let name = expect_op!(op(&msg), Operation::Lookup { name } => name);
    assert_eq!(name, "");
}

#[test]
fn write_payload_shorter_than_size_is_truncated() {
    let msg = request(FUSE_WRITE, &WRITE_IN[..WRITE_IN.len() - 2]);
    assert_eq!(err(&msg), truncated(FUSE_WRITE, "write data", 5, 3));
}

#[test]
fn batch_forget_count_beyond_the_data_is_truncated() {
    let what = "fuse_forget_one list";
    let mut args = BATCH_FORGET_IN.to_vec();
    args[0] = 4; // count = 4, but three entries follow
    let msg = request(FUSE_BATCH_FORGET, &args);
    assert_eq!(err(&msg), truncated(FUSE_BATCH_FORGET, what, 64, 48));
    args[..4].copy_from_slice(&u32::MAX.to_le_bytes()); // count = u32::MAX
    let msg = request(FUSE_BATCH_FORGET, &args);
    let need = u32::MAX as usize * 16;
    assert_eq!(err(&msg), truncated(FUSE_BATCH_FORGET, what, need, 48));
}

#[test]
fn setxattr_value_shorter_than_size_is_truncated() {
    let compat = request(FUSE_SETXATTR, &SETXATTR_COMPAT_IN[..14]);
    let expected = truncated(FUSE_SETXATTR, "xattr value", 3, 2);
    assert_eq!(err_with(&compat, PLAIN), expected);
    let ext = request(FUSE_SETXATTR, &SETXATTR_EXT_IN[..20]);
    let expected = truncated(FUSE_SETXATTR, "xattr value", 3, 0);
    assert_eq!(err_with(&ext, EXT), expected);
}

#[test]
fn ioctl_and_notify_reply_data_shorter_than_size_are_truncated() {
    let ioctl = request(FUSE_IOCTL, &IOCTL_IN[..34]);
    assert_eq!(err(&ioctl), truncated(FUSE_IOCTL, "ioctl input", 3, 2));
    let notify = request(FUSE_NOTIFY_REPLY, &NOTIFY_REPLY_IN[..40]);
    let expected = truncated(FUSE_NOTIFY_REPLY, "retrieved data", 4, 0);
    assert_eq!(err(&notify), expected);
}

#[test]
fn removemapping_count_beyond_the_data_is_truncated() {
    let mut args = REMOVEMAPPING_IN.to_vec();
    args[0] = 3; // count = 3, but two entries follow
    let msg = request(FUSE_REMOVEMAPPING, &args);
    let expected = truncated(FUSE_REMOVEMAPPING, "removemapping list", 48, 32);
    assert_eq!(err(&msg), expected);
}

#[test]
fn extension_length_beyond_the_body_is_rejected() {
    // LOOKUP_IN is 6 bytes; one 8-byte extension unit cannot fit.
    let lookup = fuse_in_header {
        total_extlen: 1,
        ..header(FUSE_LOOKUP)
    };
    let msg = message(lookup, LOOKUP_IN);
    assert_eq!(err(&msg), RequestError::BadExtensions(8));
    let readlink = fuse_in_header {
        total_extlen: u16::MAX,
        ..header(FUSE_READLINK)
    };
    let msg = message(readlink, &[]);
    assert_eq!(err(&msg), RequestError::BadExtensions(0xffff * 8));
}

/// `fuse_ext_header` + `fuse_supp_groups` with one group: 16 bytes, `total_extlen = 2`.
const SUPP_GROUPS_EXT: &[u8] = &[
    0x10, 0, 0, 0, 0x20, 0, 0, 0, // ext.size = 16, ext.type = FUSE_EXT_GROUPS (32)
    0x01, 0, 0, 0, 0x1b, 0, 0, 0, // nr_groups = 1, groups[0] = 27
];

#[test]
fn extension_area_is_stripped_from_the_arguments() {
    let args = [MKDIR_IN, SUPP_GROUPS_EXT].concat();
    let mkdir = fuse_in_header {
        total_extlen: 2,
        ..header(FUSE_MKDIR)
    };
    let msg = message(mkdir, &args);
    let (arg, name) = expect_op!(op(&msg), Operation::Mkdir { arg, name } => (arg, name));
    assert_eq!(arg.mode, 0o755);
    assert_eq!(arg.umask, 0o022);
    assert_eq!(name, "dir");
}

#[test]
fn extension_bytes_never_complete_the_arguments() {
    // Half of GETATTR_IN and 16 bytes of extension: enough bytes, but not argument bytes.
    let args = [&GETATTR_IN[..8], SUPP_GROUPS_EXT].concat();
    let getattr = fuse_in_header {
        total_extlen: 2,
        ..header(FUSE_GETATTR)
    };
    let msg = message(getattr, &args);
    assert_eq!(err(&msg), truncated(FUSE_GETATTR, "fuse_getattr_in", 16, 8));
    // A name without its NUL must not find one in the extension.
    let args = [b"hello".as_slice(), SUPP_GROUPS_EXT].concat();
    let lookup = fuse_in_header {
        total_extlen: 2,
        ..header(FUSE_LOOKUP)
    };
    let msg = message(lookup, &args);
    assert_eq!(err(&msg), RequestError::MissingNul { opcode: "LOOKUP" });
}

#[test]
fn trailing_bytes_ignored() {
    let forget = [FORGET_IN, &[0xaa; 24][..]].concat(); // a newer kernel's longer struct
    let msg = request(FUSE_FORGET, &forget);
    let nlookup = expect_op!(op(&msg), Operation::Forget { arg } => arg.nlookup);
    assert_eq!(nlookup, 0x0100_0000_0000_002a);
    let lookup = [LOOKUP_IN, b"junk".as_slice()].concat(); // bytes after the name's NUL
    let msg = request(FUSE_LOOKUP, &lookup);
    let name = expect_op!(op(&msg), Operation::Lookup { name } => name);
    assert_eq!(name, "hello");
}

/// The FORGET fixture at an address that is 4 modulo 8.
fn misaligned_forget() -> (Vec<u64>, usize) {
    let msg = request(FUSE_FORGET, FORGET_IN);
    (aligned(&[&[0u8; 4][..], msg.bytes()].concat()), msg.len)
}

#[test]
fn misaligned_buffer_is_an_error_not_a_panic() {
    let (words, len) = misaligned_forget();
    assert!(parse(&words.as_bytes()[4..4 + len], PLAIN).is_err());
}

#[test]
fn misaligned_buffer_is_not_reported_as_short() {
    let (words, len) = misaligned_forget();
    let err = parse(&words.as_bytes()[4..4 + len], PLAIN).unwrap_err();
    assert_ne!(err, RequestError::ShortHeader(len));
}

// No-panic sweeps.

#[test]
fn fixtures_cover_every_known_opcode() {
    let known = (1..=FUSE_COPY_FILE_RANGE_64).chain([CUSE_INIT]);
    for opcode in known.filter(|&op| opcode_name(op) != "UNKNOWN") {
        let covered = FIXTURES.iter().any(|f| f.0 == opcode);
        assert!(covered, "no fixture for {}", opcode_name(opcode));
    }
}

#[test]
fn every_truncation_of_every_fixture_is_ok_or_an_error() {
    for &(opcode, layout, args) in FIXTURES {
        let msg = request(opcode, args);
        let name = opcode_name(opcode);
        assert!(parse(msg.bytes(), layout).is_ok(), "{name} fixture");
        for cut in 0..msg.len {
            let mut bytes = msg.bytes()[..cut].to_vec();
            if cut >= 4 {
                bytes[..4].copy_from_slice(&u32::try_from(cut).unwrap().to_le_bytes());
            }
            let words = aligned(&bytes);
            for layout in [PLAIN, EXT] {
                let result = parse(&words.as_bytes()[..cut], layout);
                if cut < HEADER_LEN {
                    assert_eq!(result.unwrap_err(), RequestError::ShortHeader(cut));
                } else if let Err(e @ RequestError::LengthMismatch { .. }) = result {
                    panic!("{name} cut to {cut}: {e}");
                }
            }
        }
    }
}

/// xorshift64: a deterministic byte source, so a failure reproduces.
struct XorShift(u64);

impl XorShift {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

#[test]
fn random_messages_are_ok_or_an_error() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for round in 0..4000 {
        let (mut opcode, layout, valid) = FIXTURES[rng.below(FIXTURES.len())];
        let args: Vec<u8> = if round % 2 == 0 {
            (0..rng.below(160)).map(|_| rng.next_u64() as u8).collect()
        } else {
            // A valid fixture with a few bytes flipped and some noise appended.
            let mut args = valid.to_vec();
            for _ in 0..rng.below(4) {
                if !args.is_empty() {
                    let i = rng.below(args.len());
                    args[i] ^= rng.next_u64() as u8 | 1;
                }
            }
            args.extend((0..rng.below(24)).map(|_| rng.next_u64() as u8));
            args
        };
        if rng.below(8) == 0 {
            opcode = rng.next_u64() as u32 % 64;
        }
        let total_extlen = match rng.below(8) {
            0 => rng.next_u64() as u16,
            1 | 2 => rng.below(3) as u16,
            _ => 0,
        };
        let msg = message(
            fuse_in_header {
                total_extlen,
                ..header(opcode)
            },
            &args,
        );
        if parse(msg.bytes(), layout).is_ok() {
            parsed += 1;
        }
    }
    // The sweep must reach the argument parsers, not stop at the header every time.
    assert!(
        parsed > 1000,
        "only {parsed} of 4000 random messages parsed"
    );
}
