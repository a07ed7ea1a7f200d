//! Receiving requests with `splice(2)` into a pipe, for a filesystem whose `write` takes
//! `WriteData` (`Handlers::WRITE_DATA`): the data of a large WRITE then stays in the pipe, as
//! references to the kernel's pages, until the handler moves it into a file
//! ([`crate::WriteData::write_to`]), and never enters the daemon's memory. libfuse's
//! `SPLICE_READ` does the same.
//!
//! Every request goes device → pipe; the reader then reads the 80 bytes of `fuse_in_header`
//! and `fuse_write_in` into its buffer, and a WRITE with at least [`IN_PIPE_MIN`] bytes of
//! data leaves the rest in the pipe, which goes with the request. Anything else (smaller
//! writes, every other opcode) is read out of the pipe into the buffer, as `read(2)` would
//! have put it, and the pipe serves the next request.
//!
//! The kernel's conditions (`fs/fuse/dev.c`, `fuse_dev_splice_read`): the splice must offer
//! the same length as a read (at least `max_write` + 80 bytes, else `EINVAL` before a request
//! is taken), the pipe must be empty, and it must have a slot for every page of the request (a
//! page for the headers, one per page of data): a request that does not fit fails with `EIO`
//! after it was taken from the queue, which the caller would see, or wait for forever. So a
//! pipe is enlarged to hold the largest request before it is used, and where the pipe cannot
//! be made that large (`/proc/sys/fs/pipe-max-size` without `CAP_SYS_RESOURCE`) the readers
//! go back to `read(2)` for the rest of the session.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::pipe::{PipeFlags, fcntl_getpipe_size, fcntl_setpipe_size, pipe_with};
use zerocopy::FromBytes;

use super::dev::{Device, ReadBuf, ReadOutcome};
use crate::api::write_data::{Pipe, PipeData, keep_spare, take_spare};
use crate::proto::abi;

/// Below this much data a WRITE is read into the buffer: a copy of a few pages costs less
/// than the pipe round trip of the handler's splice (the same bound as READ's splice).
pub(crate) const IN_PIPE_MIN: usize = 32 * 1024;

/// `fuse_in_header` and `fuse_write_in` (7.9+).
const WRITE_HEAD: usize = size_of::<abi::fuse_in_header>() + size_of::<abi::fuse_write_in>();

const PAGE: usize = 4096;

/// What one receive produced.
pub(crate) enum Received {
    /// A whole request of this many bytes at the start of the buffer.
    Whole(usize),
    /// A WRITE: header and `fuse_write_in` at the start of the buffer ([`Received::head_len`]
    /// bytes), its data in a pipe.
    WriteInPipe(PipeData),
}

impl Received {
    /// How many bytes of the request are in the buffer.
    pub(crate) fn head_len(&self) -> usize {
        match self {
            Received::Whole(n) => *n,
            Received::WriteInPipe(_) => WRITE_HEAD,
        }
    }

    /// How many bytes of the request are in a pipe instead.
    pub(crate) fn in_pipe_len(&self) -> usize {
        match self {
            Received::Whole(_) => 0,
            Received::WriteInPipe(data) => data.len(),
        }
    }
}

/// Whether this session's readers receive by splice, and with what sizes.
pub(crate) struct SpliceReceive {
    /// Set while splicing works; cleared for good when a pipe cannot hold a whole request.
    on: AtomicBool,
    /// The length every splice offers: the negotiated read buffer size.
    request_bytes: usize,
    /// The pipe size that holds the largest request, in bytes: a slot per page.
    pipe_bytes: usize,
}

impl SpliceReceive {
    /// `wanted`: the filesystem's `write` takes `WriteData`; `request_bytes`: the negotiated
    /// read buffer size.
    pub(crate) fn new(wanted: bool, request_bytes: usize) -> SpliceReceive {
        SpliceReceive {
            on: AtomicBool::new(wanted),
            request_bytes,
            // The headers' page and one per page of data: `request_bytes` is `max_write`
            // plus a page.
            pipe_bytes: request_bytes.div_ceil(PAGE) * PAGE,
        }
    }

