//! `cfg` and `cfg_attr` on handlers: a handler and its capability bit exist exactly when its
//! `cfg` holds; other attributes on handlers (`allow`, docs, `tracing::instrument`) stay on
//! the user's method.

use fusegen::prelude::*;
use fusegen::{Handlers, Operations};

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    /// Documented handler with a lint allowed on it.
    #[allow(unused_variables)]
    async fn getattr(&self, ino: Inode, fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }

    // False on every target this test runs on: no READ capability.
    #[cfg(any())]
    async fn read(&self, _ino: Inode, _fh: FileHandle, _offset: u64, _size: u32) -> Result<Bytes> {
        Ok(Bytes::new())
    }

    // False, with the optional `ctx` (the case that recursed).
    #[cfg(target_os = "macos")]
    async fn lookup(
        &self,
        _parent: Inode,
        _name: &OsStr,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }

    // Two versions of one handler, one per platform.
    #[cfg(unix)]
    async fn readlink(&self, _ino: Inode) -> Result<Bytes> {
        Ok(Bytes::from_static(b"unix"))
    }
    #[cfg(not(unix))]
    async fn readlink(&self, _ino: Inode) -> Result<Bytes> {
        Ok(Bytes::from_static(b"other"))
    }

    // `cfg` inside `cfg_attr`: removed when the outer condition holds.
    #[cfg_attr(unix, cfg(any()))]
    async fn mkdir(
        &self,
        _parent: Inode,
        _name: &OsStr,
        _mode: u32,
    ) -> Result<EntryAttributes> {
        Err(Errno::EROFS)
    }

    // A `cfg_attr` that adds an ordinary attribute.
    #[cfg_attr(unix, allow(unused_variables))]
    #[tracing::instrument(skip(self))]
    async fn statfs(&self, ino: Inode) -> Result<StatvfsData> {
        Ok(StatvfsData::default())
    }
}

fn main() {
    let h = <Fs as Operations>::HANDLERS;
    assert!(h.contains(Handlers::GETATTR));
    assert!(!h.contains(Handlers::READ));
    assert!(!h.contains(Handlers::LOOKUP));
    assert!(h.contains(Handlers::READLINK));
    assert!(!h.contains(Handlers::MKDIR));
    assert!(h.contains(Handlers::STATFS));
}
