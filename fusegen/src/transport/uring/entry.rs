//! One io_uring ring entry: the memory the kernel writes a request into and reads the reply
//! from, and the two commands that hand it to the kernel (REGISTER, COMMIT_AND_FETCH).
//!
//! Layout of an entry's mapping (offsets in bytes):
//! - `0..288`: `fuse_uring_req_header` (iov[0]): `in_out` holds the `fuse_in_header` of a
//!   request and the `fuse_out_header` of its reply, `op_in` the request's first argument,
//!   `ring_ent_in_out` the commit id and payload size.
//! - `512..`: the `iovec[2]` that REGISTER points the kernel at.
//! - `PAYLOAD - 168..PAYLOAD`: scratch, where the in-header and first argument are copied so
//!   that header, arguments and payload form one contiguous message, exactly as a `/dev/fuse`
//!   read returns it: the request parser works unchanged and the payload is not copied.
//! - `PAYLOAD..`: the payload buffer (iov[1]): remaining request arguments, reply data.

use std::os::fd::RawFd;

use zerocopy::{FromBytes, IntoBytes};

use crate::proto::abi;
use crate::proto::reply::{self, Reply, Response, Wire};
use crate::sys::{EntryLayout, FuseCommand, RingMemory};

const HEADER: usize = 0;
const HEADER_LEN: usize = size_of::<abi::fuse_uring_req_header>();
const OP_IN: usize = HEADER + abi::FUSE_URING_IN_OUT_HEADER_SZ;
const ENT_IN_OUT: usize = OP_IN + abi::FUSE_URING_OP_IN_OUT_SZ;
const PAYLOAD_SZ: usize = ENT_IN_OUT + 16;
const IOVECS: usize = 512;
/// Page-aligned start of the payload buffer.
const PAYLOAD: usize = 4096;
const IN_HEADER_LEN: usize = size_of::<abi::fuse_in_header>();

const _: () = assert!(HEADER_LEN <= IOVECS && IOVECS + 4 * size_of::<usize>() <= PAYLOAD);
const _: () = assert!(IOVECS + 4 * size_of::<usize>() <= PAYLOAD - IN_HEADER_LEN - 128);

/// Why an entry's request could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EntryError {
    #[error("request header says {len} bytes with a {payload}-byte payload (buffer {capacity})")]
    BadSizes {
        len: u32,
        payload: u32,
        capacity: usize,
    },
}

/// One ring entry, owned by whoever holds it: the queue while the kernel has its command,
/// a handler task while a request is being served.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The entry's index in its queue, also the `user_data` of its commands.
    pub(crate) index: usize,
    memory: RingMemory,
    capacity: usize,
}

impl Entry {
    /// Maps the memory of an entry whose payload buffer holds `capacity` bytes.
    pub(crate) fn new(index: usize, capacity: usize) -> std::io::Result<Entry> {
        let capacity = capacity.next_multiple_of(4096);
        let layout = EntryLayout {
            header: HEADER..HEADER + HEADER_LEN,
            payload: PAYLOAD..PAYLOAD + capacity,
            iovecs: IOVECS,
        };
        let memory = RingMemory::new(PAYLOAD + capacity, layout)?;
        Ok(Entry {
            index,
            memory,
            capacity,
        })
    }

