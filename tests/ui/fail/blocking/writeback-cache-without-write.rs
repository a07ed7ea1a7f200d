use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(writeback_cache)]
struct Fs;

#[fusegen::handlers(blocking)]
impl Fs {
    fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }

    fn flush(&self, _ino: Inode, _fh: FileHandle, _lock_owner: u64) -> Result<()> {
        Ok(())
    }

    fn fsync(&self, _ino: Inode, _fh: FileHandle, _datasync: bool) -> Result<()> {
        Ok(())
    }
}

fn main() {}
