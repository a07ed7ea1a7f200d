// A warning by default; denied here so that the test can show it.
#![deny(deprecated)]

use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(read_only)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o644))
    }

    async fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, data: &[u8]) -> Result<u32> {
        Ok(data.len() as u32)
    }
}

fn main() {}
