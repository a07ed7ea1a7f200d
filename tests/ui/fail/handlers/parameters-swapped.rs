use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn read(&self, fh: FileHandle, ino: Inode, offset: u64, size: u32) -> Result<Bytes> {
        let _ = (fh, ino, offset, size);
        Ok(Bytes::new())
    }
}

fn main() {}
