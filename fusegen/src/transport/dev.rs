//! The `/dev/fuse` descriptor: reads of whole requests, one `writev` per reply, blocking
//! clones for reader threads, and the wait ([`Waiter`]) of a reader that shares the session's
//! non-blocking descriptor.
//!
//! The device takes exactly one message per `write`, and writes are thread-safe in the kernel,
//! so any thread or task may reply without a lock. The descriptor is not registered with
//! tokio's reactor while the session serves: the reactor would be woken for every request
//! that a reader thread takes anyway.

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno as NixErrno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use rustix::pipe::SpliceFlags;
use tokio::io::Interest;
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

/// An open `/dev/fuse` descriptor of the session: the one it was mounted with (non-blocking)
/// or a reader thread's blocking clone.
#[derive(Debug)]
pub(crate) struct Device {
    fd: OwnedFd,
}

impl Device {
    /// Takes the session descriptor, switching it to non-blocking mode.
    pub(crate) fn new(fd: OwnedFd) -> io::Result<Device> {
        let flags = fcntl(&fd, FcntlArg::F_GETFL).map_err(io::Error::from)?;
        let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
        fcntl(&fd, FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
        Ok(Device { fd })
    }

    /// A new descriptor on the same connection, in blocking mode, for one reader thread to
    /// sleep in `read(2)` on (see `reader.rs`). Requests read from it are answered on it.
    pub(crate) fn clone_blocking(&self) -> io::Result<Device> {
        Ok(Device {
            fd: crate::sys::clone_device(self.fd.as_fd())?,
        })
    }

    /// Reads one request into `buf` (at least the negotiated buffer size). A blocking clone
    /// waits for one. `None`: nothing was read, because the non-blocking descriptor has
    /// nothing queued or a signal interrupted the wait.
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<Option<ReadOutcome>> {
        loop {
            match nix::unistd::read(&self.fd, buf) {
                Ok(n) => return Ok(Some(ReadOutcome::Request(n))),
                Err(NixErrno::EAGAIN | NixErrno::EINTR) => return Ok(None),
                // The request was interrupted before we got it: read the next one.
                Err(NixErrno::ENOENT) => continue,
                // Unmounted (ENODEV) or aborted through fusectl (ECONNABORTED).
                Err(NixErrno::ENODEV | NixErrno::ECONNABORTED) => {
                    return Ok(Some(ReadOutcome::Ended));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Moves one request into the pipe whose write end is `pipe` (`splice(2)`, as `read`
    /// otherwise; see `splice_receive.rs`). `len` is the negotiated buffer size, which the
    /// kernel requires of a splice as of a read; the pipe must be empty and hold that much.
    pub(crate) fn splice_to(
        &self,
        pipe: BorrowedFd<'_>,
        len: usize,
    ) -> io::Result<Option<ReadOutcome>> {
        loop {
            match rustix::pipe::splice(&self.fd, None, pipe, None, len, SpliceFlags::empty()) {
                Ok(n) => return Ok(Some(ReadOutcome::Request(n))),
                Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => return Ok(None),
                Err(rustix::io::Errno::NOENT) => continue,
                Err(rustix::io::Errno::NODEV | rustix::io::Errno::CONNABORTED) => {
                    return Ok(Some(ReadOutcome::Ended));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Waits for and reads one request from async code (the INIT handshake), through a
    /// registration with tokio's reactor that lasts only for this call.
    pub(crate) async fn read_async(&self, buf: &mut [u8]) -> io::Result<ReadOutcome> {
        // An aborted connection only raises EPOLLERR (`fuse_dev_poll`), so wait for errors too;
        // the read then reports ENODEV. The registration is of a duplicate, so that removing it
        // leaves the session's descriptor untouched.
        let interest = Interest::READABLE | Interest::ERROR;
        let registered = crate::sys::register_async_fd(self.fd.try_clone()?, interest)?;
        loop {
            let mut guard = registered.ready(interest).await?;
            match self.read(buf)? {
                Some(outcome) => return Ok(outcome),
                None => guard.clear_ready(),
            }
        }
    }

    /// The descriptor, for ioctls on the session.
    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
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
            match nix::sys::uio::writev(&self.fd, iov) {
                Ok(_) => return Ok(()),
                Err(NixErrno::EINTR) => continue,
                Err(NixErrno::ENOENT) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// What a reader thread woke up for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// The device may have a request.
    Device,
    /// The session is stopping.
    Stop,
}

const DEVICE: u64 = 0;
const STOP: u64 = 1;

/// The wait of a reader thread that reads the session's non-blocking descriptor: an epoll
/// instance of its own. The device is registered with `EPOLLEXCLUSIVE`, so a request wakes one
/// sleeping reader rather than all of them; the stop descriptor (an eventfd that is written
/// once and never drained) wakes every reader.
pub(crate) struct Waiter {
    epoll: Epoll,
}

impl Waiter {
    pub(crate) fn new(device: &Device, stop: BorrowedFd<'_>) -> io::Result<Waiter> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let exclusive = EpollFlags::EPOLLIN | EpollFlags::EPOLLEXCLUSIVE;
        epoll.add(device.as_fd(), EpollEvent::new(exclusive, DEVICE))?;
        epoll.add(stop, EpollEvent::new(EpollFlags::EPOLLIN, STOP))?;
        Ok(Waiter { epoll })
    }

    /// Sleeps until the device is readable (or in error, which a read then reports) or the
    /// session stops; the stop wins when both are ready.
    pub(crate) fn wait(&self) -> io::Result<Wake> {
        let mut events = [EpollEvent::empty(); 2];
        loop {
            match self.epoll.wait(&mut events, EpollTimeout::NONE) {
                Ok(n) => {
                    let woke = &events[..n];
                    if woke.iter().any(|e| e.data() == STOP) {
                        return Ok(Wake::Stop);
                    }
                    if !woke.is_empty() {
                        return Ok(Wake::Device);
                    }
                }
                Err(NixErrno::EINTR) => continue,
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

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Read buffers kept between readers and handlers: a reader whose buffer went with a handler
/// that has to wait takes one instead of allocating and zeroing a fresh `max_write`-sized one.
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

    /// Keeps `buf` for the next reader.
    pub(crate) fn give_back(&self, buf: ReadBuf) {
        let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL_LIMIT {
            pool.push(buf);
        }
    }
}
