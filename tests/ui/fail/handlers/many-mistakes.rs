use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }

    async fn lookup(&self, _parent: Inode, _name: &str) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }

    async fn read_dir(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _offset: u64,
        _out: &mut ReaddirReply<'_>,
    ) -> Result<()> {
        Ok(())
    }
}

fn main() {}
