//! Every `#[fuse(...)]` option of `fusegen-macros/src/option_table.rs`, each with a valid
//! value, and the handlers the options need (`HANDLER_RULES` there: `writeback_cache`:
//! `write`, `flush` and `fsync`; `auto_cache`, `max_read`, `max_readahead`: `read`;
//! `cache_symlinks`: `readlink`; `supports_dot_lookup`: `lookup`; `acl`: `getxattr` and
//! `setxattr`; `atomic_o_trunc`: `open`). `read_only = false`: with a `write` handler,
//! `read_only` would warn. `main` checks where each value lands.

use std::time::Duration;

use fusegen::MountMethod;
use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(
    fsname = "all-options",
    subtype = "all_options.v1",
    read_only = false,
    default_permissions = false,
    allow_other,
    allow_root = false,
    auto_unmount,
    attr_timeout = 60,
    entry_timeout = 0.5,
    negative_timeout = 0,
    ac_attr_timeout = 30,
    writeback_cache,
    direct_io = false,
    kernel_cache = false,
    auto_cache,
    cache_symlinks,
    supports_dot_lookup,
    acl,
    atomic_o_trunc,
    passthrough = false,
    handle_killpriv = false,
    max_write = 131072,
    max_read = 65536,
    max_readahead = 0,
    max_background = 64,
    congestion_threshold = 48,
    blksize = 4096,
    umask = 0o022,
    uid = 1000,
    gid = 0,
    use_ino,
    readdir_ino,
    noforget,
    intr,
    intr_signal = 10,
    debug,
    nonempty,
    mount_method = "fusermount",
    transport = "io_uring",
    uring_queue_depth = 4,
    min_tasks = 2,
    max_tasks = 16,
    shutdown_grace = 1.5,
    crate = "::fusegen"
)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn lookup(&self, _parent: Inode, _name: &OsStr) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }

    async fn readlink(&self, _ino: Inode) -> Result<Bytes> {
        Ok(Bytes::from_static(b"target"))
    }

    async fn open(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        Ok(FileInfo::new(1))
    }

    async fn read(&self, _ino: Inode, _fh: FileHandle, _offset: u64, _size: u32) -> Result<Bytes> {
        Ok(Bytes::new())
    }

    async fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, data: &[u8]) -> Result<u32> {
        Ok(data.len() as u32)
    }

    async fn flush(&self, _ino: Inode, _fh: FileHandle, _lock_owner: u64) -> Result<()> {
        Ok(())
    }

    async fn fsync(&self, _ino: Inode, _fh: FileHandle, _datasync: bool) -> Result<()> {
        Ok(())
    }

    async fn setxattr(&self, _ino: Inode, _name: &OsStr, _value: &[u8], _flags: i32) -> Result<()> {
        Ok(())
    }

    async fn getxattr(&self, _ino: Inode, _name: &OsStr) -> Result<Bytes> {
        Err(Errno::ENODATA)
    }
}

fn main() {
    let o = Fs::mount_options();
    assert_eq!(o.transport, Some(fusegen::Transport::IoUring));
    assert_eq!(o.uring_queue_depth, Some(4));
    assert_eq!(o.fsname.as_deref(), Some("all-options"));
    assert_eq!(o.subtype.as_deref(), Some("all_options.v1"));
    assert!(!o.read_only);
    assert!(!o.default_permissions);
    assert!(o.allow_other);
    assert!(!o.allow_root);
    assert!(o.auto_unmount);
    assert_eq!(o.attr_timeout, Some(Duration::from_secs(60)));
    assert_eq!(o.entry_timeout, Some(Duration::from_millis(500)));
    assert_eq!(o.negative_timeout, Some(Duration::ZERO));
    assert_eq!(o.ac_attr_timeout, Some(Duration::from_secs(30)));
    assert!(o.writeback_cache);
    assert!(!o.direct_io);
    assert!(!o.kernel_cache);
    assert!(o.auto_cache);
    assert!(o.cache_symlinks);
    assert!(o.export_support);
    assert!(o.acl);
    assert!(!o.handle_killpriv);
    assert!(o.atomic_o_trunc);
    assert_eq!(o.max_write, Some(131072));
    assert_eq!(o.max_read, Some(65536));
    assert_eq!(o.max_readahead, Some(0));
    assert_eq!(o.max_background, Some(64));
    assert_eq!(o.congestion_threshold, Some(48));
    assert_eq!(o.blksize, Some(4096));
    assert_eq!(o.umask, Some(0o022));
    assert_eq!(o.uid, Some(1000));
    assert_eq!(o.gid, Some(0));
    assert!(o.use_ino);
    assert!(o.readdir_ino);
    assert!(o.noforget);
    assert!(o.intr);
    assert_eq!(o.intr_signal, Some(10));
    assert!(o.debug);
    assert!(o.nonempty);
    assert_eq!(o.method, MountMethod::Fusermount);

    let w = Fs::workers();
    assert_eq!(w.min, 2);
    assert_eq!(w.max, 16);
    assert_eq!(w.grace, Duration::from_millis(1500));
}
