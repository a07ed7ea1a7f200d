//! The kernel protocol, with no I/O: the ABI (`abi.rs`), bytes to typed requests
//! (`request.rs`, whose opcodes are the table in `opcodes.rs` and whose argument views are in
//! `op.rs`), replies to bytes (`reply.rs`, `dir.rs`) and INIT negotiation (`init.rs`).
//! Nothing here reads or writes a descriptor, and nothing here knows the server or a transport.

pub mod abi;
pub(crate) mod dir;
pub(crate) mod init;
pub(crate) mod op;
pub(crate) mod opcodes;
pub(crate) mod reply;
pub(crate) mod request;
