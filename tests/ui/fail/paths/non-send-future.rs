use fusegen::prelude::*;
use std::path::Path;
use std::sync::Mutex;

#[derive(Filesystem)]
struct Fs {
    hits: Mutex<u64>,
}

async fn audit() {}

#[fusegen::handlers(paths)]
impl Fs {
    async fn getattr(&self, _path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        let mut hits = self.hits.lock().map_err(|_| Errno::EIO)?;
        audit().await;
        *hits += 1;
        Err(Errno::ENOENT)
    }
}

fn main() {}
