//! A crate that reaches fusegen only through a re-export tells both macros where it is with
//! `crate = "..."`: the generated code then names no `::fusegen` path.

mod framework {
    //! Stands for a library that re-exports fusegen.
    pub use fusegen as fuse;
}

use framework::fuse::prelude::*;

#[derive(framework::fuse::Filesystem)]
#[fuse(crate = "crate::framework::fuse", read_only, max_tasks = 3)]
struct Fs;

#[framework::fuse::handlers(crate = "crate::framework::fuse")]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }

    async fn read(&self, _ino: Inode, _fh: FileHandle, _offset: u64, _size: u32) -> Result<Bytes> {
        Ok(Bytes::new())
    }
}

fn main() {
    assert!(Fs::mount_options().read_only);
    assert_eq!(Fs::workers().max, 3);
    assert_eq!(
        <Fs as Operations>::HANDLERS,
        framework::fuse::Handlers::GETATTR | framework::fuse::Handlers::READ
    );
}
