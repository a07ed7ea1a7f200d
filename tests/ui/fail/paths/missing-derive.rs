use fusegen::prelude::*;
use std::path::Path;

struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    async fn getattr(&self, _path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }
}

fn main() {}
