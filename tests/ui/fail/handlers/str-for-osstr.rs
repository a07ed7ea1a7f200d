use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn lookup(&self, _parent: Inode, _name: &str) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }
}

fn main() {}
