//! Exact-byte tests for `reply.rs`: the header (with the errno's sign), every fixed reply
//! struct, and the mount-wide policy applied on top of what handlers return.
//!
//! Expected bytes are written from the kernel header (`include/uapi/linux/fuse.h`, 7.45), one
//! commented row per 8 bytes, little endian.

use std::time::UNIX_EPOCH;

use super::*;
use crate::api::types::{FileHandle, FileType, Inode};

impl Reply {
    /// The bytes after the header of a reply held in memory.
    fn payload(&self) -> &[u8] {
        match wire(0, self) {
            Wire::Bytes(_, payload) => payload,
            Wire::File(_) => panic!("a file reply has no bytes in memory"),
        }
    }
}

/// The header of a reply held in memory.
fn out_header(unique: u64, reply: &Reply) -> abi::fuse_out_header {
    match wire(unique, reply) {
        Wire::Bytes(header, _) => header,
        Wire::File(_) => panic!("a file reply's header depends on what is read"),
    }
}

/// Attributes with a distinct value in every field; ctime is 1.5 s before the epoch.
fn sample() -> EntryAttributes {
    EntryAttributes {
        ino: Inode(0x0a00_0000_0000_0002),
        generation: 7,
        entry_timeout: Duration::new(5, 250_000_000),
        attr_timeout: Duration::new(2, 1),
        mode: libc::S_IFREG | 0o664,
        nlink: 3,
        uid: 1000,
        gid: 1001,
        rdev: 0x1231_0345, // makedev(259, 0x12345)
        size: 0x1_0000_0001,
        blksize: 4096,
        blocks: 9,
        atime: UNIX_EPOCH + Duration::new(1_700_000_000, 123),
        mtime: UNIX_EPOCH + Duration::new(1_700_000_001, 456),
        ctime: UNIX_EPOCH - Duration::new(1, 500_000_000),
        btime: UNIX_EPOCH + Duration::new(1_600_000_000, 789),
    }
}

/// `fuse_attr` of [`sample`] under the default policy (88 bytes).
const SAMPLE_ATTR: &[u8] = &[
    0x02, 0, 0, 0, 0, 0, 0, 0x0a, // ino = 0x0a00_0000_0000_0002
    0x01, 0, 0, 0, 0x01, 0, 0, 0, // size = 0x1_0000_0001
    0x09, 0, 0, 0, 0, 0, 0, 0, // blocks = 9
    0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0, // atime = 1_700_000_000
    0x01, 0xf1, 0x53, 0x65, 0, 0, 0, 0, // mtime = 1_700_000_001
    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // ctime = -2 (1.5 s before the epoch)
    0x7b, 0, 0, 0, 0xc8, 0x01, 0, 0, // atimensec = 123, mtimensec = 456
    0x00, 0x65, 0xcd, 0x1d, 0xb4, 0x81, 0, 0, // ctimensec = 500_000_000, mode = 0o100664
    0x03, 0, 0, 0, 0xe8, 0x03, 0, 0, // nlink = 3, uid = 1000
    0xe9, 0x03, 0, 0, 0x45, 0x03, 0x31, 0x12, // gid = 1001, rdev = 0x1231_0345
    0x00, 0x10, 0, 0, 0, 0, 0, 0, // blksize = 4096, flags = 0
];

/// The fields of `fuse_entry_out` before its `attr`, for [`sample`] (40 bytes).
const SAMPLE_ENTRY_HEAD: &[u8] = &[
    0x02, 0, 0, 0, 0, 0, 0, 0x0a, // nodeid = 0x0a00_0000_0000_0002
    0x07, 0, 0, 0, 0, 0, 0, 0, // generation = 7
    0x05, 0, 0, 0, 0, 0, 0, 0, // entry_valid = 5 s
    0x02, 0, 0, 0, 0, 0, 0, 0, // attr_valid = 2 s
    0x80, 0xb2, 0xe6, 0x0e, 0x01, 0, 0,
    0, // entry_valid_nsec = 250_000_000, attr_valid_nsec = 1
];

