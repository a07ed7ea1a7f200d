//! Notifications: the kernel's caches are dropped or filled on the filesystem's request.

use std::sync::Mutex;
use std::time::Duration;

use fusegen::prelude::*;
use fusegen::{MountOptions, Notifier, Workers};

use crate::mount::common::{CALL_TIMEOUT, TestMount, fuse_available, within};

const FILE: Inode = Inode(2);
const HOUR: Duration = Duration::from_secs(3600);

/// One file whose content the test changes behind the kernel's back, and a name that does not
/// exist until the test says so. Everything is cached for an hour.
#[derive(Default)]
struct Changing {
    content: Mutex<Vec<u8>>,
    late_file_exists: Mutex<bool>,
}

impl Changing {
    fn attr(&self, ino: Inode) -> Result<EntryAttributes> {
        let mut attr = match ino {
            Inode::ROOT => EntryAttributes::new(ino, FileType::Directory, 0o755),
            FILE | Inode(3) => {
                let len = self.content.lock().unwrap().len() as u64;
                EntryAttributes::new(ino, FileType::RegularFile, 0o644).with_size(len)
            }
            _ => return Err(Errno::ENOENT),
        };
        attr.attr_timeout = HOUR;
        attr.entry_timeout = HOUR;
        Ok(attr)
    }
}

#[fusegen::handlers]
impl Changing {
    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        match (parent, name.to_str()) {
            (Inode::ROOT, Some("f")) => self.attr(FILE),
            (Inode::ROOT, Some("late")) if *self.late_file_exists.lock().unwrap() => {
                self.attr(Inode(3))
            }
            // Cache the absence for an hour too.
            _ => Ok(EntryAttributes::negative(HOUR)),
        }
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.attr(ino)
    }

    async fn open(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        Ok(FileInfo::new(0u64).keep_cache(true))
    }

    async fn read(&self, _ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Vec<u8>> {
        let content = self.content.lock().unwrap();
        let start = (offset as usize).min(content.len());
        let end = start.saturating_add(size as usize).min(content.len());
        Ok(content[start..end].to_vec())
    }
}

impl Filesystem for Changing {}

fn mount() -> (TestMount, Notifier) {
    let fs = Changing {
        content: Mutex::new(b"v1".to_vec()),
        ..Default::default()
    };
    let m = TestMount::start(fs, MountOptions::default(), Workers::default()).unwrap();
    let notifier = m.notifier();
    (m, notifier)
}

fn read(m: &TestMount, name: &str) -> std::io::Result<Vec<u8>> {
    let f = m.join(name);
    within(CALL_TIMEOUT, "read", move || std::fs::read(f))
}

#[test]
fn invalidate_inode_makes_changed_data_visible() {
    let Some(()) = fuse_available("invalidate_inode_makes_changed_data_visible") else {
        return;
    };
    let (m, notifier) = mount();
    assert_eq!(read(&m, "f").unwrap(), b"v1");
    m.with_fs(|fs: &Changing| *fs.content.lock().unwrap() = b"v2".to_vec());
    assert_eq!(
        read(&m, "f").unwrap(),
        b"v1",
        "without a notification the kernel serves its cache"
    );
    notifier.invalidate_inode(FILE, false).unwrap();
    assert_eq!(
        read(&m, "f").unwrap(),
        b"v2",
        "after invalidate_inode the new data is read"
    );
}

#[test]
fn invalidate_entry_drops_a_cached_negative_lookup() {
    let Some(()) = fuse_available("invalidate_entry_drops_a_cached_negative_lookup") else {
        return;
    };
    let (m, notifier) = mount();
    assert_eq!(
        read(&m, "late").unwrap_err().raw_os_error(),
        Some(libc::ENOENT)
    );
    m.with_fs(|fs: &Changing| *fs.late_file_exists.lock().unwrap() = true);
    assert_eq!(
        read(&m, "late").unwrap_err().raw_os_error(),
        Some(libc::ENOENT),
        "the absence is cached"
    );
    notifier
        .invalidate_entry(Inode::ROOT, OsStr::new("late"))
        .unwrap();
    assert_eq!(read(&m, "late").unwrap(), b"v1");
}

#[test]
fn store_fills_the_page_cache() {
    let Some(()) = fuse_available("store_fills_the_page_cache") else {
        return;
    };
    let (m, notifier) = mount();
    assert_eq!(read(&m, "f").unwrap(), b"v1");
    // The kernel now serves `v9` from its cache; the filesystem still holds `v1`.
    notifier.store(FILE, 0, b"v9").unwrap();
    assert_eq!(read(&m, "f").unwrap(), b"v9");
}

#[test]
fn notifier_after_unmount_is_an_error_not_a_panic() {
    let Some(()) = fuse_available("notifier_after_unmount_is_an_error_not_a_panic") else {
        return;
    };
    let (m, notifier) = mount();
    drop(m);
    assert_eq!(notifier.invalidate_inode(FILE, true), Err(Errno::ENOTCONN));
    assert_eq!(
        notifier.invalidate_entry(Inode::ROOT, OsStr::new("f")),
        Err(Errno::ENOTCONN)
    );
}

#[test]
fn retrieve_reads_back_the_kernel_page_cache() {
    let Some(()) = fuse_available("retrieve_reads_back_the_kernel_page_cache") else {
        return;
    };
    let (m, notifier) = mount();
    assert_eq!(read(&m, "f").unwrap(), b"v1");
    notifier.store(FILE, 0, b"v9").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cached = rt
        .block_on(async { tokio::time::timeout(CALL_TIMEOUT, notifier.retrieve(FILE, 0, 2)).await })
        .expect("the kernel answered the retrieve")
        .unwrap();
    // The kernel's cache holds what `store` pushed, not what the filesystem has (`v1`).
    assert_eq!(cached, b"v9");
}