    /// `FUSE_IO_URING_CMD_REGISTER`: hands the entry's buffers to queue `qid`.
    pub(crate) fn register(&self, dev: RawFd, qid: u16) -> FuseCommand<'_> {
        FuseCommand {
            dev,
            op: abi::FUSE_IO_URING_CMD_REGISTER,
            cmd: command(0, qid),
            buffers: Some(&self.memory),
            user_data: self.index as u64,
        }
    }

    /// `FUSE_IO_URING_CMD_COMMIT_AND_FETCH`: delivers the reply written by
    /// [`write_response`](Entry::write_response) and waits for the next request.
    pub(crate) fn commit(&self, dev: RawFd, qid: u16) -> FuseCommand<'static> {
        FuseCommand {
            dev,
            op: abi::FUSE_IO_URING_CMD_COMMIT_AND_FETCH,
            cmd: command(self.commit_id(), qid),
            buffers: None,
            user_data: self.index as u64,
        }
    }

    fn header(&self) -> abi::fuse_uring_req_header {
        let bytes = &self.memory.bytes()[HEADER..HEADER + HEADER_LEN];
        // The slice has exactly the struct's size, so this cannot fail.
        abi::fuse_uring_req_header::read_from_bytes(bytes).unwrap_or_else(|_| unreachable!())
    }

    /// The id the kernel gave the request in this entry (its `unique`).
    pub(crate) fn commit_id(&self) -> u64 {
        self.header().ring_ent_in_out.commit_id
    }

    /// Lays the request out as one contiguous message (header, arguments, payload) and returns
    /// its byte range in [`bytes`](Entry::bytes).
    pub(crate) fn request(&mut self) -> Result<std::ops::Range<usize>, EntryError> {
        let header = self.header();
        let in_header =
            abi::fuse_in_header::read_from_prefix(&header.in_out).map_or(0, |(h, _)| h.len);
        let payload = header.ring_ent_in_out.payload_sz;
        let bad = EntryError::BadSizes {
            len: in_header,
            payload,
            capacity: self.capacity,
        };
        let op_len = (in_header as usize)
            .checked_sub(IN_HEADER_LEN + payload as usize)
            .ok_or(bad.clone())?;
        if op_len > abi::FUSE_URING_OP_IN_OUT_SZ || payload as usize > self.capacity {
            return Err(bad);
        }
        let start = PAYLOAD - op_len - IN_HEADER_LEN;
        let bytes = self.memory.bytes_mut();
        bytes.copy_within(OP_IN..OP_IN + op_len, PAYLOAD - op_len);
        bytes.copy_within(HEADER..HEADER + IN_HEADER_LEN, start);
        Ok(start..PAYLOAD + payload as usize)
    }

    /// The entry's memory (the request range from [`request`](Entry::request) lies in it).
    pub(crate) fn bytes(&self) -> &[u8] {
        self.memory.bytes()
    }

    /// Writes the answer to request `unique` into the entry, for COMMIT_AND_FETCH.
    ///
    /// The kernel gives an entry back only with a commit, so a request without a reply
    /// (NOTIFY_REPLY; FORGET and INTERRUPT never use the ring) still commits:
    /// an empty success, which ends it in the kernel (`fuse_request_end`) and reaches no caller.
    pub(crate) fn write_response(&mut self, unique: u64, response: &Response) {
        match response {
            Response::Reply { reply, .. } => self.write_reply(unique, reply),
            Response::Unanswered => self.write_reply(unique, &Reply::Empty),
        }
    }

    /// Writes the reply to request `unique` into the entry. A reply too large for the payload
    /// buffer (which the kernel sized for the largest it accepts) becomes `EIO`. READ data
    /// still in a file is read straight into the payload buffer.
    fn write_reply(&mut self, unique: u64, reply: &Reply) {
        let capacity = self.capacity;
        match reply::wire(unique, reply) {
            Wire::File(range) => {
                let payload = &mut self.memory.bytes_mut()[PAYLOAD..PAYLOAD + capacity];
                match range.read_into(payload) {
                    Ok(n) => self.write_header(reply::data_header(unique, n), n),
                    Err(errno) => self.write_header(reply::error_header(unique, errno), 0),
                }
            }
            Wire::Bytes(_, payload) if payload.len() > capacity => {
                tracing::warn!(
                    unique,
                    len = payload.len(),
                    "reply larger than the io_uring payload buffer, answering EIO"
                );
                self.write_header(reply::error_header(unique, crate::Errno::EIO), 0);
            }
            Wire::Bytes(header, payload) => {
                self.memory.bytes_mut()[PAYLOAD..PAYLOAD + payload.len()].copy_from_slice(payload);
                self.write_header(header, payload.len());
            }
        }
    }

    /// The reply's header and the length of the payload already in place.
    fn write_header(&mut self, out: abi::fuse_out_header, payload: usize) {
        let bytes = self.memory.bytes_mut();
        bytes[HEADER..HEADER + size_of::<abi::fuse_out_header>()].copy_from_slice(out.as_bytes());
        let size = u32::try_from(payload).unwrap_or(u32::MAX);
        bytes[PAYLOAD_SZ..PAYLOAD_SZ + 4].copy_from_slice(&size.to_ne_bytes());
    }
}

/// The command area of a FUSE io_uring command: `fuse_uring_cmd_req`, zero-padded.
fn command(commit_id: u64, qid: u16) -> [u8; 80] {
    let req = abi::fuse_uring_cmd_req {
        flags: 0,
        commit_id,
        qid,
        padding: [0; 6],
    };
    let mut cmd = [0u8; 80];
    cmd[..size_of::<abi::fuse_uring_cmd_req>()].copy_from_slice(req.as_bytes());
    cmd
}

