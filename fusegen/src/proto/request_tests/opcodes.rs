//! One byte fixture per opcode: every parsed field is checked.

use super::*;
use crate::api::types::{FileHandle, Inode, SetAttr, time_from_kernel};
use crate::api::write_data::WriteData;
use crate::proto::op;

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
    assert_eq!(req.header.opcode, FUSE_FORGET);
    assert_eq!(req.header.unique, 0x8000_0002_0000_0011);
    assert_eq!(req.header.nodeid, 0x2_0000_0005);
    assert_eq!(req.header.uid, 1000);
    assert_eq!(req.header.gid, 1001);
    assert_eq!(req.header.pid, 4242);
    assert_eq!(req.header.ext_len, 24, "total_extlen = 3 units of 8 bytes");
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
    assert_eq!(arg.fh, Some(FileHandle(FH)));
}

#[test]
fn setattr_reads_every_field() {
    let msg = request(FUSE_SETATTR, SETATTR_IN);
    let arg = expect_op!(op(&msg), Operation::Setattr { arg } => arg);
    // valid = 0x67f: mode, uid, gid, size, atime, mtime, fh, lock owner, ctime; no *_NOW.
    let expected = SetAttr {
        mode: Some(libc::S_IFREG | 0o644),
        uid: Some(1000),
        gid: Some(1001),
        size: Some(0x1_0000_1000),
        atime: Some(time_from_kernel(1_700_000_000, 1)),
        mtime: Some(time_from_kernel(1_700_000_001, 2)),
        ctime: Some(time_from_kernel(-1, 3)),
        kill_suidgid: false,
        lock_owner: Some(LOCK_OWNER),
    };
    assert_eq!(arg.set, expected);
    assert_eq!(arg.fh, Some(FileHandle(FH)));
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
    assert_eq!(arg.oldnodeid, Inode(0x3000_0000_0000_000b));
    assert_eq!(name, "hard");
}

#[test]
fn open_reads_flags_and_open_flags() {
    let msg = request(FUSE_OPEN, OPEN_IN);
    let arg = expect_op!(op(&msg), Operation::Open { arg } => arg);
    assert_eq!(arg.flags, 0x8002);
    assert!(arg.kill_suidgid);
}

#[test]
fn read_reads_every_field() {
    let msg = request(FUSE_READ, READ_IN);
    let arg = expect_op!(op(&msg), Operation::Read { arg } => arg);
    assert_eq!(arg.fh, FileHandle(FH));
    assert_eq!(arg.offset, 0x1_0000_1000);
    assert_eq!(arg.size, 0x2_0000);
    // read_flags = FUSE_READ_LOCKOWNER
    assert_eq!(arg.lock_owner, Some(LOCK_OWNER));
    assert_eq!(arg.flags, 0x800);
}

#[test]
fn write_with_its_data_in_a_pipe_parses_the_head_and_checks_the_size() {
    let msg = request(FUSE_WRITE, WRITE_IN);
    // The transport kept the 5 data bytes out of the buffer: the head is the first 80.
    let head = &msg.bytes()[..80];
    assert!(parse_header(head).is_err(), "the header counts the data");
    let header = parse_split_header(head, 5).expect("header with 5 bytes elsewhere");
    assert_eq!(header.opcode, FUSE_WRITE);
    let req = parse_write_in_pipe(header, head, WriteData::from(&b"data!"[..])).expect("WRITE");
    let (arg, data) = expect_op!(req.op, Operation::Write { arg, data } => (arg, data));
    assert_eq!((arg.offset, arg.size, data.len()), (512, 5, 5));
    let short = parse_write_in_pipe(header, head, WriteData::from(&b"dat"[..]));
    assert_eq!(short.err(), Some(truncated(FUSE_WRITE, "write data", 5, 3)));
    let other = Header {
        opcode: FUSE_READ,
        ..header
    };
    let refused = parse_write_in_pipe(other, head, WriteData::from(&b"data!"[..]));
    assert_eq!(
        refused.err(),
        Some(RequestError::DataInPipe {
            opcode: opcode_name(FUSE_READ)
        })
    );
}

#[test]
fn write_reads_arguments_and_exactly_size_bytes_of_payload() {
    let msg = request(FUSE_WRITE, WRITE_IN);
    let (arg, data) = expect_op!(op(&msg), Operation::Write { arg, data } => (arg, data));
    assert_eq!(arg.fh, FileHandle(FH));
    assert_eq!(arg.offset, 512);
    assert_eq!(arg.size, 5);
    // write_flags = FUSE_WRITE_CACHE | FUSE_WRITE_LOCKOWNER
    assert!(arg.cached && !arg.kill_suidgid);
    assert_eq!(arg.lock_owner, Some(LOCK_OWNER));
    assert_eq!(arg.flags, 0x401);
    assert_eq!(data.as_slice(), Some(&b"data!"[..]));
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
    assert_eq!(arg.fh, FileHandle(FH));
    assert_eq!(arg.flags, 0x8002);
    // release_flags = FUSE_RELEASE_FLUSH | FUSE_RELEASE_FLOCK_UNLOCK
    assert!(arg.flush && arg.flock_unlock);
    assert_eq!(arg.lock_owner, LOCK_OWNER);
}

