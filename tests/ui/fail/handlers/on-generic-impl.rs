use fusegen::prelude::*;

struct Fs<B>(B);

#[fusegen::handlers]
impl<B: AsRef<[u8]>> Fs<B> {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        let size = self.0.as_ref().len() as u64;
        Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o644).with_size(size))
    }
}

fn main() {}
