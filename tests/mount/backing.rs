//! Kernel passthrough: an open reply with a `BackingFile` makes the kernel read and write the
//! backing file itself, so the `read` and `write` handlers are never called.

use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};

use fusegen::prelude::*;
use fusegen::{MountOptions, Workers};

use crate::mount::common::{CALL_TIMEOUT, TestMount, fuse_available, within};

const FILE: Inode = Inode(2);

struct Backed {
    backing: std::fs::File,
    handler_reads: AtomicUsize,
    handler_writes: AtomicUsize,
}

#[fusegen::handlers]
impl Backed {
    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        match (parent, name.to_str()) {
            (Inode::ROOT, Some("f")) => self.getattr(FILE, None).await,
            _ => Err(Errno::ENOENT),
        }
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        match ino {
            Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
            FILE => {
                let len = self.backing.metadata()?.len();
                let mut attr =
                    EntryAttributes::new(ino, FileType::RegularFile, 0o644).with_size(len);
                attr.attr_timeout = std::time::Duration::ZERO;
                Ok(attr)
            }
            _ => Err(Errno::ENOENT),
        }
    }

    async fn open(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        let backing = BackingFile::from_file(&self.backing)?;
        Ok(FileInfo::new(7u64).keep_cache(false).with_backing(backing))
    }

    async fn read(&self, _ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Vec<u8>> {
        self.handler_reads.fetch_add(1, Ordering::SeqCst);
        let mut buf = vec![0; size as usize];
        let n = self.backing.read_at(&mut buf, offset)?;
        buf.truncate(n);
        Ok(buf)
    }

    async fn write(&self, _ino: Inode, _fh: FileHandle, offset: u64, data: &[u8]) -> Result<u32> {
        self.handler_writes.fetch_add(1, Ordering::SeqCst);
        Ok(self.backing.write_at(data, offset)? as u32)
    }
}

impl Filesystem for Backed {}

fn backed(content: &[u8]) -> (Backed, tempfile::NamedTempFile) {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), content).unwrap();
    let backing = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(tmp.path())
        .unwrap();
    (
        Backed {
            backing,
            handler_reads: AtomicUsize::new(0),
            handler_writes: AtomicUsize::new(0),
        },
        tmp,
    )
}

fn read_and_append(m: &TestMount) -> Vec<u8> {
    let f = m.join("f");
    within(CALL_TIMEOUT, "read and write", move || {
        use std::io::Write;
        let data = std::fs::read(&f).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&f)
            .unwrap()
            .write_all(b"+more")
            .unwrap();
        data
    })
}

#[test]
fn kernel_passthrough_bypasses_read_and_write_handlers() {
    let Some(()) = fuse_available("kernel_passthrough_bypasses_read_and_write_handlers") else {
        return;
    };
    let (fs, tmp) = backed(b"from the backing file");
    let options = MountOptions::parse(["passthrough"]).unwrap();
    let m = TestMount::start(fs, options, Workers::default()).unwrap();
    assert_eq!(read_and_append(&m), b"from the backing file");
    let (reads, writes) = m.with_fs(|fs: &Backed| {
        (
            fs.handler_reads.load(Ordering::SeqCst),
            fs.handler_writes.load(Ordering::SeqCst),
        )
    });
    assert_eq!(
        (reads, writes),
        (0, 0),
        "with passthrough the kernel must not call read/write handlers"
    );
    drop(m);
    assert_eq!(
        std::fs::read(tmp.path()).unwrap(),
        b"from the backing file+more"
    );
}

#[test]
fn without_passthrough_the_same_filesystem_uses_its_handlers() {
    let Some(()) = fuse_available("without_passthrough_the_same_filesystem_uses_its_handlers")
    else {
        return;
    };
    let (fs, tmp) = backed(b"handler data");
    let m = TestMount::start(fs, MountOptions::default(), Workers::default()).unwrap();
    assert_eq!(read_and_append(&m), b"handler data");
    let (reads, writes) = m.with_fs(|fs: &Backed| {
        (
            fs.handler_reads.load(Ordering::SeqCst),
            fs.handler_writes.load(Ordering::SeqCst),
        )
    });
    assert!(
        reads >= 1 && writes >= 1,
        "handlers serve the data: {reads} reads, {writes} writes"
    );
    drop(m);
    assert_eq!(std::fs::read(tmp.path()).unwrap(), b"handler data+more");
}