#[test]
fn fsync_reads_fh_and_datasync_flag() {
    let msg = request(FUSE_FSYNC, FSYNC_IN);
    let arg = expect_op!(op(&msg), Operation::Fsync { arg } => arg);
    assert_eq!(arg.fh, FileHandle(FH));
    assert!(arg.datasync);
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
    assert_eq!(arg.fh, FileHandle(FH));
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
    assert!(!arg.kill_suidgid);
}

#[test]
fn readdir_reads_fh_offset_and_size() {
    let msg = request(FUSE_READDIR, READDIR_IN);
    let arg = expect_op!(op(&msg), Operation::Readdir { arg } => arg);
    assert_eq!(arg.fh, FileHandle(0x1000_0000_0000_0008));
    assert_eq!(arg.offset, 3);
    assert_eq!(arg.size, 4096);
    assert_eq!(arg.flags, 0x10800);
}

#[test]
fn readdirplus_reads_the_same_struct_as_readdir() {
    let msg = request(FUSE_READDIRPLUS, READDIR_IN);
    let arg = expect_op!(op(&msg), Operation::Readdirplus { arg } => arg);
    assert_eq!(arg.fh, FileHandle(0x1000_0000_0000_0008));
    assert_eq!(arg.offset, 3);
    assert_eq!(arg.size, 4096);
    assert_eq!(arg.flags, 0x10800);
}

#[test]
fn releasedir_reads_fh_flags_and_lock_owner() {
    let msg = request(FUSE_RELEASEDIR, RELEASE_IN);
    let arg = expect_op!(op(&msg), Operation::Releasedir { arg } => arg);
    assert_eq!(arg.fh, FileHandle(FH));
    assert_eq!(arg.flags, 0x8002);
    assert_eq!(arg.lock_owner, LOCK_OWNER);
}

#[test]
fn fsyncdir_reads_fh_and_datasync_flag() {
    let msg = request(FUSE_FSYNCDIR, FSYNC_IN);
    let arg = expect_op!(op(&msg), Operation::Fsyncdir { arg } => arg);
    assert_eq!(arg.fh, FileHandle(FH));
    assert!(arg.datasync);
}

fn assert_lk_in(arg: &op::LockIn) {
    assert_eq!(arg.fh, FileHandle(FH));
    assert_eq!(arg.owner, 0x4000_0000_0bad_f00d);
    assert_eq!(arg.lock.start, 256);
    assert_eq!(arg.lock.end, 511);
    assert_eq!(arg.lock.typ, libc::F_WRLCK);
    assert_eq!(arg.lock.pid, 4242);
    assert!(arg.flock);
}

#[test]
fn getlk_reads_the_lock() {
    let msg = request(FUSE_GETLK, LK_IN);
    assert_lk_in(&expect_op!(op(&msg), Operation::Getlk { arg } => arg));
}

#[test]
fn setlk_does_not_sleep() {
    let msg = request(FUSE_SETLK, LK_IN);
    let (arg, sleep) = expect_op!(op(&msg), Operation::Setlk { arg, sleep } => (arg, sleep));
    assert_lk_in(&arg);
    assert!(!sleep);
}

#[test]
fn setlkw_sleeps() {
    let msg = request(FUSE_SETLKW, LK_IN);
    let (arg, sleep) = expect_op!(op(&msg), Operation::Setlk { arg, sleep } => (arg, sleep));
    assert_lk_in(&arg);
    assert!(sleep);
}

#[test]
fn access_reads_the_mask() {
    let msg = request(FUSE_ACCESS, ACCESS_IN);
    let mask = expect_op!(op(&msg), Operation::Access { arg } => arg.mask);
    assert_eq!(mask, libc::R_OK | libc::W_OK);
}

fn assert_create_in(arg: &op::CreateIn) {
    assert_eq!(arg.flags, 0x241);
    assert_eq!(arg.mode, libc::S_IFREG | 0o644);
    assert_eq!(arg.umask, 0o022);
    assert!(arg.kill_suidgid);
}