/// `fuse_open_out` for handle 42 with `KEEP_CACHE` from the handler and `DIRECT_IO` forced.
const OPEN_OUT: &[u8] = &[
    0x2a, 0, 0, 0, 0, 0, 0, 0, // fh = 42
    0x03, 0, 0, 0, 0, 0, 0, 0, // open_flags = DIRECT_IO | KEEP_CACHE, backing_id = 0
];

fn direct_io_policy() -> ReplyPolicy {
    ReplyPolicy {
        open_flags: OpenFlags::DIRECT_IO,
        ..ReplyPolicy::default()
    }
}

#[test]
fn success_header_counts_the_payload() {
    let reply = Reply::Data(Bytes::from_static(b"hello"));
    let header = out_header(0x1122_3344_5566_7788, &reply);
    let expected: &[u8] = &[
        0x15, 0, 0, 0, 0, 0, 0, 0, // len = 21 (16 + 5), error = 0
        0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // unique = 0x1122_3344_5566_7788
    ];
    assert_eq!(header.as_bytes(), expected);
    assert_eq!(reply.payload(), b"hello");
}

#[test]
fn error_header_carries_the_negative_errno_and_no_payload() {
    let reply = Reply::Error(Errno::ENOENT);
    let header = out_header(7, &reply);
    let expected: &[u8] = &[
        0x10, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, // len = 16, error = -2 (-ENOENT)
        0x07, 0, 0, 0, 0, 0, 0, 0, // unique = 7
    ];
    assert_eq!(header.as_bytes(), expected);
    assert_eq!(reply.payload(), b"");
    let eio = out_header(7, &Reply::Error(Errno::EIO));
    assert_eq!(eio.error, -libc::EIO);
}

#[test]
fn handler_error_becomes_an_error_reply() {
    let reply = Reply::from_result(Err(Errno::EACCES));
    let header = out_header(9, &reply);
    assert_eq!(header.error, -13);
    assert_eq!(header.len, 16);
    let ok = Reply::from_result(Ok(write(3)));
    assert_eq!(out_header(9, &ok).error, 0);
}

#[test]
fn empty_reply_is_a_bare_header() {
    let header = out_header(3, &Reply::Empty);
    let expected = abi::fuse_out_header {
        len: 16,
        error: 0,
        unique: 3,
    };
    assert_eq!(header, expected);
}

/// Whether a request is answered follows the opcode table's `Sent`, and nothing else.
#[test]
fn only_requests_the_kernel_waits_on_are_answered() {
    use crate::proto::opcodes::{Opcode, Sent};
    let header = |opcode| crate::proto::request::Header {
        unique: 12,
        opcode,
        nodeid: 1,
        uid: 0,
        gid: 0,
        pid: 0,
        ext_len: 0,
    };
    let values = (0..=u32::from(u16::MAX)).filter_map(|v| Opcode::from_raw(v).map(|op| (v, op)));
    for (value, op) in values {
        let response = Response::to(&header(value), Reply::Empty);
        match (op.sent(), response) {
            (Sent::Request, Response::Reply { unique: 12, .. }) => {}
            (Sent::Unanswered | Sent::Priority, Response::Unanswered) => {}
            (sent, response) => panic!("{}: {sent:?} gave {response:?}", op.name()),
        }
    }
    for unanswered in [
        abi::opcode::FUSE_FORGET,
        abi::opcode::FUSE_BATCH_FORGET,
        abi::opcode::FUSE_INTERRUPT,
        abi::opcode::FUSE_NOTIFY_REPLY,
    ] {
        let response = Response::to(&header(unanswered), Reply::Error(Errno::EIO));
        assert!(matches!(response, Response::Unanswered), "{response:?}");
    }
    // An opcode this library does not know is answered (ENOSYS), so its caller never hangs.
    let unknown = Response::to(&header(999), Reply::Error(Errno::ENOSYS));
    assert!(
        matches!(unknown, Response::Reply { unique: 12, .. }),
        "{unknown:?}"
    );
}

