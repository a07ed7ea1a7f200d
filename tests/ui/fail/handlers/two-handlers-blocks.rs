use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

#[fusegen::handlers]
impl Fs {
    async fn readlink(&self, _ino: Inode) -> Result<Bytes> {
        Ok(Bytes::from_static(b"target"))
    }
}

fn main() {}
