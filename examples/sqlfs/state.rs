//! The filesystem's state: the database connection, the table of open files, and the one
//! way handlers reach them, [`SqlFs::db`] (handlers run on tokio's blocking pool).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use fusegen::{Errno, Result};
use parking_lot::Mutex;
use rusqlite::Connection;

use crate::store::Sql;

/// One open file: its inode, and whether writes go to its end (`O_APPEND`).
#[derive(Clone, Copy)]
pub struct Handle {
    pub ino: i64,
    pub append: bool,
}

/// Open files by handle, and how many handles each inode has: a file whose last name is
/// removed keeps its rows while this says it is open, and loses them at its last release.
#[derive(Default)]
pub struct OpenFiles {
    handles: HashMap<u64, Handle>,
    counts: HashMap<i64, u32>,
    next: u64,
}

impl OpenFiles {
    /// Registers an open of `ino`; returns its handle number.
    pub fn open(&mut self, ino: i64, append: bool) -> u64 {
        self.next += 1;
        self.handles.insert(self.next, Handle { ino, append });
        *self.counts.entry(ino).or_default() += 1;
        self.next
    }

    pub fn get(&self, fh: u64) -> Result<Handle> {
        self.handles.get(&fh).copied().ok_or(Errno::EBADF)
    }

    pub fn is_open(&self, ino: i64) -> bool {
        self.counts.contains_key(&ino)
    }

    /// Forgets handle `fh`; returns its inode when that was the inode's last handle.
    pub fn close(&mut self, fh: u64) -> Option<i64> {
        let handle = self.handles.remove(&fh)?;
        let count = self.counts.get_mut(&handle.ino)?;
        *count -= 1;
        if *count == 0 {
            self.counts.remove(&handle.ino);
            return Some(handle.ino);
        }
        None
    }
}

/// What the database closures get: the connection and the open files, under one lock.
pub struct Store {
    pub conn: Connection,
    pub open: OpenFiles,
}

impl Store {
    /// Runs `f` in one transaction, committed when `f` succeeds and rolled back otherwise:
    /// each request changes the database all or not at all, so a crash never leaves half a
    /// rename. `open` changes are not rolled back with a failed commit; the worst outcome is
    /// a file unlinked while open whose rows stay until the next start sweeps them.
    pub fn tx<R>(&mut self, f: impl FnOnce(&Connection, &mut OpenFiles) -> Result<R>) -> Result<R> {
        let Store { conn, open } = self;
        let tx = conn.transaction().sql("starting a transaction")?;
        let out = f(&tx, open)?;
        tx.commit().sql("committing a transaction")?;
        Ok(out)
    }
}

/// The filesystem. The database is opened by `init`, in the process that serves (the one
/// that detached from the terminal): a SQLite connection and its locks must not cross a
/// `fork`.
#[derive(fusegen::Filesystem)]
// The kernel checks permissions from the stored modes and owners.
#[fuse(fsname = "sqlfs", subtype = "sqlfs", default_permissions)]
pub struct SqlFs {
    pub path: PathBuf,
    pub owner: (u32, u32),
    store: OnceLock<Mutex<Store>>,
}

impl SqlFs {
    pub fn new(path: PathBuf, owner: (u32, u32)) -> SqlFs {
        SqlFs {
            path,
            owner,
            store: OnceLock::new(),
        }
    }

    /// Keeps the database connection opened at INIT.
    pub fn connect(&self, conn: Connection) {
        let _ = self.store.set(Mutex::new(Store {
            conn,
            open: OpenFiles::default(),
        }));
    }

    /// Runs `f` with the store. Handlers are blocking functions (run on
    /// tokio's blocking pool), so SQLite's disk I/O never blocks a worker that
    /// serves other requests; requests are serialized on the one connection.
    pub fn db<R>(&self, f: impl FnOnce(&mut Store) -> Result<R>) -> Result<R> {
        let store = self.store.get().ok_or(Errno::EIO)?;
        f(&mut store.lock())
    }

    /// [`db`](Self::db) in one transaction (see [`Store::tx`]).
    pub fn tx<R>(&self, f: impl FnOnce(&Connection, &mut OpenFiles) -> Result<R>) -> Result<R> {
        self.db(|store| store.tx(f))
    }
}
