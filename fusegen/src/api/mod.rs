//! What a filesystem author writes against: the `Operations` trait (`operations.rs`), the
//! `Filesystem` trait (`filesystem.rs`), the values handlers take and return (`types.rs`,
//! `errno.rs`, `read_data.rs`, `write_data.rs`), the lifecycle's `Error` (`error.rs`) and the items only macro-generated code
//! uses (`private.rs`). Re-exported from the crate root.

pub(crate) mod errno;
pub(crate) mod error;
pub(crate) mod filesystem;
pub(crate) mod in_place;
pub(crate) mod interruption;
pub(crate) mod operations;
pub(crate) mod private;
pub(crate) mod read_data;
pub(crate) mod types;
pub(crate) mod write_data;
