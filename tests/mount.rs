//! Tests against real FUSE mounts: the kernel is the client, driven through `std::fs`,
//! `libc` and external tools. Each file is named after the area it covers. The io_uring
//! tests are a binary of their own (`uring.rs`): they switch the `fuse` module's
//! `enable_uring`, which would change the transport of mounts made concurrently here.

mod mount {
    pub mod common;
    pub mod fixture;
    pub mod gate;
}
#[path = "mount/backing.rs"]
mod backing;
#[path = "mount/blocking.rs"]
mod blocking;
#[path = "mount/cli.rs"]
mod cli;
#[path = "mount/concurrency.rs"]
mod concurrency;
#[path = "mount/crash.rs"]
mod crash;
#[path = "mount/doctor.rs"]
mod doctor;
#[path = "mount/errors.rs"]
mod errors;
#[path = "mount/examples.rs"]
mod examples;
#[path = "mount/faults.rs"]
mod faults;
#[path = "mount/guide.rs"]
mod guide;
#[path = "mount/inodes.rs"]
mod inodes;
#[path = "mount/jsonfs.rs"]
mod jsonfs;
#[path = "mount/killpriv.rs"]
mod killpriv;
#[path = "mount/lifecycle.rs"]
mod lifecycle;
#[path = "mount/locks.rs"]
mod locks;
#[path = "mount/macros.rs"]
mod macros;
#[path = "mount/memfs.rs"]
mod memfs;
#[path = "mount/notify.rs"]
mod notify;
#[path = "mount/notify_example.rs"]
mod notify_example;
#[path = "mount/options.rs"]
mod options;
#[path = "mount/passthrough.rs"]
mod passthrough;
#[path = "mount/paths.rs"]
mod paths;
#[path = "mount/read_data.rs"]
mod read_data;
#[path = "mount/readdir.rs"]
mod readdir;
#[path = "mount/service.rs"]
mod service;
#[path = "mount/sqlfs.rs"]
mod sqlfs;
#[path = "mount/stress.rs"]
mod stress;
#[path = "mount/write_data.rs"]
mod write_data;
