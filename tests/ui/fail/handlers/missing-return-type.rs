use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn unlink(&self, _parent: Inode, _name: &OsStr) {}
}

fn main() {}
