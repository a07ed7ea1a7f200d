//! memfs: a complete in-memory filesystem (like tmpfs), written with fusegen's macros.
//!
//! ```text
//! cargo run --release --example memfs -- [--size 64M] [--inodes N] [-o OPTIONS] [-f] [-d] MOUNTPOINT
//! ```
//!
//! Returns once mounted and serves detached until `umount MOUNTPOINT`; with `-f` it stays in
//! the foreground and Ctrl-C (or SIGTERM) unmounts; `-d` logs every request. Supports regular files (sparse),
//! directories, symlinks, hard links, FIFOs, sockets and devices, `rename` with
//! `RENAME_NOREPLACE`, `RENAME_EXCHANGE` and `RENAME_WHITEOUT`, `O_TMPFILE`, extended
//! attributes, `fallocate` (allocate, punch hole, zero range), `SEEK_DATA`/`SEEK_HOLE`,
//! `copy_file_range`, POSIX and `flock` locks, and a size limit: writes beyond `--size` fail
//! with `ENOSPC` (default: half of RAM, as tmpfs). Nodes are freed when no directory entry, open
//! file or kernel lookup refers to them any more, so memory comes back after deletes.
//!
//! Modules: `handlers` (the `#[fusegen::handlers]` block), `namespace` (the tree), `file`
//! (contents, attributes, xattrs), `data` (a file's size and the space budget), `extents`
//! (file bytes as runs of pages, holes unallocated), `node` (inodes, their table and lock
//! order). POSIX and `flock` locks are `fusegen::locks`.

mod data;
mod extents;
mod file;
mod handlers;
mod namespace;
mod node;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64};

use clap::Parser;
use fusegen::locks::LockTable;
use fusegen::prelude::*;
use parking_lot::Mutex;

use crate::data::{PAGE, Space};
use crate::file::Handles;
use crate::node::{Content, Table, fresh_state, install_root};

/// The filesystem: all state lives in [`Core`], shared by concurrently running handlers.
///
/// `min_tasks = 4`: a few workers, each with its 1 MiB request buffer, stay alive between
/// requests instead of being started and stopped for each one.
///
/// No `atomic_o_trunc`: with it, `open(O_RDONLY | O_TRUNC)` would empty the file inside OPEN,
/// before the kernel checks for a running executable (ETXTBSY is only checked afterwards, in
/// the truncate step), so a running program could be truncated. Without it the kernel checks
/// first and then truncates through `setattr`. (`open` still honours `O_TRUNC` when a user
/// mounts with `-o atomic_o_trunc`.)
///
/// Caching: memfs changes only when a request through this mount changes it, so the kernel's
/// caches are only wrong where the kernel forgets to update or drop them, and it does both for
/// every change it sends (a write, truncate, link, unlink, rename, setattr or fallocate drops
/// or rewrites the attributes it touches, a read marks atime stale, a create replaces a
/// negative entry). Hence:
/// - entries, negative entries and attributes are cached for a day (86,400 s, as libfuse's
///   `passthrough_hp` with `cache=always`) instead of fusegen's 1 s per reply, so a warm
///   tree is walked and `stat`ed without a request; `-o attr_timeout=0,entry_timeout=0`
///   turns it off;
/// - cached file data is kept across opens (`FileInfo::new` asks for `KEEP_CACHE`);
/// - symlink targets are cached (`cache_symlinks`): a symlink's target never changes.
///
/// Not `writeback_cache`, which a user may still ask for with `-o writeback_cache`: written
/// data would sit in the kernel and reach memfs later, so a write beyond `--size` would
/// succeed and its `ENOSPC` surface only at `fsync` or `close`, or not at all.
#[derive(Filesystem)]
#[fuse(
    fsname = "memfs",
    subtype = "memfs",
    min_tasks = 4,
    entry_timeout = 86400,
    negative_timeout = 86400,
    attr_timeout = 86400,
    cache_symlinks
)]
pub struct MemFs {
    core: Core,
}

/// Inodes, open files and the space budget.
pub struct Core {
    table: Table,
    space: Space,
    handles: Handles,
    next_fh: AtomicU64,
    /// Serializes renames between two directories (as the kernel's `s_vfs_rename_mutex`), so
    /// that the tree's shape cannot change while one orders its locks.
    rename_lock: Mutex<()>,
    /// POSIX and flock locks of every file.
    locks: LockTable,
    /// The kernel positions `O_APPEND` writes itself (it does with the write-back cache, whose
    /// WRITEs carry page offsets), so an open's `O_APPEND` must not move them to the end.
    kernel_appends: AtomicBool,
}

impl MemFs {
    /// An empty filesystem holding at most `limit_bytes` of data and `limit_inodes` inodes;
    /// the root directory (mode 0755) belongs to `uid`/`gid`.
    pub fn new(limit_bytes: u64, limit_inodes: u64, uid: u32, gid: u32) -> MemFs {
        let core = Core {
            table: Table::new(),
            space: Space::new(limit_bytes, limit_inodes.max(1)),
            handles: Handles::new(),
            next_fh: AtomicU64::new(1),
            rename_lock: Mutex::new(()),
            locks: LockTable::new(),
            kernel_appends: AtomicBool::new(false),
        };
        let root = fresh_state(
            libc::S_IFDIR | 0o755,
            uid,
            gid,
            0,
            Content::Dir(Default::default()),
        );
        let _ = core.space.take_inode();
        install_root(&core.table, root);
        MemFs { core }
    }
}

#[derive(Parser, Debug)]
#[command(name = "memfs", about = "An in-memory filesystem on FUSE")]
struct Args {
    /// Most data stored, in bytes with an optional K, M, G or T suffix (powers of 1024);
    /// writes beyond it fail with ENOSPC [default: half of RAM]
    #[arg(long, value_parser = parse_size)]
    size: Option<u64>,
    /// Most inodes [default: one per two pages of RAM, as tmpfs]
    #[arg(long)]
    inodes: Option<u64>,
    /// `-o`, `-f`, `-d` and MOUNTPOINT, as for every FUSE filesystem
    #[command(flatten)]
    mount: fusegen::cli::MountArgs,
}

/// `64M` → 64 MiB; `4096`, `10K`, `1.5G` (fractions allowed), `2T`.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().trim_end_matches(['B', 'b']).trim_end_matches('i');
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown size suffix in `{s}` (use K, M, G or T)")),
            };
            (&t[..i], 1u64 << shift)
        }
        _ => (t, 1),
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 64M)"))?;
    if value.is_nan() || value < 0.0 || value * mult as f64 > u64::MAX as f64 {
        return Err(format!("`{s}` is out of range"));
    }
    Ok((value * mult as f64) as u64)
}

/// Total RAM in bytes, from /proc/meminfo (4 GiB if unreadable).
fn total_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(4 << 30)
}

/// Not `#[tokio::main]`: `Serve::run` detaches (without `-f`) before starting the runtime.
fn main() -> ExitCode {
    let args: Args = fusegen::cli::parse();
    let memory = total_memory();
    let size = args.size.unwrap_or(memory / 2);
    let inodes = args.inodes.unwrap_or(memory / PAGE / 2);
    // The root belongs to whoever runs memfs, as tmpfs's to whoever mounts it.
    let me = Owner::of_process();
    let fs = MemFs::new(size, inodes, me.uid, me.gid);
    fusegen::cli::Serve::new(fs).run(&args.mount)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("2TiB"), Ok(2 << 40));
        assert_eq!(parse_size("10k"), Ok(10 << 10));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("lots").is_err());
    }
}
