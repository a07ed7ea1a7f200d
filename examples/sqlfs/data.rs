//! File contents as rows of fixed-size blocks: read, write, truncate and hole punching.
//!
//! Block `n` of a file holds bytes `[n * BLOCK, n * BLOCK + len)`; a block without a row is
//! a hole, and a row shorter than `BLOCK` ends in zeros. Invariant: no stored byte lies at or
//! beyond the file's size, so growing a file (truncate up, a write past the end) never
//! uncovers old data. Sizes and offsets are checked here: the largest file is `i64::MAX`
//! bytes (SQLite integers are signed), beyond that `EFBIG`.

use rusqlite::{Connection, OptionalExtension};

use crate::schema::BLOCK;
use crate::store::{Sql, now_pair};
use fusegen::{Errno, Result};

/// The largest file size: an `i64`, as SQLite stores it.
pub const MAX_SIZE: u64 = i64::MAX as u64;

/// `u64` → SQLite integer, `EFBIG` when it does not fit.
pub fn int(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Errno::EFBIG)
}

/// The size of file `ino`.
pub fn size(conn: &Connection, ino: i64) -> Result<u64> {
    let size: i64 = conn
        .prepare_cached("SELECT size FROM inodes WHERE id = ?1")
        .and_then(|mut s| s.query_row([ino], |r| r.get(0)))
        .optional()
        .sql("reading a file size")?
        .ok_or(Errno::ENOENT)?;
    u64::try_from(size).map_err(|_| Errno::EIO)
}

