use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn readdirplus(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _offset: u64,
        _out: &mut ReaddirReply<'_>,
    ) -> Result<()> {
        Ok(())
    }
}

fn main() {}
