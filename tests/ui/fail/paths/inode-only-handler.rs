use fusegen::prelude::*;
use std::path::Path;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    async fn getattr(&self, _path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }

    async fn lookup(&self, _parent: Inode, _name: &OsStr) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }
}

fn main() {}
