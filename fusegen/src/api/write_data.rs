//! `WriteData`: the data of a WRITE request as a `write` handler may take it, either bytes in
//! the request buffer or, on `/dev/fuse`, pages the kernel left in a pipe, which the handler
//! moves into a file without the data entering the daemon's memory.
//!
//! A pipe with data belongs to its request: the reader thread that received it makes or takes
//! another one for the next request (`transport/splice_receive.rs`). Once the data is out, a
//! pipe consumed on a reader thread, in place, is kept for that thread's next request
//! ([`take_spare`]); one consumed elsewhere, or dropped with data still in it, is closed.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::pipe::{SpliceFlags, splice};

use crate::api::in_place::polling_in_place;

/// The data of a WRITE request, as a `write` handler may take it instead of `&[u8]`.
///
/// With `data: &[u8]` the handler gets the bytes as they were read from the kernel. With
/// `data: WriteData<'_>`, on `/dev/fuse`, a large write (32 KiB and up) is received with
/// `splice(2)` and stays in a pipe, as references to the pages the kernel holds:
/// [`write_to`](WriteData::write_to) splices it straight into a file, so a passthrough or a
/// cache on disk moves the data without copying it through the daemon. Smaller writes, the
/// io_uring transport, and machines whose pipes cannot hold a whole request (see
/// `docs/handlers.md`) give the bytes in memory, and `write_to` is then one `pwrite(2)`.
///
/// ```
/// # use fusegen::WriteData;
/// # fn example(file: &std::fs::File, data: WriteData<'_>, offset: u64) -> std::io::Result<u32> {
/// // In a `write` handler: the data lands in `file` at `offset`.
/// let n = data.write_to(file, offset)?;
/// Ok(u32::try_from(n).unwrap_or(u32::MAX))
/// # }
/// ```
///
/// The data can be read once: `write_to` and [`into_bytes`](WriteData::into_bytes) take the
/// value. Dropping it unread discards the data (the request is still answered with whatever
/// the handler returns).
pub struct WriteData<'a> {
    source: Source<'a>,
}

enum Source<'a> {
    Bytes(&'a [u8]),
    Pipe(PipeData),
}

/// A pipe of a `/dev/fuse` reader thread: both ends, non-blocking, and its size in bytes.
pub(crate) struct Pipe {
    pub(crate) read: OwnedFd,
    pub(crate) write: OwnedFd,
    pub(crate) capacity: usize,
}

/// The data of one WRITE, `len` bytes in a pipe that holds nothing else.
pub(crate) struct PipeData {
    /// Always `Some` until dropped.
    pipe: Option<Pipe>,
    len: usize,
    /// Bytes still in the pipe.
    left: usize,
}

thread_local! {
    /// The pipe a reader thread receives its next request into, when it is free.
    static SPARE: RefCell<Option<Pipe>> = const { RefCell::new(None) };
}

/// This thread's free pipe, if it has one of at least `capacity` bytes.
pub(crate) fn take_spare(capacity: usize) -> Option<Pipe> {
    SPARE
        .with(|spare| spare.borrow_mut().take())
        .filter(|p| p.capacity >= capacity)
}

/// Keeps an empty pipe for this thread's next request.
pub(crate) fn keep_spare(pipe: Pipe) {
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.is_none() {
            *spare = Some(pipe);
        }
    });
}

impl PipeData {
    /// How many bytes of data the request carries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// `len` bytes of WRITE data that `pipe` holds, and nothing else.
    pub(crate) fn new(pipe: Pipe, len: usize) -> PipeData {
        PipeData {
            pipe: Some(pipe),
            len,
            left: len,
        }
    }

