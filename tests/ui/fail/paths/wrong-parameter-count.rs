use fusegen::prelude::*;
use std::path::Path;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    // The handle is missing.
    async fn read(&self, _path: &Path, _offset: u64, _size: u32) -> Result<Bytes> {
        Ok(Bytes::new())
    }
}

fn main() {}
