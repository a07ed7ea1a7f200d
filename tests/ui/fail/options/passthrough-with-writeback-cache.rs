use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(passthrough, writeback_cache)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn flush(&self, _ino: Inode, _fh: FileHandle, _owner: u64) -> Result<()> {
        Ok(())
    }
    async fn fsync(&self, _ino: Inode, _fh: FileHandle, _datasync: bool) -> Result<()> {
        Ok(())
    }
}

fn main() {}
