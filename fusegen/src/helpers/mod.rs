//! Optional building blocks for filesystem authors, on top of the API: an inode table with
//! lookup counts (`inodes.rs`), directory listings (`dir_entries.rs`), POSIX and `flock`
//! locks (`locks.rs`) and path-level filesystems (`paths/`). Public as `fusegen::inodes`,
//! `fusegen::locks` and `fusegen::paths`.

pub(crate) mod dir_entries;
pub mod inodes;
pub mod locks;
pub mod paths;
