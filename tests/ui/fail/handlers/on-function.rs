use fusegen::prelude::*;

#[fusegen::handlers]
async fn getattr(ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
    Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
}

fn main() {}
