//! The configuration written with `#[derive(Filesystem)]` / `#[fuse(...)]` reaches the kernel.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use fusegen::prelude::*;

use crate::mount::common::{CALL_TIMEOUT, TestMount, fuse_available, within};

/// Counts the requests that carry attributes, and records the INIT capabilities.
#[derive(Default)]
struct Probe {
    attr_requests: AtomicUsize,
    capabilities: AtomicU64,
}

impl Probe {
    fn attr(&self, ino: Inode) -> Result<EntryAttributes> {
        self.attr_requests.fetch_add(1, Ordering::SeqCst);
        match ino {
            Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
            Inode(2) => Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o644).with_size(3)),
            _ => Err(Errno::ENOENT),
        }
    }
}

macro_rules! probe_fs {
    ($name:ident, $($opts:tt)*) => {
        probe_fs!(@ $name, [$($opts)*], {});
    };
    // `extra`: handlers that only some options need (`writeback_cache` needs `write`).
    (@ $name:ident, [$($opts:tt)*], { $($extra:tt)* }) => {
        #[derive(Filesystem, Default)]
        #[fuse($($opts)*)]
        struct $name(Probe);

        #[fusegen::handlers]
        impl $name {
            async fn init(&self, info: &fusegen::ConnectionInfo) -> Result<()> {
                self.0.capabilities.store(info.capabilities, Ordering::SeqCst);
                Ok(())
            }
            async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
                match (parent, name.to_str()) {
                    (Inode::ROOT, Some("f")) => self.0.attr(Inode(2)),
                    _ => Err(Errno::ENOENT),
                }
            }
            async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
                self.0.attr(ino)
            }
            async fn flush(&self, _ino: Inode, _fh: FileHandle, _owner: u64) -> Result<()> {
                Ok(())
            }
            async fn fsync(&self, _ino: Inode, _fh: FileHandle, _datasync: bool) -> Result<()> {
                Ok(())
            }
            $($extra)*
        }
    };
}

probe_fs!(Cached, attr_timeout = 60, entry_timeout = 60);
probe_fs!(Uncached, attr_timeout = 0, entry_timeout = 0);
probe_fs!(@ Writeback, [writeback_cache], {
    async fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, data: &[u8]) -> Result<u32> {
        Ok(data.len() as u32)
    }
});
probe_fs!(Named, read_only, fsname = "probefs", subtype = "probe");

fn mount<FS: Filesystem>(fs: FS) -> TestMount {
    TestMount::start(fs.into_operations(), FS::mount_options(), FS::workers())
        .unwrap_or_else(|e| panic!("mount: {e}"))
}

fn stat_ten_times(m: &TestMount) {
    let f = m.join("f");
    within(CALL_TIMEOUT, "stat x10", move || {
        for _ in 0..10 {
            std::fs::metadata(&f).unwrap();
        }
    });
}

#[test]
fn attr_timeout_from_the_struct_is_honoured() {
    let Some(()) = fuse_available("attr_timeout_from_the_struct_is_honoured") else {
        return;
    };
    let cached = Cached::default();
    let m = mount(cached);
    let before = m_probe_count(&m, |fs: &Cached| &fs.0);
    stat_ten_times(&m);
    let cached_requests = m_probe_count(&m, |fs: &Cached| &fs.0) - before;
    // One lookup fills the caches for 60 s; the other nine stats are answered by the kernel.
    assert!(
        cached_requests <= 2,
        "attr_timeout = 60 still sent {cached_requests} requests"
    );

    let m = mount(Uncached::default());
    let before = m_probe_count(&m, |fs: &Uncached| &fs.0);
    stat_ten_times(&m);
    let uncached_requests = m_probe_count(&m, |fs: &Uncached| &fs.0) - before;
    assert!(
        uncached_requests >= 10,
        "attr_timeout = 0 answered from cache ({uncached_requests} requests)"
    );
}

/// The probe lives inside the mounted filesystem; reach it through the session's handle.
fn m_probe_count<FS: 'static>(m: &TestMount, probe: fn(&FS) -> &Probe) -> usize {
    m.with_fs(|fs: &FS| probe(fs).attr_requests.load(Ordering::SeqCst))
}

#[test]
fn writeback_cache_is_negotiated_only_when_asked() {
    let Some(()) = fuse_available("writeback_cache_is_negotiated_only_when_asked") else {
        return;
    };
    let m = mount(Writeback::default());
    let caps = m.with_fs(|fs: &Writeback| fs.0.capabilities.load(Ordering::SeqCst));
    assert_ne!(
        caps & fusegen::abi::FUSE_WRITEBACK_CACHE,
        0,
        "writeback cache not granted: {caps:#x}"
    );
    let m = mount(Cached::default());
    let caps = m.with_fs(|fs: &Cached| fs.0.capabilities.load(Ordering::SeqCst));
    assert_eq!(
        caps & fusegen::abi::FUSE_WRITEBACK_CACHE,
        0,
        "writeback cache granted unasked"
    );
    assert_ne!(caps & fusegen::abi::FUSE_DO_READDIRPLUS, 0);
}

#[test]
fn read_only_fsname_and_subtype_from_the_struct() {
    let Some(()) = fuse_available("read_only_fsname_and_subtype_from_the_struct") else {
        return;
    };
    let m = mount(Named::default());
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let target = m.path().to_string_lossy().into_owned();
    let line = mounts
        .lines()
        .find(|l| l.split(' ').nth(1) == Some(target.as_str()))
        .expect("mounted");
    assert!(line.starts_with("probefs "), "{line}");
    assert!(line.contains(" fuse.probe ro,"), "{line}");
    let f = m.join("new");
    let err = within(CALL_TIMEOUT, "create", move || std::fs::write(f, b"x")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EROFS));
}