    /// Splices the data into `fd` at `offset`; the bytes moved, fewer only after an error (see
    /// [`WriteData::write_to`]).
    fn splice_into(&mut self, fd: BorrowedFd<'_>, offset: u64) -> io::Result<usize> {
        let Some(pipe) = &self.pipe else {
            return Err(gone());
        };
        let mut at = offset;
        let mut done = 0;
        while self.left > 0 {
            // NONBLOCK: the data is in the pipe already; an empty pipe fails rather than
            // blocking the thread forever.
            match splice(
                &pipe.read,
                None,
                fd,
                Some(&mut at),
                self.left,
                SpliceFlags::NONBLOCK,
            ) {
                Ok(0) => break,
                Ok(n) => {
                    done += n;
                    self.left -= n;
                }
                Err(rustix::io::Errno::INTR) => {}
                // The file takes no splice (no `splice_write`, or opened with O_APPEND):
                // copy the rest through memory.
                Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
                    let rest = self.read_out()?;
                    return match pwrite_all(fd, &rest, at) {
                        Ok(n) => Ok(done + n),
                        Err(_) if done > 0 => Ok(done),
                        Err(e) => Err(e),
                    };
                }
                Err(_) if done > 0 => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(done)
    }

    /// Reads what is left in the pipe into memory.
    fn read_out(&mut self) -> io::Result<Vec<u8>> {
        let Some(pipe) = &self.pipe else {
            return Err(gone());
        };
        let mut buf = Vec::with_capacity(self.left);
        while self.left > 0 {
            match rustix::io::read(&pipe.read, rustix::buffer::spare_capacity(&mut buf)) {
                Ok(0) => break,
                Ok(n) => self.left -= n,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if self.left > 0 {
            return Err(io::Error::other(format!(
                "WRITE data pipe ended {} bytes short",
                self.left
            )));
        }
        Ok(buf)
    }
}

fn gone() -> io::Error {
    io::Error::other("WRITE data pipe already closed")
}

impl Drop for PipeData {
    fn drop(&mut self) {
        // An empty pipe serves the next request of the reader thread that consumed it; one
        // that still holds data (or whose data went elsewhere) is closed with it.
        if self.left == 0
            && polling_in_place()
            && let Some(pipe) = self.pipe.take()
        {
            keep_spare(pipe);
        }
    }
}

impl<'a> WriteData<'a> {
    /// Data that the pipe holds (the `/dev/fuse` transport's splice receive).
    pub(crate) fn from_pipe(data: PipeData) -> WriteData<'static> {
        WriteData {
            source: Source::Pipe(data),
        }
    }

    /// How many bytes the request carries.
    pub fn len(&self) -> usize {
        match &self.source {
            Source::Bytes(bytes) => bytes.len(),
            Source::Pipe(p) => p.len,
        }
    }

    /// Whether the request carries no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the data is in a pipe (received by `splice(2)` on `/dev/fuse`) rather than in
    /// memory. Nothing to act on: [`write_to`](WriteData::write_to) and
    /// [`into_bytes`](WriteData::into_bytes) work either way; for tests and diagnostics.
    pub fn in_pipe(&self) -> bool {
        matches!(self.source, Source::Pipe(_))
    }

    /// The bytes, when they are in memory (`None` when they are in a pipe).
    pub fn as_slice(&self) -> Option<&'a [u8]> {
        match self.source {
            Source::Bytes(bytes) => Some(bytes),
            Source::Pipe(_) => None,
        }
    }

    /// Writes the data into `fd` at `offset` and returns how many bytes it took: by
    /// `splice(2)` from the pipe when the data is in one (by a copy when the file takes no
    /// splice, e.g. opened with `O_APPEND`), by `pwrite(2)` otherwise, looping on short
    /// transfers.
    ///
    /// As with `write(2)`: an error before any byte was written is the `Err`; one after some
    /// were is dropped and the count of those bytes returned (`Ok(n)` with `n < len()`), and
    /// the rest of the data is discarded. A `write` handler returns that count, and the caller
    /// sees the error on its next write.
    pub fn write_to(self, fd: impl AsFd, offset: u64) -> io::Result<usize> {
        match self.source {
            Source::Bytes(bytes) => pwrite_all(fd.as_fd(), bytes, offset),
            Source::Pipe(mut p) => p.splice_into(fd.as_fd(), offset),
        }
    }

    /// The bytes: borrowed when they are in memory, read out of the pipe otherwise. For
    /// handlers that need to look at the data.
    pub fn into_bytes(self) -> io::Result<Cow<'a, [u8]>> {
        match self.source {
            Source::Bytes(bytes) => Ok(Cow::Borrowed(bytes)),
            Source::Pipe(mut p) => p.read_out().map(Cow::Owned),
        }
    }
}

