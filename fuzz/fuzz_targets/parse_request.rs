//! Every byte string the kernel could send must parse or fail cleanly, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zerocopy::IntoBytes;

fuzz_target!(|data: &[u8]| {
    // The session reads into an 8-byte-aligned buffer; do the same so structs borrow in place.
    let mut words = vec![0u64; data.len().div_ceil(8)];
    let buf = &mut words.as_mut_bytes()[..data.len()];
    buf.copy_from_slice(data);
    fusegen::__fuzzing::parse_request(buf);
});