/// Up to `len` bytes at `offset`, fewer only at the end of the file.
pub fn read(conn: &Connection, ino: i64, offset: u64, len: u32) -> Result<Vec<u8>> {
    let size = size(conn, ino)?;
    if offset >= size || len == 0 {
        return Ok(Vec::new());
    }
    let end = offset.saturating_add(u64::from(len)).min(size);
    // `end - offset` <= `len`, a u32: fits in memory as one reply.
    let mut out = vec![0u8; (end - offset) as usize];
    let (first, last) = (offset / BLOCK, (end - 1) / BLOCK);
    let mut stmt = conn
        .prepare_cached("SELECT block, data FROM blocks WHERE ino = ?1 AND block BETWEEN ?2 AND ?3")
        .sql("reading blocks")?;
    let (first, last) = (int(first)?, int(last)?);
    let rows = stmt
        .query_map((ino, first, last), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .sql("reading blocks")?;
    for row in rows {
        let (block, data) = row.sql("reading a block")?;
        let start = u64::try_from(block).map_err(|_| Errno::EIO)? * BLOCK;
        // Overlap of [start, start + data.len()) with [offset, end).
        let from = start.max(offset);
        let to = (start + data.len() as u64).min(end);
        if from < to {
            let src = &data[(from - start) as usize..(to - start) as usize];
            out[(from - offset) as usize..(to - offset) as usize].copy_from_slice(src);
        }
    }
    Ok(out)
}

/// Writes `data` at `offset`, growing the file when it ends past the end; mtime and ctime
/// become now.
pub fn write(conn: &Connection, ino: i64, offset: u64, data: &[u8]) -> Result<()> {
    let end = offset
        .checked_add(data.len() as u64)
        .filter(|end| *end <= MAX_SIZE)
        .ok_or(Errno::EFBIG)?;
    let mut pos = offset;
    while pos < end {
        let block = pos / BLOCK;
        let start = block * BLOCK;
        let within = (pos - start) as usize;
        let n = ((end - pos) as usize).min(BLOCK as usize - within);
        let chunk = &data[(pos - offset) as usize..(pos - offset) as usize + n];
        let mut stored = if within == 0 && n == BLOCK as usize {
            Vec::new() // the whole block is replaced: no need to read it
        } else {
            load(conn, ino, block)?.unwrap_or_default()
        };
        if stored.len() < within + n {
            stored.resize(within + n, 0);
        }
        stored[within..within + n].copy_from_slice(chunk);
        store(conn, ino, block, &stored)?;
        pos += n as u64;
    }
    let (s, ns) = now_pair();
    let end = int(end)?;
    conn.prepare_cached(
        "UPDATE inodes SET size = max(size, ?2), mtime_s = ?3, mtime_ns = ?4,
                           ctime_s = ?3, ctime_ns = ?4 WHERE id = ?1",
    )
    .and_then(|mut st| st.execute((ino, end, s, ns)))
    .sql("updating a file size")?;
    Ok(())
}

fn load(conn: &Connection, ino: i64, block: u64) -> Result<Option<Vec<u8>>> {
    let block = int(block)?;
    conn.prepare_cached("SELECT data FROM blocks WHERE ino = ?1 AND block = ?2")
        .and_then(|mut s| s.query_row((ino, block), |r| r.get(0)).optional())
        .sql("reading a block")
}

fn store(conn: &Connection, ino: i64, block: u64, data: &[u8]) -> Result<()> {
    let block = int(block)?;
    conn.prepare_cached("INSERT OR REPLACE INTO blocks (ino, block, data) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute((ino, block, data)))
        .sql("writing a block")?;
    Ok(())
}

/// Sets the size of file `ino` (only the size: the caller updates times). Shrinking drops
/// the blocks past the end and cuts the one the new end falls in.
pub fn truncate(conn: &Connection, ino: i64, new_size: u64) -> Result<()> {
    if new_size > MAX_SIZE {
        return Err(Errno::EFBIG);
    }
    if new_size < size(conn, ino)? {
        zero_stored(conn, ino, new_size, MAX_SIZE)?;
    }
    let new_size = int(new_size)?;
    conn.prepare_cached("UPDATE inodes SET size = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute((ino, new_size)))
        .sql("setting a file size")?;
    Ok(())
}

/// Makes `[from, to)` a hole: whole blocks inside it are deleted, partly covered ones zeroed
/// (a block whose tail is cut is shortened instead).
pub fn zero_stored(conn: &Connection, ino: i64, from: u64, to: u64) -> Result<()> {
    if from >= to {
        return Ok(());
    }
    let first_whole = from.div_ceil(BLOCK);
    let end_whole = to / BLOCK; // exclusive
    if first_whole < end_whole {
        let range = (int(first_whole)?, int(end_whole)?);
        conn.prepare_cached("DELETE FROM blocks WHERE ino = ?1 AND block >= ?2 AND block < ?3")
            .and_then(|mut s| s.execute((ino, range.0, range.1)))
            .sql("deleting blocks")?;
    }
    // The partly covered blocks at either end (one block when both ends fall in it).
    let mut partial = vec![from / BLOCK];
    if !to.is_multiple_of(BLOCK) && to / BLOCK != from / BLOCK && to / BLOCK >= first_whole {
        partial.push(to / BLOCK);
    }
    for block in partial {
        let start = block * BLOCK;
        if from <= start && to >= start + BLOCK {
            continue; // whole, deleted above
        }
        let Some(mut data) = load(conn, ino, block)? else {
            continue;
        };
        let lo = (from.max(start) - start) as usize;
        let hi = ((to.min(start + BLOCK) - start) as usize).min(data.len());
        if lo >= data.len() {
            continue;
        }
        if hi == data.len() {
            data.truncate(lo);
        } else {
            data[lo..hi].fill(0);
        }
        if data.is_empty() {
            let block = int(block)?;
            conn.prepare_cached("DELETE FROM blocks WHERE ino = ?1 AND block = ?2")
                .and_then(|mut s| s.execute((ino, block)))
                .sql("deleting a block")?;
        } else {
            store(conn, ino, block, &data)?;
        }
    }
    Ok(())
}

/// 512-byte units stored for file `ino` (its `st_blocks`).
pub fn stored_sectors(conn: &Connection, ino: i64) -> Result<u64> {
    let bytes: i64 = conn
        .prepare_cached("SELECT coalesce(sum(length(data)), 0) FROM blocks WHERE ino = ?1")
        .and_then(|mut s| s.query_row([ino], |r| r.get(0)))
        .sql("counting blocks")?;
    Ok(u64::try_from(bytes).unwrap_or(0).div_ceil(512))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("db"), (0, 0), (0, 0)).unwrap();
        conn.execute_batch(
            "INSERT INTO inodes (id, mode, uid, gid, nlink, atime_s, atime_ns, mtime_s, mtime_ns,
                                 ctime_s, ctime_ns, btime_s, btime_ns)
                 VALUES (2, 33188, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)",
        )
        .unwrap();
        (dir, conn)
    }

    #[test]
    fn writes_across_blocks_read_back_with_holes_as_zeros() {
        let (_d, conn) = file();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8 + 1).collect();
        write(&conn, 2, 100_000, &data).unwrap();
        assert_eq!(size(&conn, 2).unwrap(), 300_000);
        let all = read(&conn, 2, 0, 400_000).unwrap();
        assert_eq!(all.len(), 300_000);
        assert!(all[..100_000].iter().all(|b| *b == 0));
        assert_eq!(&all[100_000..], &data[..]);
        assert_eq!(read(&conn, 2, 299_999, 10).unwrap(), &data[199_999..]);
        assert!(read(&conn, 2, 300_000, 10).unwrap().is_empty());
    }

    #[test]
    fn truncate_down_then_up_uncovers_zeros() {
        let (_d, conn) = file();
        write(&conn, 2, 0, &[7u8; 150_000]).unwrap();
        truncate(&conn, 2, 70_000).unwrap();
        truncate(&conn, 2, 150_000).unwrap();
        let all = read(&conn, 2, 0, 150_000).unwrap();
        assert!(all[..70_000].iter().all(|b| *b == 7));
        assert!(all[70_000..].iter().all(|b| *b == 0));
        assert_eq!(stored_sectors(&conn, 2).unwrap(), 70_000u64.div_ceil(512));
    }

    #[test]
    fn punching_a_hole_zeroes_only_the_range() {
        let (_d, conn) = file();
        write(&conn, 2, 0, &[1u8; 300_000]).unwrap();
        zero_stored(&conn, 2, 10, 200_000).unwrap();
        let all = read(&conn, 2, 0, 300_000).unwrap();
        assert!(all[..10].iter().all(|b| *b == 1));
        assert!(all[10..200_000].iter().all(|b| *b == 0));
        assert!(all[200_000..].iter().all(|b| *b == 1));
        zero_stored(&conn, 2, 5, 7).unwrap();
        let head = read(&conn, 2, 0, 10).unwrap();
        assert_eq!(head, [1, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
    }

    #[test]
    fn sizes_past_i64_are_efbig() {
        let (_d, conn) = file();
        assert_eq!(write(&conn, 2, u64::MAX - 1, b"xy"), Err(Errno::EFBIG));
        assert_eq!(truncate(&conn, 2, u64::MAX), Err(Errno::EFBIG));
    }
}
