//! The database: its schema, how a connection is opened (WAL, durability settings, an
//! exclusive lock), and the startup sweep of files orphaned by a crash. No filesystem
//! semantics here: those are in `store`.

use std::path::Path;

use rusqlite::Connection;

/// Format version, kept in `PRAGMA user_version`: a database written by another version of
/// this example is refused rather than misread.
const VERSION: i64 = 1;

/// The inode number of the root directory.
pub const ROOT: i64 = 1;

/// Size of one row of file data. Files are stored in blocks of this size, keyed by
/// `(ino, block)`; a missing block is a hole (zeros), and a stored block may be shorter than
/// this (its tail is zeros too), so sparse files and truncation cost no space.
pub const BLOCK: u64 = 64 * 1024;

/// The tables. Times are `(seconds, nanoseconds)` pairs since the epoch, seconds signed:
/// nanoseconds alone in an `i64` would end in 2262, and `utimensat` accepts later times.
const SCHEMA: &str = "
CREATE TABLE inodes (
    id      INTEGER PRIMARY KEY,
    mode    INTEGER NOT NULL,
    uid     INTEGER NOT NULL,
    gid     INTEGER NOT NULL,
    rdev    INTEGER NOT NULL DEFAULT 0,
    nlink   INTEGER NOT NULL,
    size    INTEGER NOT NULL DEFAULT 0,
    atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL,
    mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    ctime_s INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    btime_s INTEGER NOT NULL, btime_ns INTEGER NOT NULL,
    target  BLOB
);
CREATE TABLE dentries (
    parent INTEGER NOT NULL REFERENCES inodes(id),
    name   BLOB NOT NULL,
    ino    INTEGER NOT NULL REFERENCES inodes(id),
    PRIMARY KEY (parent, name)
) WITHOUT ROWID;
CREATE INDEX dentries_ino ON dentries(ino);
CREATE TABLE blocks (
    ino   INTEGER NOT NULL REFERENCES inodes(id) ON DELETE CASCADE,
    block INTEGER NOT NULL,
    data  BLOB NOT NULL,
    PRIMARY KEY (ino, block)
) WITHOUT ROWID;
CREATE TABLE xattrs (
    ino   INTEGER NOT NULL REFERENCES inodes(id) ON DELETE CASCADE,
    name  BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (ino, name)
) WITHOUT ROWID;
";

/// Opens (creating when missing) the database at `path`, ready for use: WAL journal,
/// `synchronous = NORMAL`, foreign keys on, locked for this process alone, orphans swept.
///
/// `owner` and `now` make the root directory of a new database.
pub fn open(path: &Path, owner: (u32, u32), now: (i64, i64)) -> Result<Connection, String> {
    let describe = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            format!(
                "{}: in use by another process (another sqlfs?)",
                path.display()
            )
        }
        _ => format!("{}: {e}", path.display()),
    };
    let conn = Connection::open(path).map_err(describe)?;
    let setup = |conn: &Connection| -> rusqlite::Result<()> {
        // This process is the only user: a lock held elsewhere is another daemon, not a
        // moment's contention worth waiting for.
        conn.busy_timeout(std::time::Duration::from_millis(100))?;
        // One daemon per database: its open-file table is in its memory, and the orphan sweep
        // below would delete files another daemon still has open. The lock is taken by the
        // first read and held until the connection closes (or the process dies).
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        // Pages freed by deletes go back to the disk at unmount (`incremental_vacuum`) rather
        // than stay inside the file. Takes effect only in a new database, before anything is
        // written to it (even the WAL mode below); a no-op afterwards.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(journal_mode = %mode, "the database refused WAL mode");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    };
    setup(&conn).map_err(describe)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(describe)?;
    match version {
        0 => create(&conn, owner, now).map_err(|e| format!("{}: creating: {e}", path.display()))?,
        VERSION => {}
        v => {
            return Err(format!(
                "{}: format version {v}, expected {VERSION}",
                path.display()
            ));
        }
    }
    let swept = sweep_orphans(&conn).map_err(describe)?;
    if swept > 0 {
        tracing::info!(
            files = swept,
            "removed files unlinked while open before a crash"
        );
    }
    Ok(conn)
}

/// A new database: the tables and the root directory (mode 0755, owned by `owner`).
fn create(conn: &Connection, owner: (u32, u32), (s, ns): (i64, i64)) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(SCHEMA)?;
    tx.execute(
        "INSERT INTO inodes (id, mode, uid, gid, nlink, atime_s, atime_ns, mtime_s, mtime_ns,
                             ctime_s, ctime_ns, btime_s, btime_ns)
         VALUES (?1, ?2, ?3, ?4, 2, ?5, ?6, ?5, ?6, ?5, ?6, ?5, ?6)",
        (ROOT, libc::S_IFDIR | 0o755, owner.0, owner.1, s, ns),
    )?;
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()
}

/// Deletes the files that have no name left: those unlinked while open when the daemon last
/// stopped without releasing them (a crash, `kill -9`, a lazy unmount). Nothing can have them
/// open now. Their blocks and xattrs go with them (`ON DELETE CASCADE`).
pub fn sweep_orphans(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM inodes WHERE nlink = 0 AND id != ?1", [ROOT])
}

/// Gives the database's free pages back to the filesystem (the file shrinks).
pub fn vacuum(conn: &Connection) -> rusqlite::Result<()> {
    // Each step of this pragma frees pages and may yield a row: run it to the end.
    let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_has_a_root_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fs.db");
        let conn = open(&path, (1000, 1000), (5, 6)).unwrap();
        let (mode, uid, nlink): (u32, u32, u32) = conn
            .query_row(
                "SELECT mode, uid, nlink FROM inodes WHERE id = ?1",
                [ROOT],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((mode, uid, nlink), (libc::S_IFDIR | 0o755, 1000, 2));
        let vacuum: i64 = conn
            .pragma_query_value(None, "auto_vacuum", |r| r.get(0))
            .unwrap();
        assert_eq!(vacuum, 2, "incremental");
        drop(conn);
        open(&path, (0, 0), (0, 0)).unwrap();
    }

    #[test]
    fn a_second_daemon_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fs.db");
        let _first = open(&path, (0, 0), (0, 0)).unwrap();
        assert!(open(&path, (0, 0), (0, 0)).is_err());
    }

    #[test]
    fn orphans_are_swept_with_their_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fs.db");
        let conn = open(&path, (0, 0), (0, 0)).unwrap();
        conn.execute_batch(
            "INSERT INTO inodes (id, mode, uid, gid, nlink, atime_s, atime_ns, mtime_s, mtime_ns,
                                 ctime_s, ctime_ns, btime_s, btime_ns)
                 VALUES (7, 33188, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
             INSERT INTO blocks VALUES (7, 0, x'00');",
        )
        .unwrap();
        drop(conn);
        let conn = open(&path, (0, 0), (0, 0)).unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM blocks", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }
}
