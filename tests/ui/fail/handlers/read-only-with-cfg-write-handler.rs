// A `write` under a `cfg` that holds still warns under `read_only`; denied here so that the
// test can show it.
#![deny(deprecated)]

use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(read_only)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    #[cfg(all())]
    async fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, data: &[u8]) -> Result<u32> {
        Ok(data.len() as u32)
    }
}

fn main() {}