#[test]
fn create_reads_flags_mode_umask_and_name() {
    let msg = request(FUSE_CREATE, CREATE_IN);
    let (arg, name) = expect_op!(op(&msg), Operation::Create { arg, name } => (arg, name));
    assert_create_in(&arg);
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
    assert_eq!(arg.fh, FileHandle(FH));
    assert!(arg.unrestricted);
    assert_eq!(arg.cmd, 0x5401);
    assert_eq!(arg.arg, 0x7f00_0000_1000);
    // in_size = 3: the data below
    assert_eq!(arg.out_size, 8);
    assert_eq!(data, [1, 2, 3]);
}

#[test]
fn poll_reads_fh_kh_flags_and_events() {
    let msg = request(FUSE_POLL, POLL_IN);
    let arg = expect_op!(op(&msg), Operation::Poll { arg } => arg);
    assert_eq!(arg.fh, FileHandle(FH));
    // flags = FUSE_POLL_SCHEDULE_NOTIFY: the handle to wake comes with it
    assert_eq!(arg.kh, Some(0x0200_0000_0000_0005));
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
    let pairs: Vec<(u64, u64)> = forgets.iter().map(|f| (f.ino.0, f.nlookup)).collect();
    assert_eq!(
        pairs,
        [(2, 1), (0x5000_0000_0000_0003, 10), (4, 0xffff_ffff)]
    );
}

#[test]
fn fallocate_reads_every_field() {
    let msg = request(FUSE_FALLOCATE, FALLOCATE_IN);
    let arg = expect_op!(op(&msg), Operation::Fallocate { arg } => arg);
    assert_eq!(arg.fh, FileHandle(FH));
    assert_eq!(arg.offset, 4096);
    assert_eq!(arg.length, 0x10_0000);
    let mode = libc::FALLOC_FL_KEEP_SIZE | libc::FALLOC_FL_PUNCH_HOLE;
    assert_eq!(arg.mode, mode);
}

#[test]
fn lseek_reads_fh_offset_and_whence() {
    let msg = request(FUSE_LSEEK, LSEEK_IN);
    let arg = expect_op!(op(&msg), Operation::Lseek { arg } => arg);
    assert_eq!(arg.fh, FileHandle(FH));
    assert_eq!(arg.offset, 4096);
    assert_eq!(arg.whence, libc::SEEK_DATA);
}

fn assert_copy_file_range_in(arg: &op::CopyFileRangeIn) {
    assert_eq!(arg.fh_in, FileHandle(FH));
    assert_eq!(arg.off_in, 4096);
    assert_eq!(arg.nodeid_out, Inode(0x2000_0000_0000_0009));
    assert_eq!(arg.fh_out, FileHandle(8));
    assert_eq!(arg.off_out, 0x1_0000_0000);
    assert_eq!(arg.len, 0x10_0000);
    assert_eq!(arg.flags, 0);
}

#[test]
fn copy_file_range_is_not_wide() {
    let msg = request(FUSE_COPY_FILE_RANGE, COPY_FILE_RANGE_IN);
    let (arg, wide) = expect_op!(op(&msg), Operation::CopyFileRange { arg, wide } => (arg, wide));
    assert_copy_file_range_in(&arg);
    assert!(!wide);
}

#[test]
fn copy_file_range_64_is_wide() {
    let msg = request(FUSE_COPY_FILE_RANGE_64, COPY_FILE_RANGE_IN);
    let (arg, wide) = expect_op!(op(&msg), Operation::CopyFileRange { arg, wide } => (arg, wide));
    assert_copy_file_range_in(&arg);
    assert!(wide);
}

#[test]
fn setupmapping_reads_every_field() {
    let msg = request(FUSE_SETUPMAPPING, SETUPMAPPING_IN);
    let arg = expect_op!(op(&msg), Operation::Setupmapping { arg } => arg);
    assert_eq!(arg.fh, FileHandle(FH));
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
    expect_op!(op(&msg), Operation::Syncfs => ());
}

#[test]
fn tmpfile_reads_a_create_struct_and_name() {
    let msg = request(FUSE_TMPFILE, CREATE_IN);
    let (arg, name) = expect_op!(op(&msg), Operation::Tmpfile { arg, name } => (arg, name));
    assert_create_in(&arg);
    assert_eq!(name, "new");
}

#[test]
fn statx_reads_flags_fh_and_mask() {
    let msg = request(FUSE_STATX, STATX_IN);
    let arg = expect_op!(op(&msg), Operation::Statx { arg } => arg);
    assert_eq!(arg.fh, Some(FileHandle(FH)));
    assert_eq!(arg.flags, libc::AT_STATX_DONT_SYNC as u32);
    assert_eq!(arg.mask, libc::STATX_BASIC_STATS | libc::STATX_BTIME);
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
