//! The namespace and attributes in SQL: paths resolved through `dentries`, inodes made,
//! linked, unlinked, renamed and changed, extended attributes. Every function takes the
//! connection of one open transaction (the caller commits) and returns an `Errno` for the
//! kernel; database failures are logged here with what was being done.
//!
//! POSIX rules kept here (the kernel checks permissions itself under `default_permissions`):
//! new files take the caller's uid, the parent's gid when the parent is setgid (and new
//! directories then are setgid too), otherwise the caller's gid; directories count their
//! subdirectories in `nlink`; creating, removing or renaming a name updates the directory's
//! mtime and ctime, and a change to an inode its ctime.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fusegen::prelude::*;
use rusqlite::{Connection, OptionalExtension, Row};

use crate::data;
use crate::schema::{BLOCK, ROOT};

/// The longest name, as `statfs` reports it.
pub const NAME_MAX: usize = 255;

/// Maps a database error to an errno, logging it with what was being done: `ENOSPC` when the
/// disk is full, `EIO` otherwise.
pub trait Sql<T> {
    fn sql(self, what: &str) -> Result<T>;
}

impl<T> Sql<T> for rusqlite::Result<T> {
    fn sql(self, what: &str) -> Result<T> {
        self.map_err(|e| {
            tracing::error!(error = %e, "sqlfs: {what}");
            match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DiskFull) => Errno::ENOSPC,
                _ => Errno::EIO,
            }
        })
    }
}

/// A time as stored: seconds (signed) and nanoseconds since the epoch.
pub fn pair(t: SystemTime) -> (i64, i64) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            i64::from(d.subsec_nanos()),
        ),
        Err(before) => {
            let d = before.duration();
            let (s, ns) = (
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                i64::from(d.subsec_nanos()),
            );
            if ns == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000_000 - ns)
            }
        }
    }
}

/// The stored pair back as a time; out-of-range values (a damaged row) become the epoch.
pub fn time((s, ns): (i64, i64)) -> SystemTime {
    let ns = u32::try_from(ns).unwrap_or(0).min(999_999_999);
    let t = if s >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(s.unsigned_abs(), ns))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(s.unsigned_abs()))
            .and_then(|t| t.checked_add(Duration::from_nanos(u64::from(ns))))
    };
    t.unwrap_or(UNIX_EPOCH)
}

pub fn now_pair() -> (i64, i64) {
    pair(SystemTime::now())
}

/// The columns of `inodes` that make attributes, in `attributes`' order.
pub const ATTR_COLUMNS: &str = "id, mode, uid, gid, rdev, nlink, size, atime_s, atime_ns, \
     mtime_s, mtime_ns, ctime_s, ctime_ns, btime_s, btime_ns";

/// Attributes from a row holding `ATTR_COLUMNS` from column `first` on (without `st_blocks`,
/// which `attr` adds). The inode id is the `ino`: the file's identity, shared by its hard
/// links.
pub fn attributes(r: &Row<'_>, first: usize) -> rusqlite::Result<EntryAttributes> {
    let col = |i: usize| first + i;
    let mode: u32 = r.get(col(1))?;
    let kind = FileType::from_mode(mode).unwrap_or(FileType::RegularFile);
    // Row ids are positive; 0 (no identity) would only come from a damaged row.
    let id = u64::try_from(r.get::<_, i64>(col(0))?).unwrap_or(0);
    let mut a = EntryAttributes::new(Inode(id), kind, mode & 0o7777);
    a.uid = r.get(col(2))?;
    a.gid = r.get(col(3))?;
    a.rdev = r.get(col(4))?;
    a.nlink = r.get(col(5))?;
    a.size = u64::try_from(r.get::<_, i64>(col(6))?).unwrap_or(0);
    a.atime = time((r.get(col(7))?, r.get(col(8))?));
    a.mtime = time((r.get(col(9))?, r.get(col(10))?));
    a.ctime = time((r.get(col(11))?, r.get(col(12))?));
    a.btime = time((r.get(col(13))?, r.get(col(14))?));
    a.blksize = BLOCK as u32;
    Ok(a)
}

