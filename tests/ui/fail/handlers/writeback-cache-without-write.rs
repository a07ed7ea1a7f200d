use fusegen::prelude::*;

// Writes would succeed into the kernel's cache and fail only at writeback.
#[derive(Filesystem)]
#[fuse(writeback_cache)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o644))
    }

    async fn flush(&self, _ino: Inode, _fh: FileHandle, _lock_owner: u64) -> Result<()> {
        Ok(())
    }

    async fn fsync(&self, _ino: Inode, _fh: FileHandle, _datasync: bool) -> Result<()> {
        Ok(())
    }
}

fn main() {}
