use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(writeback_cache)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, data: &[u8]) -> Result<u32> {
        Ok(data.len() as u32)
    }
}

fn main() {}