/// The attributes of inode `ino`.
pub fn attr(conn: &Connection, ino: i64) -> Result<EntryAttributes> {
    let sql = format!("SELECT {ATTR_COLUMNS} FROM inodes WHERE id = ?1");
    let mut a = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([ino], |r| attributes(r, 0)).optional())
        .sql("reading attributes")?
        .ok_or(Errno::ENOENT)?;
    if a.kind() == Some(FileType::RegularFile) {
        a.blocks = data::stored_sectors(conn, ino)?;
    }
    Ok(a)
}

/// The inode `name` names in directory `dir`, if any.
pub fn child(conn: &Connection, dir: i64, name: &OsStr) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT ino FROM dentries WHERE parent = ?1 AND name = ?2")
        .and_then(|mut s| s.query_row((dir, name.as_bytes()), |r| r.get(0)).optional())
        .sql("looking up a name")
}

fn mode(conn: &Connection, ino: i64) -> Result<u32> {
    conn.prepare_cached("SELECT mode FROM inodes WHERE id = ?1")
        .and_then(|mut s| s.query_row([ino], |r| r.get(0)).optional())
        .sql("reading a mode")?
        .ok_or(Errno::ENOENT)
}

fn is_dir(mode: u32) -> bool {
    mode & libc::S_IFMT == libc::S_IFDIR
}

fn check_name(name: &OsStr) -> Result<()> {
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

/// The inode at `path` (absolute, as the runtime passes it).
pub fn resolve(conn: &Connection, path: &Path) -> Result<i64> {
    let mut ino = ROOT;
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(name) => {
                check_name(name)?;
                ino = match child(conn, ino, name)? {
                    Some(child) => child,
                    None if is_dir(mode(conn, ino)?) => return Err(Errno::ENOENT),
                    None => return Err(Errno::ENOTDIR),
                };
            }
            Component::ParentDir | Component::Prefix(_) => return Err(Errno::EINVAL),
        }
    }
    Ok(ino)
}

/// The directory holding `path` and the last name of it. The directory must exist and be a
/// directory.
pub fn split<'p>(conn: &Connection, path: &'p Path) -> Result<(i64, &'p OsStr)> {
    let name = path.file_name().ok_or(Errno::EINVAL)?;
    check_name(name)?;
    let dir = resolve(conn, path.parent().ok_or(Errno::EINVAL)?)?;
    if !is_dir(mode(conn, dir)?) {
        return Err(Errno::ENOTDIR);
    }
    Ok((dir, name))
}

/// Sets mtime and ctime of directory `dir` to `now` (an entry was added or removed), and
/// moves its link count by `nlink` (a subdirectory came or went).
fn touch_dir(conn: &Connection, dir: i64, nlink: i64, (s, ns): (i64, i64)) -> Result<()> {
    conn.prepare_cached(
        "UPDATE inodes SET nlink = nlink + ?2, mtime_s = ?3, mtime_ns = ?4,
                           ctime_s = ?3, ctime_ns = ?4 WHERE id = ?1",
    )
    .and_then(|mut st| st.execute((dir, nlink, s, ns)))
    .sql("updating a directory")?;
    Ok(())
}

fn touch_ctime(conn: &Connection, ino: i64, (s, ns): (i64, i64)) -> Result<()> {
    conn.prepare_cached("UPDATE inodes SET ctime_s = ?2, ctime_ns = ?3 WHERE id = ?1")
        .and_then(|mut st| st.execute((ino, s, ns)))
        .sql("updating a ctime")?;
    Ok(())
}

/// What a new inode is.
pub struct New<'a> {
    /// Type and permission bits, before the umask.
    pub mode: u32,
    pub rdev: u32,
    /// A symbolic link's target.
    pub target: Option<&'a [u8]>,
    /// Whether the caller's umask applies (not to symlinks).
    pub umask: bool,
}

