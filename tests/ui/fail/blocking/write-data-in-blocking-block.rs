use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(blocking)]
impl Fs {
    fn write(&self, _ino: Inode, _fh: FileHandle, _offset: u64, data: WriteData<'_>) -> Result<u32> {
        Ok(data.len() as u32)
    }
}

fn main() {}
