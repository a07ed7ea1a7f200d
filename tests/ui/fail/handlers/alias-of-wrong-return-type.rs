use fusegen::prelude::*;

type Attrs = FileInfo;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, _ino: Inode, _fh: Option<FileHandle>) -> Result<Attrs> {
        Err(Errno::ENOENT)
    }
}

fn main() {}
