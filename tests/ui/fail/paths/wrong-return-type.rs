use fusegen::prelude::*;
use std::path::Path;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    // A path-level listing is returned whole, not added to a reply.
    async fn readdir(&self, _path: &Path, _fh: FileHandle) -> Result<Vec<OsString>> {
        Ok(Vec::new())
    }
}

fn main() {}