/// A REGISTER the kernel refuses (no such queue): its failure switches the connection back
/// to `/dev/fuse` and wakes requests that were waiting for the ring to become ready.
pub(crate) fn abandon(dev: RawFd) -> FuseCommand<'static> {
    FuseCommand {
        dev,
        op: abi::FUSE_IO_URING_CMD_REGISTER,
        cmd: command(0, u16::MAX),
        buffers: None,
        user_data: u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills the entry as the kernel would for a request with `op_in` and `payload`.
    fn kernel_writes(e: &mut Entry, unique: u64, opcode: u32, op_in: &[u8], payload: &[u8]) {
        let h = abi::fuse_in_header {
            len: (IN_HEADER_LEN + op_in.len() + payload.len()) as u32,
            opcode,
            unique,
            nodeid: 1,
            ..Default::default()
        };
        let bytes = e.memory.bytes_mut();
        bytes[HEADER..HEADER + IN_HEADER_LEN].copy_from_slice(h.as_bytes());
        bytes[OP_IN..OP_IN + op_in.len()].copy_from_slice(op_in);
        bytes[PAYLOAD..PAYLOAD + payload.len()].copy_from_slice(payload);
        let ent = abi::fuse_uring_ent_in_out {
            commit_id: unique,
            payload_sz: payload.len() as u32,
            ..Default::default()
        };
        bytes[ENT_IN_OUT..ENT_IN_OUT + 32].copy_from_slice(ent.as_bytes());
    }

    #[test]
    fn request_is_laid_out_like_a_device_read() {
        let mut e = Entry::new(0, 8192).unwrap();
        let write_in = [7u8; 40];
        kernel_writes(&mut e, 42, abi::opcode::FUSE_WRITE, &write_in, b"data!");
        assert_eq!(e.commit_id(), 42);
        let range = e.request().unwrap();
        let msg = &e.bytes()[range.clone()];
        assert_eq!(msg.len(), 40 + 40 + 5);
        assert_eq!(range.start % 8, 0, "structs are borrowed in place");
        let h = crate::proto::request::parse_header(msg).unwrap();
        assert_eq!((h.unique, h.opcode), (42, abi::opcode::FUSE_WRITE));
        assert_eq!(&msg[40..80], &write_in);
        assert_eq!(&msg[80..], b"data!");
    }

    #[test]
    fn lookup_has_an_empty_first_argument_and_the_name_in_the_payload() {
        let mut e = Entry::new(1, 8192).unwrap();
        kernel_writes(&mut e, 8, abi::opcode::FUSE_LOOKUP, &[], b"name\0");
        let range = e.request().unwrap();
        let req = crate::proto::request::parse(&e.bytes()[range], Default::default()).unwrap();
        assert!(
            matches!(req.op, crate::proto::request::Operation::Lookup { name } if name == "name")
        );
    }

    #[test]
    fn inconsistent_sizes_are_refused() {
        let mut e = Entry::new(0, 8192).unwrap();
        kernel_writes(&mut e, 2, abi::opcode::FUSE_READ, &[0; 40], &[]);
        // Claim a payload larger than the message.
        let bytes = e.memory.bytes_mut();
        bytes[PAYLOAD_SZ..PAYLOAD_SZ + 4].copy_from_slice(&100u32.to_ne_bytes());
        assert!(matches!(e.request(), Err(EntryError::BadSizes { .. })));
    }

    #[test]
    fn reply_goes_to_header_and_payload() {
        let mut e = Entry::new(0, 8192).unwrap();
        e.write_reply(6, &Reply::Data(bytes::Bytes::from_static(b"hello")));
        let h = e.header();
        let (out, _) = abi::fuse_out_header::read_from_prefix(&h.in_out).unwrap();
        assert_eq!((out.len, out.error, out.unique), (21, 0, 6));
        assert_eq!(h.ring_ent_in_out.payload_sz, 5);
        assert_eq!(&e.bytes()[PAYLOAD..PAYLOAD + 5], b"hello");

        e.write_reply(8, &Reply::Error(crate::Errno::ENOENT));
        let h = e.header();
        let (out, _) = abi::fuse_out_header::read_from_prefix(&h.in_out).unwrap();
        assert_eq!((out.error, out.unique), (-libc::ENOENT, 8));
        assert_eq!(h.ring_ent_in_out.payload_sz, 0);
    }

    #[test]
    fn unanswered_request_commits_an_empty_success() {
        let mut e = Entry::new(0, 8192).unwrap();
        e.write_reply(3, &Reply::Data(bytes::Bytes::from_static(b"stale")));
        e.write_response(10, &Response::Unanswered);
        let h = e.header();
        let (out, _) = abi::fuse_out_header::read_from_prefix(&h.in_out).unwrap();
        assert_eq!((out.len, out.error, out.unique), (16, 0, 10));
        assert_eq!(h.ring_ent_in_out.payload_sz, 0);
    }

    #[test]
    fn oversized_reply_becomes_eio() {
        let mut e = Entry::new(0, 4096).unwrap();
        e.write_reply(4, &Reply::Data(bytes::Bytes::from(vec![0u8; 8192])));
        let (out, _) = abi::fuse_out_header::read_from_prefix(&e.header().in_out).unwrap();
        assert_eq!(out.error, -libc::EIO);
    }

    #[test]
    fn register_points_at_two_iovecs_and_names_the_queue() {
        let e = Entry::new(3, 8192).unwrap();
        let register = e.register(5, 1);
        assert_eq!((register.user_data, register.dev), (3, 5));
        assert_eq!(register.op, abi::FUSE_IO_URING_CMD_REGISTER);
        assert_eq!(u16::from_ne_bytes([register.cmd[16], register.cmd[17]]), 1);
        let w = size_of::<usize>();
        let b = e.bytes();
        let base0 = usize::from_ne_bytes(b[IOVECS..IOVECS + w].try_into().unwrap());
        let len1 = usize::from_ne_bytes(b[IOVECS + 3 * w..IOVECS + 4 * w].try_into().unwrap());
        assert_eq!(base0 as u64, e.memory.addr(0));
        assert_eq!(len1, 8192);
    }
}
