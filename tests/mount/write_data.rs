//! `WriteData`: a `write` handler that takes it gets, on `/dev/fuse`, the data of large writes
//! (32 KiB and up) still in a pipe, and `write_to` splices it into a file. Every byte must land
//! where a plain `pwrite` puts it (unaligned offsets, the 32 KiB bound, `max_write`), whether
//! the handler consumes the data in place, after an await, or not at all; and the data must
//! really have come through a pipe, which the handler records from `WriteData::in_pipe`.

use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use fusegen::prelude::*;
use fusegen::{ActiveTransport, MountOptions, Transport, Workers};

use crate::mount::common::{CALL_TIMEOUT, TestMount, fuse_available, within};
use crate::read_data::read_at;

const DATA: Inode = Inode(2);
/// Writes to this file are answered as done without touching the data: the pipe that holds
/// it must be dropped, and the next request must still arrive whole.
const DISCARD: Inode = Inode(3);
/// 255 pages: a request (a page of headers and one per page of data) then fits a pipe of 1 MiB,
/// the largest a process without `CAP_SYS_RESOURCE` may make by default
/// (`/proc/sys/fs/pipe-max-size`). With 1 MiB the runtime falls back to `read(2)` there.
const MAX_WRITE: usize = (1 << 20) - 4096;

struct Sink {
    backing: Arc<std::fs::File>,
    /// Writes whose data came in a pipe, and in memory, as `WriteData::in_pipe` said.
    in_pipe: AtomicUsize,
    in_memory: AtomicUsize,
    /// The largest write seen, to show that one of `max_write` bytes came whole.
    largest: AtomicUsize,
    calls: AtomicUsize,
    _dir: tempfile::TempDir,
}

#[fusegen::handlers]
impl Sink {
    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        match (parent, name.to_str()) {
            (Inode::ROOT, Some("data")) => self.getattr(DATA, None).await,
            (Inode::ROOT, Some("discard")) => self.getattr(DISCARD, None).await,
            _ => Err(Errno::ENOENT),
        }
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        match ino {
            Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
            DATA => {
                let size = self.backing.metadata()?.len();
                Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o644).with_size(size))
            }
            DISCARD => Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o644)),
            _ => Err(Errno::ENOENT),
        }
    }

    async fn open(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        // Every write reaches the handler with the caller's own offset and size.
        Ok(FileInfo::new(0).direct_io(true))
    }

    async fn read(&self, _ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<ReadData> {
        Ok(ReadData::from_file(self.backing.clone(), offset, size))
    }

    async fn write(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        data: WriteData<'_>,
    ) -> Result<u32> {
        let counter = if data.in_pipe() {
            &self.in_pipe
        } else {
            &self.in_memory
        };
        counter.fetch_add(1, Ordering::SeqCst);
        self.largest.fetch_max(data.len(), Ordering::SeqCst);
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        if ino == DISCARD {
            return Ok(len);
        }
        // Every other call waits first, so that its data (and pipe) leaves the reader
        // thread with the handler.
        if self.calls.fetch_add(1, Ordering::SeqCst) % 2 == 1 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let n = data.write_to(&*self.backing, offset)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

impl Filesystem for Sink {}

/// A `Sink` mounted with `transport` (the default when `None`).
fn mount(transport: Option<Transport>) -> TestMount {
    let dir = tempfile::tempdir().unwrap();
    let backing = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.path().join("backing"))
        .unwrap();
    let fs = Sink {
        backing: Arc::new(backing),
        in_pipe: AtomicUsize::new(0),
        in_memory: AtomicUsize::new(0),
        largest: AtomicUsize::new(0),
        calls: AtomicUsize::new(0),
        _dir: dir,
    };
    let mut options = MountOptions::default();
    options.max_write = Some(MAX_WRITE as u32);
    options.transport = transport;
    TestMount::start(fs, options, Workers::default()).unwrap()
}

fn pattern(len: usize, seed: usize) -> Vec<u8> {
    // Neither page- nor byte-periodic: data written from the wrong offset cannot match.
    (0..len)
        .map(|i| ((i + seed) * 7 + (i + seed) / 4093) as u8)
        .collect()
}

/// Writes all of `data` at `offset` through `file`, from a page-aligned copy: a direct write of
/// `max_write` bytes then pins exactly `max_pages` pages and goes as one request.
fn write_at(file: &std::fs::File, source: &[u8], offset: u64) {
    let mut buf = vec![0u8; source.len() + 4096];
    let start = buf.as_ptr().align_offset(4096);
    let data = &mut buf[start..start + source.len()];
    data.copy_from_slice(source);
    let mut done = 0;
    while done < data.len() {
        done += file.write_at(&data[done..], offset + done as u64).unwrap();
    }
}

/// Whether this process can make a pipe of 1 MiB, which holds a request of [`MAX_WRITE`]
/// (`/proc/sys/fs/pipe-max-size` is 1 MiB by default; `CAP_SYS_RESOURCE` goes beyond).
fn pipes_hold_a_request() -> bool {
    let Ok((_read, write)) = nix::unistd::pipe() else {
        return false;
    };
    nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20)).is_ok()
}