/// Creates a new inode named `path`, owned by the caller; `EEXIST` when the name is taken.
pub fn make(conn: &Connection, path: &Path, new: New<'_>, ctx: &RequestContext) -> Result<i64> {
    let (dir, name) = split(conn, path)?;
    if child(conn, dir, name)?.is_some() {
        return Err(Errno::EEXIST);
    }
    let (dir_mode, dir_gid): (u32, u32) = conn
        .prepare_cached("SELECT mode, gid FROM inodes WHERE id = ?1")
        .and_then(|mut s| s.query_row([dir], |r| Ok((r.get(0)?, r.get(1)?))))
        .sql("reading the parent")?;
    let kind = new.mode & libc::S_IFMT;
    let mut perm = new.mode & 0o7777;
    if new.umask {
        perm &= !(ctx.umask & 0o777);
    }
    let gid = if dir_mode & libc::S_ISGID != 0 {
        if kind == libc::S_IFDIR {
            perm |= libc::S_ISGID;
        }
        dir_gid
    } else {
        ctx.gid
    };
    let dir_child = kind == libc::S_IFDIR;
    let size = new.target.map_or(0, <[u8]>::len) as i64;
    let (s, ns) = now_pair();
    conn.prepare_cached(
        "INSERT INTO inodes (mode, uid, gid, rdev, nlink, size, target,
                             atime_s, atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns,
                             btime_s, btime_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?8, ?9, ?8, ?9, ?8, ?9)",
    )
    .and_then(|mut st| {
        st.execute((
            kind | perm,
            ctx.uid,
            gid,
            new.rdev,
            if dir_child { 2 } else { 1 },
            size,
            new.target,
            s,
            ns,
        ))
    })
    .sql("creating an inode")?;
    let ino = conn.last_insert_rowid();
    add_dentry(conn, dir, name, ino)?;
    touch_dir(conn, dir, i64::from(dir_child), (s, ns))?;
    Ok(ino)
}

