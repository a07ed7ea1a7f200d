use std::rc::Rc;

use fusegen::prelude::*;

struct Fs {
    names: Rc<Vec<String>>,
}

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        let _ = &self.names;
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

fn main() {}
