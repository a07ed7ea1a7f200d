use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn lokup(&self, _parent: Inode, _name: &OsStr) -> Result<EntryAttributes> {
        Err(Errno::ENOENT)
    }
}

fn main() {}
