use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn lookup(&self, _parent: Inode, _name: &OsStr) -> Result<u64> {
        Ok(2)
    }
}

fn main() {}
