//! The `/dev/fuse` descriptor: non-blocking reads of whole requests, one `writev` per reply.
//!
//! The device takes exactly one message per `write`, and writes are thread-safe in the kernel,
//! so any task may reply without a lock. Reads are driven by tokio's `AsyncFd`.

use std::io::{self, IoSlice};
use std::os::fd::OwnedFd;

use nix::errno::Errno as NixErrno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use zerocopy::IntoBytes;

use crate::proto::abi;

/// What a read from the device produced.
#[derive(Debug)]
pub(crate) enum ReadOutcome {
    /// A request of this many bytes is at the start of the buffer.
    Request(usize),
    /// The filesystem was unmounted or the connection aborted: the session is over.
    Ended,
}

/// An open `/dev/fuse` session descriptor registered with the tokio reactor.
#[derive(Debug)]
pub(crate) struct Device {
    fd: AsyncFd<OwnedFd>,
}

impl Device {
    /// Registers `fd` with the current tokio runtime, switching it to non-blocking mode.
    pub(crate) fn new(fd: OwnedFd) -> io::Result<Device> {
        let flags = fcntl(&fd, FcntlArg::F_GETFL).map_err(io::Error::from)?;
        let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
        fcntl(&fd, FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
        Ok(Device {
            fd: crate::sys::register_async_fd(fd, Interest::READABLE | Interest::ERROR)?,
        })
    }

    /// Reads one request into `buf`, which must hold at least the negotiated buffer size.
    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<ReadOutcome> {
        loop {
            // An aborted connection only raises EPOLLERR (`fuse_dev_poll`), so wait for errors
            // too; the read below then reports ENODEV.
            let mut guard = self.fd.ready(Interest::READABLE | Interest::ERROR).await?;
            match guard.try_io(|fd| nix::unistd::read(fd.get_ref(), buf).map_err(io::Error::from)) {
                Ok(Ok(n)) => return Ok(ReadOutcome::Request(n)),
                Ok(Err(e)) => match NixErrno::from_raw(e.raw_os_error().unwrap_or(0)) {
                    // The request was interrupted before we got it, or a signal hit: retry.
                    NixErrno::ENOENT | NixErrno::EINTR => continue,
                    // Unmounted (ENODEV) or aborted through fusectl (ECONNABORTED).
                    NixErrno::ENODEV | NixErrno::ECONNABORTED => return Ok(ReadOutcome::Ended),
                    _ => return Err(e),
                },
                // Spurious readiness: `try_io` cleared it; wait again.
                Err(_would_block) => continue,
            }
        }
    }

    /// The descriptor, for ioctls on the session.
    pub(crate) fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.get_ref().as_fd()
    }

    /// Writes one message: header then payload, in a single `writev`.
    ///
    /// `ENOENT` means the kernel no longer waits for this request (it was interrupted), which
    /// is not an error for the session.
    pub(crate) fn write(&self, header: &abi::fuse_out_header, payload: &[u8]) -> io::Result<()> {
        let iov = [IoSlice::new(header.as_bytes()), IoSlice::new(payload)];
        let iov = if payload.is_empty() {
            &iov[..1]
        } else {
            &iov[..]
        };
        loop {
            match nix::sys::uio::writev(self.fd.get_ref(), iov) {
                Ok(_) => return Ok(()),
                Err(NixErrno::EINTR) => continue,
                Err(NixErrno::ENOENT) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A read buffer aligned to 8 bytes, so kernel structs can be borrowed in place.
pub(crate) struct ReadBuf(Vec<u64>);

impl ReadBuf {
    pub(crate) fn new(bytes: usize) -> ReadBuf {
        ReadBuf(vec![0; bytes.div_ceil(8)])
    }

    pub(crate) fn as_mut_bytes(&mut self) -> &mut [u8] {
        self.0.as_mut_bytes()
    }
}

/// Read buffers kept between workers: a worker starting under load takes one instead of
/// allocating and zeroing a fresh `max_write`-sized buffer.
#[derive(Default)]
pub(crate) struct BufferPool(std::sync::Mutex<Vec<ReadBuf>>);

/// More idle buffers than this are freed rather than kept.
const POOL_LIMIT: usize = 16;

impl BufferPool {
    /// A buffer of at least `bytes` bytes.
    pub(crate) fn take(&self, bytes: usize) -> ReadBuf {
        let pooled = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match pooled {
            Some(buf) if buf.0.len() * 8 >= bytes => buf,
            _ => ReadBuf::new(bytes),
        }
    }

    /// Keeps `buf` for the next worker.
    pub(crate) fn give_back(&self, buf: ReadBuf) {
        let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL_LIMIT {
            pool.push(buf);
        }
    }
}
