use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getlk(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _owner: u64,
        lock: FileLock,
    ) -> Result<FileLock> {
        Ok(lock)
    }
}

fn main() {}
