//! sqlfs: files and directories in a SQLite database, written with blocking path-level
//! handlers (`#[fusegen::handlers(paths, blocking)]`): plain functions that the runtime runs
//! on tokio's blocking pool.
//!
//! ```text
//! mkdir -p /tmp/s && cargo run --release --example sqlfs -- /tmp/files.db /tmp/s
//! echo hello > /tmp/s/greeting && mkdir /tmp/s/dir && ln /tmp/s/greeting /tmp/s/dir/again
//! umount /tmp/s                                   # everything stays in /tmp/files.db
//! sqlite3 /tmp/files.db 'SELECT name, ino FROM dentries'
//! ```
//!
//! `sqlfs [-o OPTIONS] [-f] [-d] DATABASE MOUNTPOINT`: the database is created when missing;
//! returns once mounted (`-f`: stays in the foreground, Ctrl-C unmounts).
//!
//! # Schema (module `schema`)
//!
//! - `inodes`: one row per file, directory, symlink or special file: mode, owner, rdev, link
//!   count, size, the four times as (seconds, nanoseconds), a symlink's target. The row id is
//!   the file's identity and is returned as `ino`, so every hard link of a file is one inode
//!   for the kernel. The runtime numbers the inodes the kernel sees, so `st_ino` is stable
//!   while mounted but may differ after a remount.
//! - `dentries (parent, name, ino)`: the names, keyed by directory and name (names are
//!   bytes, not text). Paths are resolved one component at a time through this key.
//! - `blocks (ino, block, data)`: contents in 64 KiB blocks; a missing block is a hole, so
//!   sparse files cost nothing and truncation deletes or shortens rows.
//! - `xattrs (ino, name, value)`.
//!
//! # Open files and unlinked files
//!
//! Open files are kept in memory by handle (handle → inode, opens per inode). Removing the
//! last name of an open file sets its `nlink` to 0 and keeps its rows; its last `release`
//! deletes them. If the daemon dies first, the next start deletes every inode with no link
//! (nothing can have it open then).
//!
//! # Durability
//!
//! Each request is one SQLite transaction, so the database is always consistent (a rename
//! is never half done). The journal is in WAL mode with `synchronous = NORMAL`: a commit is
//! appended to the write-ahead log with `write(2)` but not synced. That already survives a
//! crash of the daemon (`kill -9`): the bytes are in the kernel's page cache, and the log is
//! replayed when the database is next opened. It does not survive a power loss or a kernel
//! crash, and POSIX does not promise that either until `fsync`: so `fsync` and `fsyncdir`
//! run `PRAGMA wal_checkpoint(FULL)`, which syncs the log, copies it into the database file
//! and syncs that too. (`synchronous = FULL` would sync on every commit, i.e. on every
//! `write(2)`: a cost of one disk flush per request for a guarantee no caller asked for.)
//! The database is opened in exclusive locking mode: a second daemon on the same database
//! is refused, because open files live in this process's memory.
//!
//! Space: deleted data frees pages inside the database, which go back to the disk at unmount
//! (`auto_vacuum = INCREMENTAL`, then `incremental_vacuum`), when the log is also folded into
//! the database file. `statfs` reports the space of the filesystem holding the database.
//!
//! Costs: requests run one at a time on the one connection, each a transaction; a path is
//! resolved with one indexed query per component; a write smaller than a block rewrites its
//! block (up to 64 KiB). On 2 busy cores: about 100 MB/s of sequential writes through `dd`,
//! several hundred MB/s of reads. A filesystem for heavy concurrent use would add read
//! connections and a cache of resolved names.
//!
//! Times: `atime` changes only by `utimensat` (reads do not write to the database, as with
//! `noatime`). Locks (POSIX and `flock`) are left to the kernel: local locks are correct
//! for one daemon per database.
//!
//! Modules: `schema` (tables, opening, the orphan sweep), `store` (names and attributes),
//! `data` (blocks), `state` (the connection and the open files), `handlers` (the
//! handlers block: plain functions run on the blocking pool).

mod data;
mod handlers;
mod schema;
mod state;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::state::SqlFs;

/// Files and directories in a SQLite database
#[derive(Parser)]
#[command(name = "sqlfs")]
struct Args {
    /// The database file (created when missing)
    database: PathBuf,
    /// `-o`, `-f`, `-d` and MOUNTPOINT, as for every FUSE filesystem
    #[command(flatten)]
    mount: fusegen::cli::MountArgs,
}

fn main() -> ExitCode {
    let args: Args = fusegen::cli::parse();
    // Absolute before detaching: the background process runs in `/`.
    let path = match std::path::absolute(&args.database) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("sqlfs: {}: {e}", args.database.display());
            return ExitCode::FAILURE;
        }
    };
    let owner = (
        nix::unistd::getuid().as_raw(),
        nix::unistd::getgid().as_raw(),
    );
    // Open once here, so that a database that cannot be used (unreadable, another version,
    // in use) fails the command before it mounts; the serving process reopens it at INIT.
    if let Err(e) = schema::open(&path, owner, store::now_pair()) {
        eprintln!("sqlfs: {e}");
        return ExitCode::FAILURE;
    }
    fusegen::cli::Serve::new(SqlFs::new(path, owner)).run(&args.mount)
}
