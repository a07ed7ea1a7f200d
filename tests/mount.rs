//! Tests against real FUSE mounts: the kernel is the client, driven through `std::fs`,
//! `libc` and external tools. Each file is named after the area it covers.

mod mount {
    pub mod common;
    pub mod fixture;
}
#[path = "mount/concurrency.rs"]
mod concurrency;
#[path = "mount/errors.rs"]
mod errors;
#[path = "mount/example_hello.rs"]
mod example_hello;
#[path = "mount/lifecycle.rs"]
mod lifecycle;
#[path = "mount/options.rs"]
mod options;
