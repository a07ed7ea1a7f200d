//! `read_only` with only read-side handlers (and a write-side one compiled out): no warning.
#![deny(warnings)]

use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(read_only)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }

    #[cfg(any())]
    async fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, data: &[u8]) -> Result<u32> {
        Ok(data.len() as u32)
    }
}

fn main() {}
