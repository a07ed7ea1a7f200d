//! The smallest filesystem: a derive without options and one handler.

use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

fn main() {
    assert_eq!(Fs::mount_options(), MountOptions::default());
    assert_eq!(Fs::workers(), Workers::default());
    assert_eq!(<Fs as Operations>::HANDLERS, fusegen::Handlers::GETATTR);
}
