//! A filesystem with shared mutable state and concurrent handlers: one file, `counter`.
//!
//! ```text
//! cargo run --example counter -- -f /tmp/c    # foreground; Ctrl-C unmounts (without -f: detached)
//! cat /tmp/c/counter            # 0
//! echo 5 >> /tmp/c/counter      # adds 5 (any integer, negative too)
//! cat /tmp/c/counter            # 5
//! truncate -s 0 /tmp/c/counter  # resets to 0 (so does `>`, which truncates first)
//! ```
//!
//! Handlers take `&self` and run concurrently, so the state is an atomic: many writers at once
//! never lose an update. `direct_io` makes every read reach the filesystem (no page cache),
//! so readers always see the current value.

use std::process::ExitCode;
use std::sync::atomic::{AtomicI64, Ordering};

use fusegen::prelude::*;

const COUNTER: Inode = Inode(2);

#[derive(Filesystem, Default)]
#[fuse(fsname = "counter", direct_io, attr_timeout = 0, entry_timeout = 0)]
struct Counter {
    value: AtomicI64,
}

#[fusegen::handlers]
impl Counter {
    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        match (parent, name.to_str()) {
            (Inode::ROOT, Some("counter")) => self.attributes(COUNTER),
            _ => Err(Errno::ENOENT),
        }
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.attributes(ino)
    }

    /// Only a truncation to 0 (reset) is supported.
    async fn setattr(
        &self,
        ino: Inode,
        attr: &SetAttr,
        _fh: Option<FileHandle>,
    ) -> Result<EntryAttributes> {
        match attr.size {
            Some(0) => self.value.store(0, Ordering::SeqCst),
            Some(_) => return Err(Errno::EINVAL),
            None => {}
        }
        self.attributes(ino)
    }

    async fn read(&self, _ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        let text = format!("{}\n", self.value.load(Ordering::SeqCst)).into_bytes();
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(text.len());
        let end = start.saturating_add(size as usize).min(text.len());
        Ok(Bytes::copy_from_slice(&text[start..end]))
    }

    /// Each write is one integer to add.
    async fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, data: &[u8]) -> Result<u32> {
        let text = std::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
        let delta: i64 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
        self.value.fetch_add(delta, Ordering::SeqCst);
        Ok(data.len() as u32)
    }

    async fn readdir(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
    ) -> Result<()> {
        if ino != Inode::ROOT {
            return Err(Errno::ENOTDIR);
        }
        let root = self.attributes(Inode::ROOT)?;
        let counter = self.attributes(COUNTER)?;
        out.add_listing(offset, [(".", root), ("..", root), ("counter", counter)]);
        Ok(())
    }

    fn attributes(&self, ino: Inode) -> Result<EntryAttributes> {
        match ino {
            Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
            // The size is unknown until read; with direct_io the kernel does not rely on it.
            COUNTER => Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o666)),
            _ => Err(Errno::ENOENT),
        }
    }
}

fn main() -> ExitCode {
    fusegen::cli::run(Counter::default())
}
