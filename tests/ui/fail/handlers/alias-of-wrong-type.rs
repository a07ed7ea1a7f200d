use fusegen::prelude::*;

type Ino = u64;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Ino, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(Inode(ino), FileType::Directory, 0o755))
    }
}

fn main() {}
