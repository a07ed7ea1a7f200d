//! Optional building blocks for filesystem authors, on top of the API: an inode table with
//! lookup counts (`inodes.rs`), directory listings (`dir_entries.rs`), POSIX and `flock`
//! locks (`locks.rs`), path-level filesystems (`paths/`) and plain `fn` handlers run on
//! tokio's blocking pool (`blocking.rs`, with the hand-off both levels share in `handoff.rs`).
//! Public as `fusegen::inodes`, `fusegen::locks`, `fusegen::paths` and
//! `fusegen::{Blocking, BlockingOperations}`.

pub(crate) mod blocking;
pub(crate) mod dir_entries;
pub(crate) mod handoff;
pub mod inodes;
pub mod locks;
pub mod paths;
