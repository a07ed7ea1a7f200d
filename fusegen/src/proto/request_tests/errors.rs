//! Malformed, truncated and random messages: errors, never panics.

use super::*;

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
    assert_eq!(
        parse_header(msg.bytes()).unwrap(),
        Header::from(&msg.header)
    );
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
