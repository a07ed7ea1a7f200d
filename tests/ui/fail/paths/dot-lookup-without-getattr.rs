use fusegen::prelude::*;
use std::path::Path;

#[derive(Filesystem)]
#[fuse(supports_dot_lookup)]
struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    async fn read(
        &self,
        _path: &Path,
        _fh: FileHandle,
        _offset: u64,
        _size: u32,
    ) -> Result<Bytes> {
        Ok(Bytes::new())
    }
}

fn main() {}
