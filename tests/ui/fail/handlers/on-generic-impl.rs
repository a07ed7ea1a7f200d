use fusegen::prelude::*;

struct Fs<T>(T);

#[fusegen::handlers]
impl<T: Send + Sync + 'static> Fs<T> {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

fn main() {}