/// The counters of the mounted `Sink`: (in a pipe, in memory, largest).
fn counters(m: &TestMount) -> (usize, usize, usize) {
    m.with_fs(|fs: &Sink| {
        (
            fs.in_pipe.load(Ordering::SeqCst),
            fs.in_memory.load(Ordering::SeqCst),
            fs.largest.load(Ordering::SeqCst),
        )
    })
}

/// Writes of several sizes and offsets through `m`, each also to the file that drops its data;
/// the file must then read back (through the mount and in the backing file) as written.
fn writes_land_byte_for_byte(m: &TestMount) {
    let path = m.join("data");
    let discard = m.join("discard");
    let model = within(CALL_TIMEOUT, "writes of several sizes", move || {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let sink = std::fs::OpenOptions::new()
            .write(true)
            .open(&discard)
            .unwrap();
        let mut model = vec![0u8; 3 << 20];
        let writes: [(usize, usize); 9] = [
            (0, 4096),                  // in memory
            (1, 32 * 1024),             // the bound: in a pipe, not page aligned
            (40_000, 32 * 1024 - 1),    // just below it: in memory
            (12_293, 300_000),          // in a pipe, unaligned
            (0, MAX_WRITE),             // max_write, page aligned: one request
            (1 << 20, MAX_WRITE + 777), // more than max_write: two requests
            (5, MAX_WRITE),             // max_write from an unaligned offset
            (2_900_000, 100),           // small, past the data so far
            (7, 65_536),                // overwrite in a pipe
        ];
        for (i, (offset, len)) in writes.into_iter().enumerate() {
            let data = pattern(len, i * 1_000_003);
            write_at(&file, &data, offset as u64);
            model[offset..offset + len].copy_from_slice(&data);
            // Writes whose data is dropped unread leave the next request intact.
            write_at(&sink, &pattern(len, i), offset as u64);
        }
        let end = 2_900_100;
        let got = read_at(&file, 0, end + 4096);
        assert_eq!(got.len(), end, "file size");
        for (at, (a, b)) in got.iter().zip(&model[..end]).enumerate() {
            assert_eq!(a, b, "byte {at}");
        }
        model.truncate(end);
        model
    });
    let backing = m.with_fs(|fs: &Sink| {
        let mut all = Vec::new();
        std::io::Read::read_to_end(&mut &*fs.backing, &mut all).unwrap();
        all
    });
    assert!(
        backing == model,
        "the backing file differs from what was written"
    );
    let (_, in_memory, largest) = counters(m);
    assert_eq!(largest, MAX_WRITE, "a write of max_write bytes came whole");
    assert!(in_memory > 0, "small writes come in memory");
}

#[test]
fn write_data_on_dev_fuse_lands_byte_for_byte_from_a_pipe() {
    let Some(()) = fuse_available("write_data_on_dev_fuse_lands_byte_for_byte_from_a_pipe") else {
        return;
    };
    let m = mount(Some(Transport::Dev));
    writes_land_byte_for_byte(&m);
    let (in_pipe, in_memory, _) = counters(&m);
    if !pipes_hold_a_request() {
        assert_eq!(
            in_pipe, 0,
            "no pipe can hold a request here: read(2) as usual"
        );
        return;
    }
    // 6 writes of 32 KiB and up to each file, three of them more than one request.
    assert!(
        in_pipe >= 12,
        "large writes came in a pipe: {in_pipe} in a pipe, {in_memory} in memory"
    );
}

#[test]
fn write_data_on_the_default_transport_lands_byte_for_byte() {
    let Some(()) = fuse_available("write_data_on_the_default_transport_lands_byte_for_byte") else {
        return;
    };
    let m = mount(None);
    writes_land_byte_for_byte(&m);
    let (in_pipe, in_memory, _) = counters(&m);
    match m.handle().transport() {
        Some(ActiveTransport::Dev) if pipes_hold_a_request() => {
            assert!(in_pipe >= 12, "{in_pipe} in a pipe, {in_memory} in memory");
        }
        // io_uring delivers the data in the ring entry's buffer.
        _ => assert_eq!(in_pipe, 0, "nothing comes in a pipe beside io_uring"),
    }
}

#[test]
fn concurrent_write_data_does_not_mix() {
    let Some(()) = fuse_available("concurrent_write_data_does_not_mix") else {
        return;
    };
    let m = mount(Some(Transport::Dev));
    let path = m.join("data");
    const REGION: usize = 400_000;
    within(CALL_TIMEOUT, "concurrent writes", move || {
        let writers: Vec<_> = (0..4usize)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                    // Each thread writes its own region, in pieces of several sizes.
                    let data = pattern(REGION, t * 7919);
                    let mut at = 0;
                    for len in [40_000, 4096, 131_072, 100, 224_832].into_iter().cycle() {
                        if at == REGION {
                            break;
                        }
                        let len = len.min(REGION - at);
                        write_at(&file, &data[at..at + len], (t * REGION + at) as u64);
                        at += len;
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let file = std::fs::File::open(&path).unwrap();
        for t in 0..4 {
            let got = read_at(&file, (t * REGION) as u64, REGION);
            assert!(got == pattern(REGION, t * 7919), "region of writer {t}");
        }
    });
}
