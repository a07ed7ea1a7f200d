use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs<B> {
    backend: B,
}

#[fusegen::handlers]
impl Fs<Vec<u8>> {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        let size = self.backend.len() as u64;
        Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o644).with_size(size))
    }
}

fn main() {}
