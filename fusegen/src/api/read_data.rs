//! `ReadData`: what a `read` handler answers, either bytes it holds or a range of a file the
//! runtime sends without copying it through the daemon.

use std::fmt;
use std::os::fd::AsFd;
use std::sync::Arc;

use bytes::Bytes;

use crate::api::errno::Errno;

/// The answer of a `read` handler.
///
/// Most handlers return bytes (`Bytes` or `Vec<u8>` convert into it). A handler whose data
/// already sits in a file (a passthrough, a cache on disk, a blob store) returns
/// [`ReadData::from_file`] instead: the runtime then moves the range from the file to the kernel
/// itself, with `splice(2)` on `/dev/fuse` (the data never enters the daemon's memory) or with
/// one `pread(2)` straight into the io_uring reply buffer, and the handler does no I/O at all.
///
/// ```
/// # use std::sync::Arc;
/// # use fusegen::ReadData;
/// # fn example(file: Arc<std::fs::File>) -> ReadData {
/// // Up to 4096 bytes of `file` from offset 8192; fewer at its end.
/// ReadData::from_file(file, 8192, 4096)
/// # }
/// ```
pub struct ReadData {
    pub(crate) source: Source,
}

/// Where the data comes from.
pub(crate) enum Source {
    Bytes(Bytes),
    File(FileRange),
}

/// A range of an open file: `len` bytes from `offset`, or fewer at the end of the file.
#[derive(Clone)]
pub(crate) struct FileRange {
    pub(crate) file: Arc<dyn AsFd + Send + Sync>,
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

impl ReadData {
    /// Up to `len` bytes of `file` starting at `offset` (fewer only at the end of the file, as
    /// with `pread(2)`). The file is read when the reply is sent, after the handler returned;
    /// the `Arc` keeps it open until then. An error reading it (say `EIO`) becomes the reply.
    pub fn from_file<F>(file: Arc<F>, offset: u64, len: u32) -> ReadData
    where
        F: AsFd + Send + Sync + 'static,
    {
        ReadData {
            source: Source::File(FileRange { file, offset, len }),
        }
    }

    /// The data as bytes: a file range is read now (fewer bytes at the end of the file). For
    /// code that inspects a handler's answer, such as a test calling `Operations::read` or a
    /// filesystem that wraps another one.
    pub fn into_bytes(self) -> Result<Bytes, Errno> {
        match self.source {
            Source::Bytes(bytes) => Ok(bytes),
            Source::File(range) => range.read_to_vec().map(Bytes::from),
        }
    }

    /// At most `max` bytes: the kernel fails a whole read answered with more than it asked for.
    pub(crate) fn limit(mut self, max: u32) -> ReadData {
        match &mut self.source {
            Source::Bytes(bytes) if bytes.len() > max as usize => {
                *bytes = bytes.slice(..max as usize);
            }
            Source::File(range) => range.len = range.len.min(max),
            Source::Bytes(_) => {}
        }
        self
    }
}

impl FileRange {
    /// Reads the range into `out` (at most `len` bytes of it) and returns how many bytes it
    /// read: fewer only at the end of the file.
    pub(crate) fn read_into(&self, out: &mut [u8]) -> Result<usize, Errno> {
        let want = out.len().min(self.len as usize);
        self.fill(want, |done| {
            rustix::io::pread(&self.file, &mut out[done..want], self.offset + done as u64)
        })
    }

    /// Reads the range into a new buffer.
    pub(crate) fn read_to_vec(&self) -> Result<Vec<u8>, Errno> {
        let len = self.len as usize;
        let mut buf = Vec::with_capacity(len);
        // Into uninitialized capacity: no zeroing of up to 1 MiB per reply.
        let n = self.fill(len, |done| {
            let at = self.offset + done as u64;
            rustix::io::pread(&self.file, rustix::buffer::spare_capacity(&mut buf), at)
        })?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Calls `pread_at(bytes read so far)` until `want` bytes are read or the file ends.
    fn fill(
        &self,
        want: usize,
        mut pread_at: impl FnMut(usize) -> rustix::io::Result<usize>,
    ) -> Result<usize, Errno> {
        let mut done = 0;
        while done < want {
            match pread_at(done) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    tracing::debug!(offset = self.offset, error = %e, "reading a READ reply's file failed");
                    return Err(Errno::from_raw(e.raw_os_error()));
                }
            }
        }
        Ok(done.min(want))
    }
}

impl From<Bytes> for ReadData {
    fn from(bytes: Bytes) -> ReadData {
        ReadData {
            source: Source::Bytes(bytes),
        }
    }
}

impl From<Vec<u8>> for ReadData {
    fn from(bytes: Vec<u8>) -> ReadData {
        Bytes::from(bytes).into()
    }
}

impl From<&'static [u8]> for ReadData {
    fn from(bytes: &'static [u8]) -> ReadData {
        Bytes::from_static(bytes).into()
    }
}

impl fmt::Debug for ReadData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Bytes(bytes) => f
                .debug_tuple("ReadData::Bytes")
                .field(&bytes.len())
                .finish(),
            Source::File(range) => range.fmt(f),
        }
    }
}

impl fmt::Debug for FileRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileRange")
            .field("fd", &self.file.as_fd())
            .field("offset", &self.offset)
            .field("len", &self.len)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_cuts_bytes_and_file_ranges_to_the_size_asked() {
        let data = ReadData::from(vec![7u8; 10]).limit(4);
        assert!(matches!(data.source, Source::Bytes(b) if b.len() == 4));
        let file = Arc::new(tempfile::tempfile().expect("temporary file"));
        let data = ReadData::from_file(file, 100, 4096).limit(512);
        assert!(matches!(data.source, Source::File(r) if r.len == 512 && r.offset == 100));
    }

    #[test]
    fn into_bytes_reads_a_file_range_short_at_the_end() {
        let mut file = tempfile::tempfile().expect("temporary file");
        std::io::Write::write_all(&mut file, b"0123456789").expect("write");
        let file = Arc::new(file);
        let middle = ReadData::from_file(file.clone(), 2, 3).into_bytes();
        assert_eq!(middle.as_deref(), Ok(&b"234"[..]));
        let end = ReadData::from_file(file.clone(), 8, 100).into_bytes();
        assert_eq!(end.as_deref(), Ok(&b"89"[..]));
        let past = ReadData::from_file(file, 20, 5).into_bytes();
        assert_eq!(past.as_deref(), Ok(&b""[..]));
        let bytes = ReadData::from(b"abc".to_vec()).into_bytes();
        assert_eq!(bytes.as_deref(), Ok(&b"abc"[..]));
    }
}
