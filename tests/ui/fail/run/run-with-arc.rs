use std::sync::Arc;

use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

async fn serve() -> std::result::Result<(), fusegen::Error> {
    fusegen::run(Arc::new(Fs), "/mnt/fs").await
}

fn main() {
    drop(serve());
}