fn add_dentry(conn: &Connection, dir: i64, name: &OsStr, ino: i64) -> Result<()> {
    conn.prepare_cached("INSERT INTO dentries (parent, name, ino) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute((dir, name.as_bytes(), ino)))
        .sql("adding a name")?;
    Ok(())
}

/// Drops one link of `ino` (its ctime becomes now): a directory loses all (`nlink` 0). With
/// no link left and not open (`open` is false), the inode and its data are deleted; an open
/// one stays until its last release.
fn unlinked(conn: &Connection, ino: i64, dir: bool, open: bool) -> Result<()> {
    let (s, ns) = now_pair();
    let sql = if dir {
        "UPDATE inodes SET nlink = 0, ctime_s = ?2, ctime_ns = ?3 WHERE id = ?1"
    } else {
        "UPDATE inodes SET nlink = max(nlink - 1, 0), ctime_s = ?2, ctime_ns = ?3 WHERE id = ?1"
    };
    conn.prepare_cached(sql)
        .and_then(|mut st| st.execute((ino, s, ns)))
        .sql("dropping a link")?;
    if !open {
        delete_if_unlinked(conn, ino)?;
    }
    Ok(())
}

/// Deletes inode `ino` with its data and xattrs if no name refers to it any more.
pub fn delete_if_unlinked(conn: &Connection, ino: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM inodes WHERE id = ?1 AND nlink = 0 AND id != ?2")
        .and_then(|mut s| s.execute((ino, ROOT)))
        .sql("deleting an inode")?;
    Ok(())
}

fn is_empty_dir(conn: &Connection, dir: i64) -> Result<bool> {
    let any: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM dentries WHERE parent = ?1 LIMIT 1")
        .and_then(|mut s| s.query_row([dir], |r| r.get(0)).optional())
        .sql("listing a directory")?;
    Ok(any.is_none())
}

/// unlink (`dir` false) or rmdir (`dir` true) of `path`; `is_open` tells whether a file is
/// open (then its rows stay until its last release).
pub fn remove(
    conn: &Connection,
    path: &Path,
    dir: bool,
    is_open: impl Fn(i64) -> bool,
) -> Result<()> {
    let (parent, name) = split(conn, path)?;
    let ino = child(conn, parent, name)?.ok_or(Errno::ENOENT)?;
    let target_is_dir = is_dir(mode(conn, ino)?);
    match (dir, target_is_dir) {
        (false, true) => return Err(Errno::EISDIR),
        (true, false) => return Err(Errno::ENOTDIR),
        (true, true) if !is_empty_dir(conn, ino)? => return Err(Errno::ENOTEMPTY),
        _ => {}
    }
    conn.prepare_cached("DELETE FROM dentries WHERE parent = ?1 AND name = ?2")
        .and_then(|mut s| s.execute((parent, name.as_bytes())))
        .sql("removing a name")?;
    touch_dir(conn, parent, if dir { -1 } else { 0 }, now_pair())?;
    unlinked(conn, ino, dir, is_open(ino))
}

/// A hard link `new` to the file at `existing`; returns the inode.
pub fn link(conn: &Connection, existing: &Path, new: &Path) -> Result<i64> {
    let ino = resolve(conn, existing)?;
    if is_dir(mode(conn, ino)?) {
        return Err(Errno::EPERM);
    }
    let (dir, name) = split(conn, new)?;
    if child(conn, dir, name)?.is_some() {
        return Err(Errno::EEXIST);
    }
    add_dentry(conn, dir, name, ino)?;
    let now = now_pair();
    conn.prepare_cached("UPDATE inodes SET nlink = nlink + 1 WHERE id = ?1")
        .and_then(|mut s| s.execute([ino]))
        .sql("adding a link")?;
    touch_ctime(conn, ino, now)?;
    touch_dir(conn, dir, 0, now)?;
    Ok(ino)
}

/// rename(2) and renameat2(2) with `RENAME_NOREPLACE` or `RENAME_EXCHANGE`.
pub fn rename(
    conn: &Connection,
    from: &Path,
    to: &Path,
    flags: RenameFlags,
    is_open: impl Fn(i64) -> bool,
) -> Result<()> {
    if flags.contains(RenameFlags::WHITEOUT)
        || flags.contains(RenameFlags::NOREPLACE | RenameFlags::EXCHANGE)
    {
        return Err(Errno::EINVAL);
    }
    let (src_dir, src_name) = split(conn, from)?;
    let (dst_dir, dst_name) = split(conn, to)?;
    let src = child(conn, src_dir, src_name)?.ok_or(Errno::ENOENT)?;
    let dst = child(conn, dst_dir, dst_name)?;
    let src_is_dir = is_dir(mode(conn, src)?);
    // A directory into itself or below it.
    if src_is_dir && to.starts_with(from) && to != from {
        return Err(Errno::EINVAL);
    }
    let now = now_pair();
    let moves_dir = |conn: &Connection, is_dir: bool, from_dir: i64, to_dir: i64| -> Result<()> {
        // A directory's ".." counts as a link of its parent.
        let delta = i64::from(is_dir && from_dir != to_dir);
        touch_dir(conn, from_dir, -delta, now)?;
        touch_dir(conn, to_dir, delta, now)
    };
    if flags.contains(RenameFlags::EXCHANGE) {
        let dst = dst.ok_or(Errno::ENOENT)?;
        let dst_is_dir = is_dir(mode(conn, dst)?);
        if dst_is_dir && from.starts_with(to) && to != from {
            return Err(Errno::EINVAL);
        }
        set_dentry(conn, src_dir, src_name, dst)?;
        set_dentry(conn, dst_dir, dst_name, src)?;
        moves_dir(conn, src_is_dir, src_dir, dst_dir)?;
        moves_dir(conn, dst_is_dir, dst_dir, src_dir)?;
        touch_ctime(conn, src, now)?;
        return touch_ctime(conn, dst, now);
    }
    if let Some(dst) = dst {
        if flags.contains(RenameFlags::NOREPLACE) {
            return Err(Errno::EEXIST);
        }
        if dst == src {
            return Ok(()); // two names of one file: nothing to do (POSIX)
        }
        let dst_is_dir = is_dir(mode(conn, dst)?);
        match (src_is_dir, dst_is_dir) {
            (true, false) => return Err(Errno::ENOTDIR),
            (false, true) => return Err(Errno::EISDIR),
            (true, true) if !is_empty_dir(conn, dst)? => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        conn.prepare_cached("DELETE FROM dentries WHERE parent = ?1 AND name = ?2")
            .and_then(|mut s| s.execute((dst_dir, dst_name.as_bytes())))
            .sql("replacing a name")?;
        if dst_is_dir {
            touch_dir(conn, dst_dir, -1, now)?;
        }
        unlinked(conn, dst, dst_is_dir, is_open(dst))?;
    }
    conn.prepare_cached(
        "UPDATE dentries SET parent = ?3, name = ?4 WHERE parent = ?1 AND name = ?2",
    )
    .and_then(|mut s| s.execute((src_dir, src_name.as_bytes(), dst_dir, dst_name.as_bytes())))
    .sql("moving a name")?;
    moves_dir(conn, src_is_dir, src_dir, dst_dir)?;
    touch_ctime(conn, src, now)
}

fn set_dentry(conn: &Connection, dir: i64, name: &OsStr, ino: i64) -> Result<()> {
    conn.prepare_cached("UPDATE dentries SET ino = ?3 WHERE parent = ?1 AND name = ?2")
        .and_then(|mut s| s.execute((dir, name.as_bytes(), ino)))
        .sql("exchanging names")?;
    Ok(())
}

/// The entries of directory `dir` with their attributes.
pub fn list(conn: &Connection, dir: i64) -> Result<Vec<(Vec<u8>, EntryAttributes)>> {
    if !is_dir(mode(conn, dir)?) {
        return Err(Errno::ENOTDIR);
    }
    let columns: Vec<String> = ATTR_COLUMNS.split(", ").map(|c| format!("i.{c}")).collect();
    let columns = columns.join(", ");
    let sql = format!(
        "SELECT d.name, {columns} FROM dentries d JOIN inodes i ON i.id = d.ino
         WHERE d.parent = ?1 ORDER BY d.name"
    );
    let mut stmt = conn.prepare_cached(&sql).sql("listing a directory")?;
    let rows = stmt
        .query_map([dir], |r| {
            let name: Vec<u8> = r.get(0)?;
            Ok((name, attributes(r, 1)?))
        })
        .sql("listing a directory")?;
    let mut out = Vec::new();
    for row in rows {
        let (name, mut attr) = row.sql("listing a directory")?;
        if attr.kind() == Some(FileType::RegularFile) {
            attr.blocks = data::stored_sectors(conn, attr.ino.0 as i64)?;
        }
        out.push((name, attr));
    }
    Ok(out)
}

/// A symbolic link's target.
pub fn readlink(conn: &Connection, ino: i64) -> Result<Vec<u8>> {
    let target: Option<Vec<u8>> = conn
        .prepare_cached("SELECT target FROM inodes WHERE id = ?1")
        .and_then(|mut s| s.query_row([ino], |r| r.get(0)).optional())
        .sql("reading a link")?
        .ok_or(Errno::ENOENT)?;
    target.ok_or(Errno::EINVAL)
}

/// chmod, chown, truncate, utimens (the rules memfs follows): ctime becomes now on any
/// change unless given, mtime on a size change.
pub fn setattr(conn: &Connection, ino: i64, set: &SetAttr) -> Result<EntryAttributes> {
    let before = attr(conn, ino)?;
    let now = SystemTime::now();
    let mut a = before;
    let mut resized = false;
    if let Some(size) = set.size {
        match before.kind() {
            Some(FileType::RegularFile) => {}
            Some(FileType::Directory) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        if size != before.size {
            data::truncate(conn, ino, size)?;
            a.size = size;
            resized = true;
        }
    }
    set.apply_metadata(&mut a, resized, now);
    let (at, mt, ct) = (pair(a.atime), pair(a.mtime), pair(a.ctime));
    conn.prepare_cached(
        "UPDATE inodes SET mode = ?2, uid = ?3, gid = ?4, atime_s = ?5, atime_ns = ?6,
                           mtime_s = ?7, mtime_ns = ?8, ctime_s = ?9, ctime_ns = ?10
         WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute((
            ino, a.mode, a.uid, a.gid, at.0, at.1, mt.0, mt.1, ct.0, ct.1,
        ))
    })
    .sql("changing attributes")?;
    attr(conn, ino)
}

/// Sets mtime and ctime of `ino` to now (an `O_TRUNC` open, a size-changing fallocate).
pub fn touch_modified(conn: &Connection, ino: i64) -> Result<()> {
    let (s, ns) = now_pair();
    conn.prepare_cached(
        "UPDATE inodes SET mtime_s = ?2, mtime_ns = ?3, ctime_s = ?2, ctime_ns = ?3 WHERE id = ?1",
    )
    .and_then(|mut st| st.execute((ino, s, ns)))
    .sql("updating times")?;
    Ok(())
}

/// setxattr with `XATTR_CREATE` / `XATTR_REPLACE`.
pub fn setxattr(conn: &Connection, ino: i64, name: &OsStr, value: &[u8], flags: i32) -> Result<()> {
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(Errno::ERANGE);
    }
    // Without FUSE_POSIX_ACL an ACL arrives as a plain xattr; sqlfs has no ACLs and says so,
    // so tools fall back to chmod rather than store an ACL that would not take effect.
    if name.as_bytes().starts_with(b"system.posix_acl_") {
        return Err(Errno::EOPNOTSUPP);
    }
    let exists = getxattr(conn, ino, name).map(|_| true).or_else(|e| {
        if e == Errno::ENODATA {
            Ok(false)
        } else {
            Err(e)
        }
    })?;
    match exists {
        true if flags & libc::XATTR_CREATE != 0 => return Err(Errno::EEXIST),
        false if flags & libc::XATTR_REPLACE != 0 => return Err(Errno::ENODATA),
        _ => {}
    }
    conn.prepare_cached("INSERT OR REPLACE INTO xattrs (ino, name, value) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute((ino, name.as_bytes(), value)))
        .sql("setting an xattr")?;
    touch_ctime(conn, ino, now_pair())
}

pub fn getxattr(conn: &Connection, ino: i64, name: &OsStr) -> Result<Vec<u8>> {
    conn.prepare_cached("SELECT value FROM xattrs WHERE ino = ?1 AND name = ?2")
        .and_then(|mut s| s.query_row((ino, name.as_bytes()), |r| r.get(0)).optional())
        .sql("reading an xattr")?
        .ok_or(Errno::ENODATA)
}

pub fn listxattr(conn: &Connection, ino: i64) -> Result<Vec<Vec<u8>>> {
    let mut stmt = conn
        .prepare_cached("SELECT name FROM xattrs WHERE ino = ?1 ORDER BY name")
        .sql("listing xattrs")?;
    let names = stmt
        .query_map([ino], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .sql("listing xattrs")?;
    Ok(names)
}

pub fn removexattr(conn: &Connection, ino: i64, name: &OsStr) -> Result<()> {
    let n = conn
        .prepare_cached("DELETE FROM xattrs WHERE ino = ?1 AND name = ?2")
        .and_then(|mut s| s.execute((ino, name.as_bytes())))
        .sql("removing an xattr")?;
    if n == 0 {
        return Err(Errno::ENODATA);
    }
    touch_ctime(conn, ino, now_pair())
}

/// Number of inodes (for `statfs`).
pub fn count_inodes(conn: &Connection) -> Result<u64> {
    let n: i64 = conn
        .query_row("SELECT count(*) FROM inodes", [], |r| r.get(0))
        .sql("counting inodes")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_before_and_after_the_epoch_and_past_2262() {
        for t in [
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::new(1, 5),
            UNIX_EPOCH - Duration::new(1, 5),
            UNIX_EPOCH - Duration::from_secs(3),
            UNIX_EPOCH + Duration::from_secs(1 << 36),
        ] {
            assert_eq!(time(pair(t)), t);
        }
    }
}