#[test]
fn fixed_reply_header_counts_the_struct() {
    let header = out_header(1, &write(5));
    assert_eq!(header.len, 16 + 8);
    assert_eq!(header.error, 0);
}

#[test]
fn entry_out_bytes() {
    let entry = entry_out(&sample(), &ReplyPolicy::default());
    let expected = [SAMPLE_ENTRY_HEAD, SAMPLE_ATTR].concat();
    assert_eq!(entry.as_bytes(), expected);
}

#[test]
fn times_before_the_epoch_are_negative_seconds_and_positive_nanoseconds() {
    let mut attr = sample();
    attr.atime = UNIX_EPOCH - Duration::from_secs(1);
    attr.mtime = UNIX_EPOCH - Duration::from_nanos(1);
    let a = fuse_attr(&attr, &ReplyPolicy::default());
    assert_eq!(a.atime as i64, -1);
    assert_eq!(a.atimensec, 0);
    assert_eq!(a.mtime as i64, -1);
    assert_eq!(a.mtimensec, 999_999_999);
    assert_eq!(a.ctime as i64, -2);
    assert_eq!(a.ctimensec, 500_000_000);
}

#[test]
fn umask_policy_clears_permission_bits_only() {
    let policy = ReplyPolicy {
        umask: Some(0o027),
        ..ReplyPolicy::default()
    };
    let entry = entry_out(&sample(), &policy);
    assert_eq!(entry.attr.mode, libc::S_IFREG | 0o640);
    // The type bits survive even a mask that names them.
    let policy = ReplyPolicy {
        umask: Some(0o170_777),
        ..ReplyPolicy::default()
    };
    let entry = entry_out(&sample(), &policy);
    assert_eq!(entry.attr.mode, libc::S_IFREG);
}

#[test]
fn uid_and_gid_policy_override_the_handler() {
    let policy = ReplyPolicy {
        uid: Some(0),
        gid: Some(65534),
        ..ReplyPolicy::default()
    };
    let entry = entry_out(&sample(), &policy);
    assert_eq!(entry.attr.uid, 0);
    assert_eq!(entry.attr.gid, 65534);
    let only_gid = ReplyPolicy {
        gid: Some(100),
        ..ReplyPolicy::default()
    };
    let entry = entry_out(&sample(), &only_gid);
    assert_eq!(entry.attr.uid, 1000);
    assert_eq!(entry.attr.gid, 100);
}

#[test]
fn timeout_policy_overrides_the_handler() {
    let policy = ReplyPolicy {
        entry_timeout: Some(Duration::from_millis(1500)),
        attr_timeout: Some(Duration::ZERO),
        ..ReplyPolicy::default()
    };
    let entry = entry_out(&sample(), &policy);
    assert_eq!(entry.entry_valid, 1);
    assert_eq!(entry.entry_valid_nsec, 500_000_000);
    assert_eq!(entry.attr_valid, 0);
    assert_eq!(entry.attr_valid_nsec, 0);
}

#[test]
fn negative_entry_uses_negative_timeout() {
    let negative = EntryAttributes::negative(Duration::from_secs(3));
    let policy = ReplyPolicy {
        entry_timeout: Some(Duration::from_secs(99)),
        negative_timeout: Some(Duration::new(10, 7)),
        ..ReplyPolicy::default()
    };
    let entry = entry_out(&negative, &policy);
    assert_eq!(entry.nodeid, 0);
    assert_eq!(entry.entry_valid, 10);
    assert_eq!(entry.entry_valid_nsec, 7);
    // Without negative_timeout the handler's value stands; entry_timeout is for real entries.
    let policy = ReplyPolicy {
        negative_timeout: None,
        ..policy
    };
    let entry = entry_out(&negative, &policy);
    assert_eq!(entry.entry_valid, 3);
    assert_eq!(entry.entry_valid_nsec, 0);
}

