// A warning by default; denied here so that the test can show it.
#![deny(deprecated)]

use fusegen::prelude::*;
use std::path::Path;

#[derive(Filesystem)]
#[fuse(read_only)]
struct Fs;

#[fusegen::handlers(paths, blocking)]
impl Fs {
    fn getattr(&self, _path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }

    fn unlink(&self, _path: &Path) -> Result<()> {
        Ok(())
    }
}

fn main() {}
