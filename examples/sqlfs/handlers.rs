//! The path-level handlers: plain functions (`#[fusegen::handlers(paths, blocking)]`), each
//! one a transaction over the database (`store`, `data`); the runtime runs them on tokio's
//! blocking pool. Requests through an open file find it by its handle,
//! so a file unlinked or replaced while open stays readable and writable.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use fusegen::ConnectionInfo;
use fusegen::paths::DirEntry;
use fusegen::prelude::*;
use rusqlite::Connection;

use crate::state::{OpenFiles, SqlFs};
use crate::store::{self, New};
use crate::{data, schema};

const FALLOC_FL_KEEP_SIZE: i32 = 0x01;
const FALLOC_FL_PUNCH_HOLE: i32 = 0x02;
const FALLOC_FL_ZERO_RANGE: i32 = 0x10;

/// The inode a request is about: through its open handle when it has one (the file may have
/// no name any more), else by its path.
fn inode(conn: &Connection, open: &OpenFiles, path: &Path, fh: Option<FileHandle>) -> Result<i64> {
    match fh.map(|fh| open.get(fh.0)) {
        Some(Ok(handle)) => Ok(handle.ino),
        _ => store::resolve(conn, path),
    }
}

/// `O_TRUNC` on open: empty the file, update mtime and ctime.
fn truncate_on_open(conn: &Connection, ino: i64, flags: i32) -> Result<()> {
    if flags & libc::O_TRUNC != 0 {
        data::truncate(conn, ino, 0)?;
        store::touch_modified(conn, ino)?;
    }
    Ok(())
}

/// Commits everything the database has in its write-ahead log to stable storage.
fn checkpoint(conn: &Connection) -> Result<()> {
    use crate::store::Sql;
    // A checkpoint syncs the log, copies it into the database file and syncs that: what
    // `fsync` promises. `synchronous = NORMAL` skips the per-commit sync (see main.rs).
    let busy = conn
        .query_row("PRAGMA wal_checkpoint(FULL)", [], |r| r.get::<_, i64>(0))
        .sql("checkpointing")?;
    // Only another connection could hold the checkpoint back, and the database is locked
    // for this one: still, an incomplete checkpoint must not be reported as durable.
    if busy != 0 {
        tracing::error!("sqlfs: the checkpoint could not complete");
        return Err(Errno::EIO);
    }
    Ok(())
}

#[fusegen::handlers(paths, blocking)]
impl SqlFs {
    fn init(&self, _info: &ConnectionInfo) -> Result<()> {
        let conn = schema::open(&self.path, self.owner, store::now_pair()).map_err(|e| {
            tracing::error!("sqlfs: {e}");
            Errno::EIO
        })?;
        self.connect(conn);
        Ok(())
    }