#[test]
fn attr_out_bytes() {
    let attr = attr_out(&sample(), &ReplyPolicy::default());
    let head: &[u8] = &[
        0x02, 0, 0, 0, 0, 0, 0, 0, // attr_valid = 2 s
        0x01, 0, 0, 0, 0, 0, 0, 0, // attr_valid_nsec = 1, dummy = 0
    ];
    assert_eq!(attr.as_bytes(), [head, SAMPLE_ATTR].concat());
}

#[test]
fn attr_out_applies_the_policy() {
    let policy = ReplyPolicy {
        attr_timeout: Some(Duration::new(60, 5)),
        uid: Some(0),
        umask: Some(0o077),
        ..ReplyPolicy::default()
    };
    let attr = attr_out(&sample(), &policy);
    assert_eq!(attr.attr_valid, 60);
    assert_eq!(attr.attr_valid_nsec, 5);
    assert_eq!(attr.attr.uid, 0);
    assert_eq!(attr.attr.mode, libc::S_IFREG | 0o600);
}

#[test]
fn open_out_ors_the_policy_flags() {
    let open = open_out(&FileInfo::new(42), &direct_io_policy(), None);
    assert_eq!(open.as_bytes(), OPEN_OUT);
    let plain = FileInfo {
        fh: FileHandle(1),
        flags: OpenFlags::empty(),
        backing: None,
    };
    let open = open_out(&plain, &ReplyPolicy::default(), None);
    assert_eq!(open.fh, 1);
    assert_eq!(open.open_flags, 0);
    assert_eq!(open.backing_id, 0);
}

#[test]
fn statfs_out_bytes() {
    let st = StatvfsData {
        bsize: 4096,
        frsize: 1024,
        blocks: 0x1_0000_0000,
        bfree: 500,
        bavail: 400,
        files: 100,
        ffree: 50,
        favail: 40,
        namemax: 255,
    };
    let expected: &[u8] = &[
        0x00, 0, 0, 0, 0x01, 0, 0, 0, // blocks = 0x1_0000_0000
        0xf4, 0x01, 0, 0, 0, 0, 0, 0, // bfree = 500
        0x90, 0x01, 0, 0, 0, 0, 0, 0, // bavail = 400
        0x64, 0, 0, 0, 0, 0, 0, 0, // files = 100
        0x32, 0, 0, 0, 0, 0, 0, 0, // ffree = 50 (favail has no field)
        0x00, 0x10, 0, 0, 0xff, 0, 0, 0, // bsize = 4096, namelen = 255
        0x00, 0x04, 0, 0, 0, 0, 0, 0, // frsize = 1024, padding = 0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // spare[0..4] = 0
        0, 0, 0, 0, 0, 0, 0, 0, // spare[4..6] = 0
    ];
    assert_eq!(statfs_out(&st).as_bytes(), expected);
}

#[test]
fn create_is_entry_then_open() {
    let policy = direct_io_policy();
    let reply = create(&sample(), &FileInfo::new(42), &policy, None);
    assert!(matches!(reply, Reply::Fixed(_)), "{reply:?}");
    let expected = [SAMPLE_ENTRY_HEAD, SAMPLE_ATTR, OPEN_OUT].concat();
    assert_eq!(reply.payload().len(), 144);
    assert_eq!(reply.payload(), expected);
    assert_eq!(out_header(1, &reply).len, 16 + 144);
}

#[test]
fn write_reports_the_size() {
    let expected: &[u8] = &[
        0x00, 0x10, 0, 0, 0, 0, 0, 0, // size = 4096, padding = 0
    ];
    assert_eq!(write(4096).payload(), expected);
}