/// `pwrite(2)` of all of `data` at `offset`, as many calls as it takes; fewer bytes only after
/// an error that followed some progress, or when the file takes no more.
fn pwrite_all(fd: BorrowedFd<'_>, data: &[u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < data.len() {
        match rustix::io::pwrite(fd, &data[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) if done > 0 => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}

impl<'a> From<&'a [u8]> for WriteData<'a> {
    fn from(bytes: &'a [u8]) -> WriteData<'a> {
        WriteData {
            source: Source::Bytes(bytes),
        }
    }
}

impl fmt::Debug for WriteData<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteData")
            .field("len", &self.len())
            .field("in_pipe", &self.in_pipe())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Seek, SeekFrom, Write};

    use rustix::pipe::{PipeFlags, pipe_with};

    use super::*;
    use crate::api::in_place::InPlace;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// `bytes` in a new pipe, as the splice receive leaves a WRITE's data.
    fn in_pipe(bytes: &[u8]) -> WriteData<'static> {
        let (read, write) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).expect("pipe");
        let mut done = 0;
        while done < bytes.len() {
            done += rustix::io::write(&write, &bytes[done..]).expect("fill the pipe");
        }
        let pipe = Pipe {
            read,
            write,
            capacity: 65_536,
        };
        WriteData::from_pipe(PipeData::new(pipe, bytes.len()))
    }

    fn contents(file: &mut std::fs::File) -> Vec<u8> {
        let mut all = Vec::new();
        file.seek(SeekFrom::Start(0)).expect("seek");
        file.read_to_end(&mut all).expect("read back");
        all
    }

    #[test]
    fn bytes_in_memory_are_borrowed_and_written_at_the_offset() {
        let data = pattern(10_000);
        let w = WriteData::from(&data[..]);
        assert_eq!((w.len(), w.in_pipe(), w.is_empty()), (10_000, false, false));
        assert_eq!(w.as_slice(), Some(&data[..]));
        assert!(matches!(w.into_bytes(), Ok(Cow::Borrowed(b)) if b == &data[..]));
        let mut file = tempfile::tempfile().expect("temporary file");
        assert_eq!(
            WriteData::from(&data[..]).write_to(&file, 5).ok(),
            Some(10_000)
        );
        let mut want = vec![0; 5];
        want.extend_from_slice(&data);
        assert_eq!(contents(&mut file), want);
    }

    #[test]
    fn data_in_a_pipe_is_spliced_into_the_file_at_the_offset() {
        let data = pattern(50_000);
        let w = in_pipe(&data);
        assert_eq!((w.len(), w.in_pipe()), (50_000, true));
        assert_eq!(w.as_slice(), None);
        let mut file = tempfile::tempfile().expect("temporary file");
        file.write_all(b"0123456789").expect("write");
        assert_eq!(w.write_to(&file, 3).ok(), Some(50_000));
        let mut want = b"012".to_vec();
        want.extend_from_slice(&data);
        assert_eq!(contents(&mut file), want);
    }

    #[test]
    fn data_in_a_pipe_reads_out_and_copies_into_files_that_take_no_splice() {
        let data = pattern(20_000);
        assert_eq!(in_pipe(&data).into_bytes().ok().as_deref(), Some(&data[..]));
        // splice(2) refuses files opened with O_APPEND (EINVAL): the data is copied instead.
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("log");
        std::fs::write(&path, b"head").expect("write");
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open for appending");
        assert_eq!(in_pipe(&data).write_to(&file, 0).ok(), Some(20_000));
        let mut want = b"head".to_vec();
        want.extend_from_slice(&data);
        assert_eq!(std::fs::read(&path).expect("read back"), want);
    }

    #[test]
    fn an_error_before_any_byte_is_returned() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("ro");
        std::fs::write(&path, b"").expect("write");
        let read_only = std::fs::File::open(&path).expect("open");
        let data = pattern(4096);
        let errno = |r: io::Result<usize>| r.err().and_then(|e| e.raw_os_error());
        assert_eq!(
            errno(in_pipe(&data).write_to(&read_only, 0)),
            Some(libc::EBADF)
        );
        assert_eq!(
            errno(WriteData::from(&data[..]).write_to(&read_only, 0)),
            Some(libc::EBADF)
        );
    }

    #[test]
    fn an_emptied_pipe_serves_the_next_request_of_a_reader_polling_in_place() {
        let data = pattern(1000);
        let _ = take_spare(0);
        // Not in place (a tokio worker): closed.
        drop(in_pipe(&data).into_bytes());
        assert!(take_spare(0).is_none());
        let polling = InPlace::enter();
        // Still holding data: closed with it.
        drop(in_pipe(&data));
        assert!(take_spare(0).is_none());
        // Emptied in place: kept, if large enough for what the reader asks.
        drop(in_pipe(&data).into_bytes());
        assert!(take_spare(1 << 20).is_none());
        drop(in_pipe(&data).into_bytes());
        let spare = take_spare(65_536).expect("the emptied pipe is kept");
        drop(polling);
        // It is empty: a read finds nothing.
        let mut byte = [0u8; 1];
        assert_eq!(
            rustix::io::read(&spare.read, &mut byte),
            Err(rustix::io::Errno::AGAIN)
        );
    }
}
