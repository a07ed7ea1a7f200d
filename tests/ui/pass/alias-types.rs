//! Handler signatures written with aliases and renamed imports: rustc, not the macro's text
//! comparison, decides that they are the operation's types.

use fusegen::FileHandle as Fh;
use fusegen::prelude::*;
use std::ffi::OsStr as Name;

type Ino = Inode;
type Attrs = EntryAttributes;
type Ctx = RequestContext;

mod types {
    pub type Data<'a> = &'a [u8];
}

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Ino, _fh: Option<Fh>) -> Result<Attrs> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }

    async fn lookup(&self, _parent: Ino, name: &Name, _ctx: &Ctx) -> Result<Attrs> {
        let _ = name.len();
        Err(Errno::ENOENT)
    }

    async fn write(
        &self,
        _ino: Inode,
        _fh: Fh,
        _offset: u64,
        data: types::Data<'_>,
    ) -> Result<u32> {
        Ok(data.len() as u32)
    }
}

fn main() {
    assert_eq!(
        <Fs as Operations>::HANDLERS,
        fusegen::Handlers::GETATTR
            .union(fusegen::Handlers::LOOKUP)
            .union(fusegen::Handlers::WRITE)
    );
}