    pub(crate) fn on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Receives one request on `dev` (see the module docs). `None`: nothing was received
    /// (a non-blocking descriptor with nothing queued, or a signal), as [`Device::read`].
    pub(crate) fn receive(
        &self,
        dev: &Device,
        buf: &mut ReadBuf,
    ) -> io::Result<Option<ReceiveOutcome>> {
        let pipe = match take_spare(self.pipe_bytes) {
            Some(pipe) => pipe,
            None => match self.new_pipe() {
                Ok(pipe) => pipe,
                Err(e) => {
                    self.turn_off(&e);
                    return plain_read(dev, buf);
                }
            },
        };
        let n = match dev.splice_to(pipe.write.as_fd(), self.request_bytes) {
            Ok(Some(ReadOutcome::Request(n))) => n,
            // Nothing entered the pipe.
            Ok(None) => {
                keep_spare(pipe);
                return Ok(None);
            }
            Ok(Some(ReadOutcome::Ended)) => return Ok(Some(ReceiveOutcome::Ended)),
            // The device refuses this pipe before taking a request (too small for a whole
            // one): read as usual from now on.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                self.turn_off(&e);
                return plain_read(dev, buf);
            }
            Err(e) => return Err(e),
        };
        let bytes = buf.as_mut_bytes();
        if n > bytes.len() {
            return Err(io::Error::other(format!(
                "spliced a request of {n} bytes, more than the {} of the buffer",
                bytes.len()
            )));
        }
        if n >= WRITE_HEAD + IN_PIPE_MIN {
            read_exact(&pipe.read, &mut bytes[..WRITE_HEAD])?;
            let opcode = abi::fuse_in_header::ref_from_prefix(&bytes[..WRITE_HEAD])
                .map(|(h, _)| h.opcode)
                .unwrap_or(0);
            if opcode == abi::opcode::FUSE_WRITE {
                let data = PipeData::new(pipe, n - WRITE_HEAD);
                return Ok(Some(ReceiveOutcome::Request(Received::WriteInPipe(data))));
            }
            read_exact(&pipe.read, &mut bytes[WRITE_HEAD..n])?;
        } else {
            read_exact(&pipe.read, &mut bytes[..n])?;
        }
        // Empty again: it takes the next request.
        keep_spare(pipe);
        Ok(Some(ReceiveOutcome::Request(Received::Whole(n))))
    }

    /// A pipe that holds the largest request, or why there is none.
    fn new_pipe(&self) -> io::Result<Pipe> {
        // Non-blocking: a read of more than the pipe holds (a bug) fails instead of hanging.
        let (read, write) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        fcntl_setpipe_size(&write, self.pipe_bytes)?;
        let capacity = fcntl_getpipe_size(&write)?;
        if capacity < self.pipe_bytes {
            return Err(io::Error::other(format!(
                "pipe holds {capacity} bytes after asking for {}",
                self.pipe_bytes
            )));
        }
        Ok(Pipe {
            read,
            write,
            capacity,
        })
    }

    fn turn_off(&self, why: &io::Error) {
        if self.on.swap(false, Ordering::Relaxed) {
            let max = std::fs::read_to_string("/proc/sys/fs/pipe-max-size").unwrap_or_default();
            tracing::info!(
                error = %why,
                need = self.pipe_bytes,
                pipe_max_size = max.trim(),
                "no pipe holds a whole request: WRITE data is read into memory"
            );
        }
    }
}

/// What [`SpliceReceive::receive`] read.
pub(crate) enum ReceiveOutcome {
    Request(Received),
    /// The filesystem was unmounted or the connection aborted.
    Ended,
}

fn plain_read(dev: &Device, buf: &mut ReadBuf) -> io::Result<Option<ReceiveOutcome>> {
    Ok(dev.read(buf.as_mut_bytes())?.map(|outcome| match outcome {
        ReadOutcome::Request(n) => ReceiveOutcome::Request(Received::Whole(n)),
        ReadOutcome::Ended => ReceiveOutcome::Ended,
    }))
}

/// Reads exactly `out.len()` bytes that the pipe holds.
fn read_exact(pipe: &OwnedFd, out: &mut [u8]) -> io::Result<()> {
    let mut done = 0;
    while done < out.len() {
        match rustix::io::read(pipe, &mut out[done..]) {
            Ok(0) => {
                return Err(io::Error::other(format!(
                    "request pipe ended after {done} of {} bytes",
                    out.len()
                )));
            }
            Ok(n) => done += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
