use fusegen::prelude::*;
use std::path::Path;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    async fn getatr(&self, _path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }

    async fn read_dir(&self, _path: &Path, _fh: FileHandle) -> Result<Vec<fusegen::paths::DirEntry>> {
        Ok(Vec::new())
    }
}

fn main() {}
