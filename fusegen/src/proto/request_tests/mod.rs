//! Byte fixtures for `request.rs`: one per opcode, every row commented with the field it
//! fills and its value, then the malformed cases and a deterministic no-panic sweep.
//!
//! Fixtures are written from the kernel header (`include/uapi/linux/fuse.h`, 7.45), not from
//! `abi.rs`, so a field at the wrong offset in either shows up here. All values are little
//! endian, as on every Linux FUSE host.

use zerocopy::IntoBytes;

use super::*;
use crate::proto::abi::{self, fuse_in_header, opcode::*};

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
    assert_eq!(req.header, Header::from(&msg.header), "header");
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

mod errors;
mod opcodes;