    /// Unmount: no file is open any more, so the files unlinked while open go; free pages
    /// are returned and the log is folded into the database file.
    fn destroy(&self) {
        let done = self.db(|s| {
            schema::sweep_orphans(&s.conn).map_err(|e| {
                tracing::error!(error = %e, "sqlfs: removing unlinked files");
                Errno::EIO
            })?;
            // Free pages back to the disk, then the log into the database file.
            if let Err(e) = schema::vacuum(&s.conn) {
                tracing::warn!(error = %e, "sqlfs: freeing unused pages");
            }
            let _ = s
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    r.get::<_, i64>(0)
                });
            Ok(())
        });
        if done.is_err() {
            tracing::warn!("sqlfs: the database was not tidied at unmount");
        }
    }

    fn getattr(&self, path: &Path, fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.tx(|conn, open| store::attr(conn, inode(conn, open, path, fh)?))
    }

    fn setattr(
        &self,
        path: &Path,
        set: &SetAttr,
        fh: Option<FileHandle>,
    ) -> Result<EntryAttributes> {
        self.tx(|conn, open| store::setattr(conn, inode(conn, open, path, fh)?, set))
    }

    fn readlink(&self, path: &Path) -> Result<Bytes> {
        let target = self.tx(|conn, _| store::readlink(conn, store::resolve(conn, path)?))?;
        Ok(Bytes::from(target))
    }

    fn mknod(
        &self,
        path: &Path,
        mode: u32,
        rdev: u32,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let rdev = match FileType::from_mode(mode) {
            Some(FileType::CharDevice | FileType::BlockDevice) => rdev,
            Some(FileType::RegularFile | FileType::NamedPipe | FileType::Socket) => 0,
            Some(FileType::Directory) => return Err(Errno::EPERM),
            Some(FileType::Symlink) | None => return Err(Errno::EINVAL),
        };
        let new = New {
            mode,
            rdev,
            target: None,
            umask: true,
        };
        self.make(path, new, ctx)
    }

    fn mkdir(&self, path: &Path, mode: u32, ctx: &RequestContext) -> Result<EntryAttributes> {
        let new = New {
            mode: libc::S_IFDIR | (mode & 0o7777),
            rdev: 0,
            target: None,
            umask: true,
        };
        self.make(path, new, ctx)
    }

    fn symlink(
        &self,
        path: &Path,
        target: &OsStr,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        self.tx(|conn, _| {
            let new = New {
                mode: libc::S_IFLNK | 0o777,
                rdev: 0,
                target: Some(target.as_bytes()),
                umask: false,
            };
            store::attr(conn, store::make(conn, path, new, ctx)?)
        })
    }

    fn unlink(&self, path: &Path) -> Result<()> {
        self.tx(|conn, open| store::remove(conn, path, false, |ino| open.is_open(ino)))
    }

    fn rmdir(&self, path: &Path) -> Result<()> {
        self.tx(|conn, open| store::remove(conn, path, true, |ino| open.is_open(ino)))
    }

    fn rename(&self, from: &Path, to: &Path, flags: RenameFlags) -> Result<()> {
        self.tx(|conn, open| store::rename(conn, from, to, flags, |ino| open.is_open(ino)))
    }

    fn link(&self, existing: &Path, new: &Path) -> Result<EntryAttributes> {
        self.tx(|conn, _| store::attr(conn, store::link(conn, existing, new)?))
    }

    fn open(&self, path: &Path, flags: i32) -> Result<FileInfo> {
        let fh = self.tx(|conn, open| {
            let ino = store::resolve(conn, path)?;
            truncate_on_open(conn, ino, flags)?;
            Ok(open.open(ino, flags & libc::O_APPEND != 0))
        })?;
        Ok(FileInfo::new(fh))
    }

    fn create(
        &self,
        path: &Path,
        mode: u32,
        flags: i32,
        ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        let (fh, attr) = self.tx(|conn, open| {
            let ino = match store::resolve(conn, path) {
                // Another create won the race: open what it made.
                Ok(_) if flags & libc::O_EXCL != 0 => return Err(Errno::EEXIST),
                Ok(ino) => {
                    if store::attr(conn, ino)?.kind() == Some(FileType::Directory) {
                        return Err(Errno::EISDIR);
                    }
                    truncate_on_open(conn, ino, flags)?;
                    ino
                }
                Err(e) if e == Errno::ENOENT => {
                    let new = New {
                        mode: libc::S_IFREG | (mode & 0o7777),
                        rdev: 0,
                        target: None,
                        umask: true,
                    };
                    store::make(conn, path, new, ctx)?
                }
                Err(e) => return Err(e),
            };
            let attr = store::attr(conn, ino)?;
            Ok((open.open(ino, flags & libc::O_APPEND != 0), attr))
        })?;
        Ok((FileInfo::new(fh), attr))
    }

    fn read(&self, _path: &Path, fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        let data = self.tx(|conn, open| data::read(conn, open.get(fh.0)?.ino, offset, size))?;
        Ok(Bytes::from(data))
    }

    fn write(&self, _path: &Path, fh: FileHandle, offset: u64, bytes: &[u8]) -> Result<u32> {
        let len = u32::try_from(bytes.len()).map_err(|_| Errno::EINVAL)?;
        self.tx(|conn, open| {
            let handle = open.get(fh.0)?;
            let offset = if handle.append {
                data::size(conn, handle.ino)?
            } else {
                offset
            };
            data::write(conn, handle.ino, offset, bytes)?;
            Ok(len)
        })
    }

    fn release(&self, _path: &Path, fh: FileHandle, _flags: i32) -> Result<()> {
        self.tx(|conn, open| match open.close(fh.0) {
            Some(ino) => store::delete_if_unlinked(conn, ino),
            None => Ok(()),
        })
    }

    fn fsync(&self, _path: &Path, _fh: FileHandle, _datasync: bool) -> Result<()> {
        self.db(|s| checkpoint(&s.conn))
    }

    fn fsyncdir(&self, _path: &Path, _fh: FileHandle, _datasync: bool) -> Result<()> {
        self.db(|s| checkpoint(&s.conn))
    }

    fn readdir(&self, path: &Path, _fh: FileHandle) -> Result<Vec<DirEntry>> {
        let entries = self.tx(|conn, _| store::list(conn, store::resolve(conn, path)?))?;
        Ok(entries
            .into_iter()
            .map(|(name, attr)| DirEntry::with_attributes(OsString::from_vec(name), attr))
            .collect())
    }

    fn statfs(&self, _path: &Path) -> Result<StatvfsData> {
        let files = self.tx(|conn, _| store::count_inodes(conn))?;
        let dir = self.path.parent().unwrap_or(Path::new("/"));
        // Space is the space of the filesystem holding the database.
        let host = nix::sys::statvfs::statvfs(dir).map_err(Errno::from)?;
        let mut out = StatvfsData::default();
        out.bsize = u32::try_from(host.block_size()).unwrap_or(4096);
        out.frsize = u32::try_from(host.fragment_size()).unwrap_or(out.bsize);
        out.blocks = host.blocks();
        out.bfree = host.blocks_free();
        out.bavail = host.blocks_available();
        out.ffree = host.files_free();
        out.favail = host.files_available();
        out.files = files.saturating_add(out.ffree);
        out.namemax = store::NAME_MAX as u32;
        Ok(out)
    }

    fn setxattr(&self, path: &Path, name: &OsStr, value: &[u8], flags: i32) -> Result<()> {
        self.tx(|conn, _| store::setxattr(conn, store::resolve(conn, path)?, name, value, flags))
    }

    fn getxattr(&self, path: &Path, name: &OsStr) -> Result<Bytes> {
        let value = self.tx(|conn, _| store::getxattr(conn, store::resolve(conn, path)?, name))?;
        Ok(Bytes::from(value))
    }

    fn listxattr(&self, path: &Path) -> Result<Vec<OsString>> {
        let names = self.tx(|conn, _| store::listxattr(conn, store::resolve(conn, path)?))?;
        Ok(names.into_iter().map(OsString::from_vec).collect())
    }

    fn removexattr(&self, path: &Path, name: &OsStr) -> Result<()> {
        self.tx(|conn, _| store::removexattr(conn, store::resolve(conn, path)?, name))
    }

    fn fallocate(
        &self,
        _path: &Path,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
    ) -> Result<()> {
        let end = offset
            .checked_add(length)
            .filter(|end| *end <= data::MAX_SIZE)
            .ok_or(Errno::EFBIG)?;
        let keep_size = mode & FALLOC_FL_KEEP_SIZE != 0;
        self.tx(|conn, open| {
            let ino = open.get(fh.0)?.ino;
            let size = data::size(conn, ino)?;
            match mode & !FALLOC_FL_KEEP_SIZE {
                // Allocation: holes read as zeros already; only the size may grow.
                0 => {}
                FALLOC_FL_PUNCH_HOLE if keep_size => {
                    data::zero_stored(conn, ino, offset, end.min(size))?
                }
                FALLOC_FL_ZERO_RANGE => data::zero_stored(conn, ino, offset, end.min(size))?,
                _ => return Err(Errno::EOPNOTSUPP),
            }
            let grows = !keep_size && end > size;
            if grows {
                data::truncate(conn, ino, end)?;
            }
            if grows || mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE) != 0 {
                store::touch_modified(conn, ino)?;
            }
            Ok(())
        })
    }
}

impl SqlFs {
    /// mknod and mkdir: a new inode at `path`, its attributes.
    fn make(
        &self,
        path: &Path,
        new: New<'static>,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        self.tx(|conn, _| store::attr(conn, store::make(conn, path, new, ctx)?))
    }
}
