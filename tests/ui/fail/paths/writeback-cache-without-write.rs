use fusegen::prelude::*;
use std::path::Path;

// The option↔handler rules hold in path mode too.
#[derive(Filesystem)]
#[fuse(writeback_cache)]
struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    async fn getattr(&self, _path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }

    async fn flush(&self, _path: &Path, _fh: FileHandle, _lock_owner: u64) -> Result<()> {
        Ok(())
    }

    async fn fsync(&self, _path: &Path, _fh: FileHandle, _datasync: bool) -> Result<()> {
        Ok(())
    }
}

fn main() {}
