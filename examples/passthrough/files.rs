//! Open files and directories: the handle tables, and directory streams that resume at the
//! kernel's offsets.
//!
//! A file handle owns one descriptor of the source file, so each FUSE open is one open file
//! description in the source: `flock` locks, `O_APPEND` and read-ahead behave as they would
//! natively. A directory handle owns a descriptor read with `getdents64`, whose per-entry
//! cookies (`d_off`) are the offsets the kernel passes back.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use fusegen::{Errno, FileHandle, FileType};

use crate::inodes::InodeData;

/// Handle numbers, shared by all tables: a file handle never equals a directory handle, so a
/// handle the kernel passes for either (`setattr` on an open directory) is never mistaken.
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// Handles to values.
#[derive(Debug)]
pub struct Handles<T> {
    map: Mutex<HashMap<u64, Arc<T>>>,
}

impl<T> Handles<T> {
    pub fn new() -> Handles<T> {
        Handles {
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<T>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert(&self, value: T) -> FileHandle {
        let fh = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(fh, Arc::new(value));
        FileHandle(fh)
    }

    /// The value behind `fh`; `EBADF` for a handle that is not open.
    pub fn get(&self, fh: FileHandle) -> Result<Arc<T>, Errno> {
        self.lock().get(&fh.0).cloned().ok_or(Errno::EBADF)
    }

    pub fn remove(&self, fh: FileHandle) -> Option<Arc<T>> {
        self.lock().remove(&fh.0)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

/// One open of a regular file.
#[derive(Debug)]
pub struct OpenFile {
    pub file: File,
}

impl OpenFile {
    pub fn new(file: File) -> OpenFile {
        OpenFile { file }
    }
}

impl AsFd for OpenFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// One directory entry as `getdents64` returned it.
#[derive(Debug, Clone)]
pub struct DirEntry {
    pub name: OsString,
    pub ino: u64,
    /// `None` when the source does not report types in directory entries (`DT_UNKNOWN`).
    pub kind: Option<FileType>,
    /// Offset of the entry after this one (`d_off`).
    pub next: u64,
}

impl DirEntry {
    pub fn is_dot_or_dotdot(&self) -> bool {
        self.name == "." || self.name == ".."
    }
}

/// Size of one `getdents64` read: what fits a READDIRPLUS reply many times over, so most
/// replies cost no `getdents64` call.
const DIR_BUFFER: usize = 32 * 1024;

/// The fewest plain READDIR entries offered: about what a 32 KiB reply of short names holds.
const PLAIN_FIRST: usize = 1024;

#[derive(Debug)]
struct DirStream {
    /// Entries read but not yet sent.
    pending: VecDeque<DirEntry>,
    /// The offset of the first pending entry (where the descriptor would have to be put back
    /// to read it again); 0 at the start.
    position: u64,
    /// The descriptor's offset lies past the last entry.
    eof: bool,
    /// How many entries to offer per reply: about what fitted last time, so few lookups are
    /// made for entries that end up not sent.
    batch: usize,
    buf: Vec<u8>,
}

/// One open directory.
#[derive(Debug)]
pub struct OpenDir {
    pub inode: Arc<InodeData>,
    fd: OwnedFd,
    stream: Mutex<DirStream>,
}

impl OpenDir {
    pub fn new(inode: Arc<InodeData>, fd: OwnedFd) -> OpenDir {
        OpenDir {
            inode,
            fd,
            stream: Mutex::new(DirStream {
                pending: VecDeque::new(),
                position: 0,
                eof: false,
                batch: 32,
                buf: Vec::new(),
            }),
        }
    }

    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    fn lock(&self) -> MutexGuard<'_, DirStream> {
        self.stream.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next entries from `offset` on, without taking them: [`consume`](Self::consume)
    /// says how many the reply took. Empty at the end of the directory. The kernel reads a
    /// directory handle one request at a time, continuing from the offset of the last entry
    /// taken, which finds the stream already there.
    pub fn peek(&self, offset: u64, plus: bool) -> io::Result<Vec<DirEntry>> {
        let mut s = self.lock();
        if offset != s.position {
            // A seek (rewinddir, seekdir, or a reader starting over): continue from there.
            nix::unistd::lseek(&self.fd, offset as i64, nix::unistd::Whence::SeekSet)?;
            s.pending.clear();
            s.position = offset;
            s.eof = false;
        }
        // About as many as the last reply took (each offered entry costs a copy, and for
        // READDIRPLUS a lookup), not cut at the end of one getdents(2) batch, which would
        // cost the kernel a request for the rest. Plain entries start from a full reply's
        // worth rather than ramping up from a few.
        let offer = if plus {
            s.batch
        } else {
            s.batch.max(PLAIN_FIRST)
        };
        while s.pending.len() < offer && !s.eof {
            fill(&self.fd, &mut s)?;
        }
        Ok(s.pending.iter().take(offer).cloned().collect())
    }

    /// Takes the first `taken` of the `offered` entries the last [`peek`](Self::peek)
    /// returned.
    pub fn consume(&self, taken: usize, offered: usize) {
        let mut s = self.lock();
        for _ in 0..taken {
            if let Some(e) = s.pending.pop_front() {
                s.position = e.next;
            }
        }
        s.batch = if taken < offered {
            taken + 2 // the reply was full
        } else {
            (s.batch * 2).min(1024)
        }
        .max(8);
    }
}

/// Reads one `getdents64` batch into `s.pending`; sets `s.eof` at the end of the directory.
fn fill(fd: &OwnedFd, s: &mut DirStream) -> io::Result<()> {
    let mut buf = std::mem::take(&mut s.buf);
    buf.clear();
    buf.reserve(DIR_BUFFER);
    let before = s.pending.len();
    let result = read_batch(fd, &mut buf, &mut s.pending);
    s.buf = buf;
    s.eof = s.pending.len() == before;
    result
}

fn read_batch(fd: &OwnedFd, buf: &mut Vec<u8>, out: &mut VecDeque<DirEntry>) -> io::Result<()> {
    let spare: &mut [MaybeUninit<u8>] = buf.spare_capacity_mut();
    let mut dir = rustix::fs::RawDir::new(fd, spare);
    while let Some(entry) = dir.next() {
        let e = entry?;
        out.push_back(DirEntry {
            name: OsString::from_vec(e.file_name().to_bytes().to_vec()),
            ino: e.ino(),
            kind: FileType::from_mode(e.file_type().as_raw_mode()),
            next: e.next_entry_cookie(),
        });
        if dir.is_buffer_empty() {
            break; // one system call per batch
        }
    }
    Ok(())
}
