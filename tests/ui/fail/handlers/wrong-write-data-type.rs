use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, data: Vec<u8>) -> Result<u32> {
        Ok(data.len() as u32)
    }
}

fn main() {}