#[test]
fn xattr_size_probe_answers_the_length() {
    let reply = xattr(Bytes::from_static(b"value"), 0);
    let expected: &[u8] = &[
        0x05, 0, 0, 0, 0, 0, 0, 0, // size = 5, padding = 0
    ];
    assert!(matches!(reply, Reply::Fixed(_)), "{reply:?}");
    assert_eq!(reply.payload(), expected);
    let empty = xattr(Bytes::new(), 0);
    assert_eq!(empty.payload(), [0; 8]);
}

#[test]
fn xattr_data_that_fits_is_sent_as_is() {
    for requested in [5, 64] {
        let reply = xattr(Bytes::from_static(b"value"), requested);
        assert!(matches!(reply, Reply::Data(_)), "{reply:?}");
        assert_eq!(reply.payload(), b"value");
        assert_eq!(out_header(1, &reply).len, 16 + 5);
    }
}

#[test]
fn xattr_data_too_large_is_erange() {
    let reply = xattr(Bytes::from_static(b"value"), 4);
    assert!(
        matches!(reply, Reply::Error(e) if e == Errno::ERANGE),
        "{reply:?}"
    );
    let header = out_header(1, &reply);
    assert_eq!(header.error, -libc::ERANGE);
    assert_eq!(header.len, 16);
}

#[test]
fn lock_bytes() {
    let lk = FileLock {
        start: 256,
        end: u64::MAX,
        typ: libc::F_WRLCK,
        pid: 4242,
    };
    let expected: &[u8] = &[
        0x00, 0x01, 0, 0, 0, 0, 0, 0, // start = 256
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // end = u64::MAX (to end of file)
        0x01, 0, 0, 0, 0x92, 0x10, 0, 0, // type = F_WRLCK (1), pid = 4242
    ];
    assert_eq!(lock(&lk).payload(), expected);
}

#[test]
fn statx_out_reports_every_field_with_btime() {
    let out = statx_out(&sample(), &ReplyPolicy::default());
    assert_eq!(out.attr_valid, 2);
    assert_eq!(out.attr_valid_nsec, 1);
    assert_eq!(out.flags, 0);
    let st = out.stat;
    assert_eq!(st.mask, libc::STATX_BASIC_STATS | libc::STATX_BTIME);
    assert_ne!(st.mask & libc::STATX_BTIME, 0);
    assert_eq!(st.blksize, 4096);
    assert_eq!(st.attributes, 0);
    assert_eq!(st.nlink, 3);
    assert_eq!(st.uid, 1000);
    assert_eq!(st.gid, 1001);
    assert_eq!(u32::from(st.mode), libc::S_IFREG | 0o664);
    assert_eq!(st.ino, 0x0a00_0000_0000_0002);
    assert_eq!(st.size, 0x1_0000_0001);
    assert_eq!(st.blocks, 9);
    assert_eq!((st.atime.tv_sec, st.atime.tv_nsec), (1_700_000_000, 123));
    assert_eq!((st.btime.tv_sec, st.btime.tv_nsec), (1_600_000_000, 789));
    assert_eq!((st.ctime.tv_sec, st.ctime.tv_nsec), (-2, 500_000_000));
    assert_eq!((st.mtime.tv_sec, st.mtime.tv_nsec), (1_700_000_001, 456));
    assert_eq!(st.rdev_major, 259);
    assert_eq!(st.rdev_minor, 0x12345);
    assert_eq!((st.dev_major, st.dev_minor), (0, 0));
}

#[test]
fn statx_out_places_fields_at_kernel_offsets() {
    let reply = fixed(&statx_out(&sample(), &ReplyPolicy::default()));
    let bytes = reply.payload();
    assert_eq!(bytes.len(), 288);
    // fuse_statx starts at 32; mask at +0, mode at +28, btime at +80, rdev_major at +128.
    assert_eq!(bytes[32..36], 0xfffu32.to_le_bytes());
    assert_eq!(bytes[60..62], 0o100_664u16.to_le_bytes());
    assert_eq!(bytes[112..120], 1_600_000_000i64.to_le_bytes());
    assert_eq!(bytes[120..124], 789u32.to_le_bytes());
    assert_eq!(bytes[160..164], 259u32.to_le_bytes());
    assert_eq!(bytes[164..168], 0x12345u32.to_le_bytes());
}

