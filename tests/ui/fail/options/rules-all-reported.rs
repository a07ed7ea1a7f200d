use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(allow_other, allow_root, direct_io, kernel_cache, intr_signal = 10)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn read(&self, _ino: Inode, _fh: FileHandle, _offset: u64, _size: u32) -> Result<Vec<u8>> {
        Ok(Vec::new())
    }
}

fn main() {}
