use std::cell::Cell;

use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs {
    calls: Cell<u64>,
}

#[fusegen::handlers(blocking)]
impl Fs {
    fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.calls.set(self.calls.get() + 1);
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

fn main() {}
