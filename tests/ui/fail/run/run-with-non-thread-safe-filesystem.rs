use std::cell::Cell;

use fusegen::prelude::*;

// The field's error says what to change; `run` adds one error where the filesystem is passed.
#[derive(Filesystem)]
struct Fs {
    opened: Cell<u64>,
}

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.opened.set(self.opened.get() + 1);
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

async fn serve() -> std::result::Result<(), fusegen::Error> {
    fusegen::run(Fs { opened: Cell::new(0) }, "/mnt/fs").await
}

fn main() {
    drop(serve());
}
