use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(blocknig)]
impl Fs {
    fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

fn main() {}
