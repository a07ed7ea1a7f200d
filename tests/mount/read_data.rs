//! `ReadData::from_file`: a `read` handler answers with a range of a file and the runtime moves
//! the data (by splice on `/dev/fuse` from 32 KiB up, by a read into the reply buffer below
//! that and on io_uring). Every byte must arrive where a plain read puts it, ranges that cross
//! the end of the file must come back short, and a file that cannot be read must answer its
//! errno rather than a broken reply.

use std::os::unix::fs::FileExt;
use std::sync::Arc;

use fusegen::prelude::*;
use fusegen::{MountOptions, Workers};

use crate::mount::common::{CALL_TIMEOUT, TestMount, fuse_available, within};

const DATA: Inode = Inode(2);
const WRITE_ONLY: Inode = Inode(3);
/// Not a multiple of the page size, so ranges end inside a page.
const SIZE: usize = (1 << 20) + 1234;

struct Ranges {
    data: Arc<std::fs::File>,
    /// Opened for writing only: `splice` and `pread` from it fail with `EBADF`.
    write_only: Arc<std::fs::File>,
    _dir: tempfile::TempDir,
}

fn pattern() -> Vec<u8> {
    // Neither page- nor byte-periodic: a range sent from the wrong offset cannot match.
    (0..SIZE).map(|i| (i * 7 + i / 4093) as u8).collect()
}

#[fusegen::handlers]
impl Ranges {
    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        match (parent, name.to_str()) {
            (Inode::ROOT, Some("data")) => self.getattr(DATA, None).await,
            (Inode::ROOT, Some("write-only")) => self.getattr(WRITE_ONLY, None).await,
            _ => Err(Errno::ENOENT),
        }
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        match ino {
            Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
            DATA | WRITE_ONLY => {
                Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o444).with_size(SIZE as u64))
            }
            _ => Err(Errno::ENOENT),
        }
    }

    async fn open(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        // Every read reaches the handler with the caller's own offset and size.
        Ok(FileInfo::new(0).direct_io(true))
    }

    async fn read(&self, ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<ReadData> {
        let file = if ino == DATA {
            &self.data
        } else {
            &self.write_only
        };
        Ok(ReadData::from_file(file.clone(), offset, size))
    }
}

impl Filesystem for Ranges {}

fn mount() -> TestMount {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backing");
    std::fs::write(&path, pattern()).unwrap();
    let data = std::fs::File::open(&path).unwrap();
    let write_only = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let fs = Ranges {
        data: Arc::new(data),
        write_only: Arc::new(write_only),
        _dir: dir,
    };
    TestMount::start(fs, MountOptions::default(), Workers::default()).unwrap()
}

/// Reads `len` bytes at `offset` through the mount, as many `pread` calls as it takes.
pub(crate) fn read_at(file: &std::fs::File, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    let mut done = 0;
    while done < len {
        match file
            .read_at(&mut buf[done..], offset + done as u64)
            .unwrap()
        {
            0 => break,
            n => done += n,
        }
    }
    buf.truncate(done);
    buf
}

#[test]
fn file_ranges_arrive_byte_for_byte_small_large_and_across_the_end() {
    let Some(()) =
        fuse_available("file_ranges_arrive_byte_for_byte_small_large_and_across_the_end")
    else {
        return;
    };
    let m = mount();
    let path = m.join("data");
    within(CALL_TIMEOUT, "reads of file ranges", move || {
        let expected = pattern();
        let file = std::fs::File::open(&path).unwrap();
        let ranges: [(usize, usize); 8] = [
            (0, 4096),               // copied
            (1, 32 * 1024),          // spliced, not page aligned
            (12_293, 300_000),       // several requests of up to max_read
            (SIZE - 1000, 65_536),   // crosses the end: short
            (SIZE - 40_000, 40_000), // ends exactly at the end
            (SIZE, 4096),            // at the end: nothing
            (SIZE + 10, 4096),       // past the end: nothing
            (0, SIZE),               // the whole file
        ];
        for (offset, len) in ranges {
            let got = read_at(&file, offset as u64, len);
            let end = (offset + len).min(SIZE);
            let want = expected.get(offset..end).unwrap_or(&[]);
            assert_eq!(got.len(), want.len(), "length of {len} bytes at {offset}");
            assert!(got == want, "contents of {len} bytes at {offset}");
        }
    });
}

#[test]
fn concurrent_file_ranges_do_not_mix() {
    let Some(()) = fuse_available("concurrent_file_ranges_do_not_mix") else {
        return;
    };
    let m = mount();
    let path = m.join("data");
    within(CALL_TIMEOUT, "concurrent reads of file ranges", move || {
        let expected = Arc::new(pattern());
        let readers: Vec<_> = (0..6)
            .map(|t| {
                let (path, expected) = (path.clone(), expected.clone());
                std::thread::spawn(move || {
                    let file = std::fs::File::open(&path).unwrap();
                    for round in 0..40usize {
                        let offset = (t * 97_531 + round * 12_347) % SIZE;
                        let len = [4096, 40_000, 131_072, 7][round % 4];
                        let got = read_at(&file, offset as u64, len);
                        let end = (offset + len).min(SIZE);
                        assert!(got == expected[offset..end], "{len} bytes at {offset}");
                    }
                })
            })
            .collect();
        for reader in readers {
            reader.join().unwrap();
        }
    });
}

#[test]
fn a_file_that_cannot_be_read_answers_its_errno() {
    let Some(()) = fuse_available("a_file_that_cannot_be_read_answers_its_errno") else {
        return;
    };
    let m = mount();
    let path = m.join("write-only");
    within(CALL_TIMEOUT, "reads of an unreadable range", move || {
        let file = std::fs::File::open(&path).unwrap();
        for len in [4096, 128 * 1024] {
            let mut buf = vec![0; len];
            let err = file.read_at(&mut buf, 0).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{len}-byte read");
        }
        // The session is still fine afterwards.
        let data = std::fs::File::open(path.with_file_name("data")).unwrap();
        assert_eq!(read_at(&data, 0, 100), pattern()[..100]);
    });
}
