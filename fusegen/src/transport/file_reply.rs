//! READ replies whose data is still in a file ([`crate::ReadData::from_file`]).
//!
//! On `/dev/fuse` a large range goes by `splice(2)`: file → pipe `data` (which tells how much
//! there is), header → pipe `message`, `data` → `message`, `message` → device. The file's pages
//! are handed along by reference and copied once, by the kernel, into the reader's pages; the
//! daemon's memory never sees them. The header must come first in the message and holds the
//! length, which is known only after the file was read (a range may end early at end of file),
//! hence the second pipe. Small ranges, files that cannot splice and any failure before the
//! message is complete take the plain path: one `pread(2)` into a buffer, one `writev`.
//!
//! The io_uring transport reads the range straight into the entry's payload buffer instead
//! ([`FileRange::read_into`]).

use std::cell::RefCell;
use std::io;
use std::os::fd::OwnedFd;

use rustix::pipe::{SpliceFlags, fcntl_getpipe_size, fcntl_setpipe_size, pipe_with, splice};
use zerocopy::IntoBytes;

use super::dev::Device;
use crate::api::read_data::FileRange;
use crate::proto::reply;

/// Below this a copy costs less than the three extra system calls of the splice path.
const SPLICE_MIN: u32 = 32 * 1024;

/// The largest reply the kernel accepts is 1 MiB of data (256 pages, `max_pages`); a range not
/// aligned to pages spans one more, and the header takes a pipe slot of its own.
const PIPE_BYTES: usize = 2 << 20;

const PAGE: u64 = 4096;

/// The two pipes of one thread; created on the thread's first large file reply.
struct Pipes {
    data: (OwnedFd, OwnedFd),
    message: (OwnedFd, OwnedFd),
    /// How many page-sized slots each pipe holds.
    slots: u64,
}

impl Pipes {
    fn new() -> io::Result<Pipes> {
        let flags = rustix::pipe::PipeFlags::CLOEXEC;
        let data = pipe_with(flags)?;
        let message = pipe_with(flags)?;
        // The largest size allowed: a process without CAP_SYS_RESOURCE is held to
        // /proc/sys/fs/pipe-max-size (1 MiB by default). Ranges that do not fit are copied.
        for pipe in [&data.1, &message.1] {
            let mut size = PIPE_BYTES;
            while fcntl_setpipe_size(pipe, size).is_err() && size > 64 * 1024 {
                size /= 2;
            }
        }
        let slots = fcntl_getpipe_size(&data.1)?.min(fcntl_getpipe_size(&message.1)?) as u64 / PAGE;
        tracing::debug!(slots, "pipes for splicing READ replies");
        Ok(Pipes {
            data,
            message,
            slots,
        })
    }

    /// Whether a range fits: its pages in `data`, those and the header's in `message`.
    fn fits(&self, range: &FileRange) -> bool {
        let first = range.offset / PAGE;
        let last = range
            .offset
            .saturating_add(u64::from(range.len))
            .div_ceil(PAGE);
        last - first < self.slots
    }
}

thread_local! {
    static PIPES: RefCell<Option<Pipes>> = const { RefCell::new(None) };
}

/// Sends READ data from `range` as the reply to `unique`.
pub(crate) fn send(dev: &Device, unique: u64, range: &FileRange) -> io::Result<()> {
    if range.len >= SPLICE_MIN {
        match PIPES.with(|cell| splice_reply(&mut cell.borrow_mut(), dev, unique, range)) {
            Ok(()) => return Ok(()),
            Err(NotSpliced::Unsplicable | NotSpliced::Copy) => {}
            // The request was interrupted and is gone: nobody waits for the data (as in
            // `Device::write`).
            Err(NotSpliced::Device(e)) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
            Err(NotSpliced::Device(e)) => return Err(e),
        }
    }
    match range.read_to_vec() {
        Ok(buf) => dev.write(&reply::data_header(unique, buf.len()), &buf),
        Err(errno) => dev.write(&reply::error_header(unique, errno), &[]),
    }
}

/// Why a reply did not go by splice.
enum NotSpliced {
    /// The file cannot splice (no `splice_read`); nothing moved, the pipes are empty.
    Unsplicable,
    /// Nothing reached the device, but the pipes may hold part of the reply.
    Copy,
    /// The device refused the message.
    Device(io::Error),
}

/// Splices the reply through this thread's pipes (made on first use). After a failure that
/// may leave part of a reply in them, they are dropped and the next reply makes new ones.
fn splice_reply(
    pipes: &mut Option<Pipes>,
    dev: &Device,
    unique: u64,
    range: &FileRange,
) -> Result<(), NotSpliced> {
    if pipes.is_none() {
        *pipes = Pipes::new()
            .map_err(|e| tracing::debug!(error = %e, "no pipes for splice, copying READ data"))
            .ok();
    }
    let p = pipes
        .as_ref()
        .filter(|p| p.fits(range))
        .ok_or(NotSpliced::Copy)?;
    let result = splice_through(p, dev, unique, range);
    match &result {
        Ok(()) | Err(NotSpliced::Unsplicable) => {}
        Err(NotSpliced::Copy) => *pipes = None,
        Err(NotSpliced::Device(e)) => {
            tracing::debug!(error = %e, "splice into the device failed");
            *pipes = None;
        }
    }
    result
}

fn splice_through(
    p: &Pipes,
    dev: &Device,
    unique: u64,
    range: &FileRange,
) -> Result<(), NotSpliced> {
    // NONBLOCK on the pipes: a pipe with less room than `fits` promised fails with EAGAIN
    // rather than blocking a reader forever.
    let flags = SpliceFlags::NONBLOCK;
    let before = |e: rustix::io::Errno| {
        tracing::debug!(error = %e, "splice failed, copying READ data");
        NotSpliced::Copy
    };
    let mut offset = range.offset;
    let mut moved = 0usize;
    while moved < range.len as usize {
        let want = range.len as usize - moved;
        match splice(&range.file, Some(&mut offset), &p.data.1, None, want, flags) {
            Ok(0) => break,
            Ok(n) => moved += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) if moved == 0 => {
                return Err(NotSpliced::Unsplicable);
            }
            Err(e) => return Err(before(e)),
        }
    }
    let header = reply::data_header(unique, moved);
    let written = rustix::io::write(&p.message.1, header.as_bytes()).map_err(before)?;
    if written != header.as_bytes().len() {
        return Err(NotSpliced::Copy);
    }
    let mut left = moved;
    while left > 0 {
        match splice(&p.data.0, None, &p.message.1, None, left, flags) {
            Ok(0) => return Err(NotSpliced::Copy),
            Ok(n) => left -= n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(before(e)),
        }
    }
    // The device takes a whole message in one call or none of it.
    let total = header.as_bytes().len() + moved;
    loop {
        match splice(
            &p.message.0,
            None,
            dev.as_fd(),
            None,
            total,
            SpliceFlags::empty(),
        ) {
            Ok(n) if n == total => return Ok(()),
            Ok(n) => {
                let e = io::Error::other(format!("device took {n} of {total} bytes"));
                return Err(NotSpliced::Device(e));
            }
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(NotSpliced::Device(e.into())),
        }
    }
}
