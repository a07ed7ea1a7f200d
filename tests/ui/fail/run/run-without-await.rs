#![deny(unused_must_use)]

use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

async fn serve() {
    fusegen::run(Fs, "/mnt/fs");
}

fn main() {
    drop(serve());
}
