use std::path::Path;

use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    async fn write(&self, _path: &Path, _fh: FileHandle, _offset: u64, data: WriteData<'_>) -> Result<u32> {
        Ok(data.len() as u32)
    }
}

fn main() {}
