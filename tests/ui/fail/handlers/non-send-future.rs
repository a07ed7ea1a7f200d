use std::sync::Mutex;

use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs {
    target: Mutex<Vec<u8>>,
}

async fn audit() {}

#[fusegen::handlers]
impl Fs {
    async fn readlink(&self, _ino: Inode) -> Result<Bytes> {
        let target = self.target.lock().unwrap();
        audit().await;
        Ok(Bytes::copy_from_slice(&target))
    }
}

fn main() {}
