//! What this machine offers FUSE filesystems, and what is missing.
//!
//! ```text
//! cargo run --example doctor
//! ```
//!
//! Prints one line per check (`/dev/fuse`, privileges, `fusermount3`, `/etc/fuse.conf`, the
//! kernel's FUSE protocol version, passthrough and io_uring availability, request size limit)
//! and exits with status 1 if mounting cannot work here.

use std::process::ExitCode;

fn main() -> ExitCode {
    let report = fusegen::doctor();
    print!("{report}");
    if let Some(flags) = report.kernel_flags {
        println!(
            "kernel offers: {}",
            fusegen::doctor::flag_names(flags).join(" ")
        );
    }
    if report.has_failures() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
