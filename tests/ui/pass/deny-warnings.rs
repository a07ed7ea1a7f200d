//! A complete filesystem under `#![deny(warnings)]` and the stricter allow-by-default lints:
//! the generated code must not add a single warning to a crate that denies them.
#![deny(warnings)]
#![deny(
    unused_qualifications,
    unused_results,
    unused_lifetimes,
    unused_import_braces,
    trivial_casts,
    trivial_numeric_casts,
    unreachable_pub,
    missing_debug_implementations,
    single_use_lifetimes,
    elided_lifetimes_in_paths,
    let_underscore_drop
)]

use std::sync::Mutex;

use fusegen::prelude::*;

const FILE: Inode = Inode(2);

#[derive(Filesystem)]
#[fuse(
    fsname = "strict",
    subtype = "strict",
    writeback_cache,
    attr_timeout = 1,
    entry_timeout = 1,
    max_tasks = 4
)]
struct Strict {
    data: Mutex<Vec<u8>>,
}

#[fusegen::handlers]
impl Strict {
    async fn init(&self, _info: &fusegen::ConnectionInfo) -> Result<()> {
        Ok(())
    }

    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        match (parent, name.to_str()) {
            (Inode::ROOT, Some("file")) => self.attributes(FILE),
            _ => Err(Errno::ENOENT),
        }
    }

    async fn getattr(
        &self,
        ino: Inode,
        _fh: Option<FileHandle>,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        self.attributes(ino)
    }

    async fn read(&self, ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        if ino != FILE {
            return Err(Errno::EISDIR);
        }
        let data = self.data.lock().map_err(|_| Errno::EIO)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = start.saturating_add(size as usize).min(data.len());
        Ok(Bytes::copy_from_slice(&data[start..end]))
    }

    async fn write(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        bytes: &[u8],
        _ctx: &RequestContext,
    ) -> Result<u32> {
        if ino != FILE {
            return Err(Errno::EISDIR);
        }
        let mut data = self.data.lock().map_err(|_| Errno::EIO)?;
        let start = usize::try_from(offset).map_err(|_| Errno::EFBIG)?;
        let end = start.checked_add(bytes.len()).ok_or(Errno::EFBIG)?;
        if data.len() < end {
            data.resize(end, 0);
        }
        data[start..end].copy_from_slice(bytes);
        u32::try_from(bytes.len()).map_err(|_| Errno::EFBIG)
    }

    async fn flush(&self, _ino: Inode, _fh: FileHandle, _lock_owner: u64) -> Result<()> {
        Ok(())
    }

    async fn fsync(&self, _ino: Inode, _fh: FileHandle, _datasync: bool) -> Result<()> {
        Ok(())
    }

    async fn readdir(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
        _ctx: &RequestContext,
    ) -> Result<()> {
        if ino != Inode::ROOT {
            return Err(Errno::ENOTDIR);
        }
        let entries = [(".", Inode::ROOT), ("..", Inode::ROOT), ("file", FILE)];
        for (i, (name, ino)) in entries.iter().enumerate().skip(offset as usize) {
            if !out.add(OsStr::new(name), &self.attributes(*ino)?, i as u64 + 1) {
                break;
            }
        }
        Ok(())
    }

    async fn forget(&self, _forgets: &[Forget]) {}

    async fn destroy(&self) {}

    fn attributes(&self, ino: Inode) -> Result<EntryAttributes> {
        let size = self.data.lock().map_err(|_| Errno::EIO)?.len() as u64;
        match ino {
            Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
            FILE => Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o644).with_size(size)),
            _ => Err(Errno::ENOENT),
        }
    }
}

fn main() {
    let fs = Strict {
        data: Mutex::new(Vec::new()),
    };
    assert!(fs.attributes(FILE).is_ok());
    assert!(Strict::mount_options().writeback_cache);
    assert_eq!(Strict::workers().max, 4);
}
