use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn read(&self, handle: FileHandle, inode: Inode, at: u64, len: u32) -> Result<Bytes> {
        let _ = (handle, inode, at, len);
        Ok(Bytes::new())
    }
}

fn main() {}
