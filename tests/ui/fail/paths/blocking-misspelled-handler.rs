use fusegen::prelude::*;
use std::path::Path;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(paths, blocking)]
impl Fs {
    fn getattr(&self, _path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }

    // Plain `fn`s are handlers in a blocking block: a near miss is reported as in async ones.
    fn unlnk(&self, _path: &Path) -> Result<()> {
        Ok(())
    }
}

fn main() {}