#[test]
fn statx_out_applies_the_policy() {
    let policy = ReplyPolicy {
        attr_timeout: Some(Duration::from_secs(30)),
        uid: Some(0),
        gid: Some(0),
        umask: Some(0o022),
        ..ReplyPolicy::default()
    };
    let out = statx_out(&sample(), &policy);
    assert_eq!((out.attr_valid, out.attr_valid_nsec), (30, 0));
    assert_eq!((out.stat.uid, out.stat.gid), (0, 0));
    assert_eq!(u32::from(out.stat.mode), libc::S_IFREG | 0o644);
}

#[test]
fn directory_attributes_from_the_constructor_encode_as_expected() {
    let attr = EntryAttributes::new(Inode::ROOT, FileType::Directory, 0o755);
    let a = fuse_attr(&attr, &ReplyPolicy::default());
    assert_eq!(a.ino, 1);
    assert_eq!(a.mode, libc::S_IFDIR | 0o755);
    assert_eq!(a.nlink, 2);
    assert_eq!((a.atime, a.atimensec), (0, 0));
    assert_eq!(a.flags, 0);
}

#[test]
fn xattr_names_are_nul_separated_under_the_size_rules() {
    use std::ffi::OsString;
    let names = [OsString::from("user.a"), OsString::from("user.bc")];
    let reply = xattr_names(&names, 64);
    assert_eq!(reply.payload(), b"user.a\0user.bc\0");
    // A size probe answers the 15 bytes needed.
    assert_eq!(xattr_names(&names, 0).payload(), [15, 0, 0, 0, 0, 0, 0, 0]);
    assert!(matches!(
        xattr_names(&names, 14),
        Reply::Error(Errno::ERANGE)
    ));
}

#[test]
fn passthrough_open_keeps_only_the_flags_the_kernel_accepts_with_it() {
    let mut info = FileInfo::new(42);
    info.flags = OpenFlags::KEEP_CACHE | OpenFlags::DIRECT_IO;
    let open = open_out(&info, &ReplyPolicy::default(), Some(3));
    assert_eq!(open.fh, 42);
    assert_eq!(open.backing_id, 3);
    assert_eq!(
        open.open_flags,
        abi::FOPEN_PASSTHROUGH | abi::FOPEN_DIRECT_IO,
        "KEEP_CACHE dropped"
    );
    let plain = open_out(&info, &ReplyPolicy::default(), None);
    assert_eq!(plain.backing_id, 0);
    assert_eq!(plain.open_flags & abi::FOPEN_PASSTHROUGH, 0);
}

#[test]
fn copy_file_range_counts_are_32_bit_unless_wide() {
    assert_eq!(copied(5, false).payload(), [5, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        copied(1 << 33, false).payload(),
        [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]
    );
    assert_eq!(copied(1 << 33, true).payload(), (1u64 << 33).to_le_bytes());
}

#[test]
fn ioctl_reply_is_the_result_then_the_data() {
    let reply = ioctl(-7, b"out");
    let expected = [
        0xf9, 0xff, 0xff, 0xff, 0, 0, 0, 0, // result = -7, flags = 0
        0, 0, 0, 0, 0, 0, 0, 0, // in_iovs = 0, out_iovs = 0
        b'o', b'u', b't',
    ];
    assert_eq!(reply.payload(), expected);
}

#[test]
fn opendir_answers_the_handlers_handle_and_flags() {
    let open = opendir(&FileInfo::new(9));
    let expected = [
        9, 0, 0, 0, 0, 0, 0, 0, // fh = 9
        2, 0, 0, 0, 0, 0, 0, 0, // open_flags = FOPEN_KEEP_CACHE, backing_id = 0
    ];
    assert_eq!(open.payload(), expected);
}
