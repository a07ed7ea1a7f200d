use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn readlink(&self, _ino: Inode) -> std::result::Result<Bytes, String> {
        Err("no link".to_string())
    }
}

fn main() {}
