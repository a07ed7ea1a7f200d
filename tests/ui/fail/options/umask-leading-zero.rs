use fusegen::prelude::*;

// `022` is decimal 22 in Rust, while `-o umask=022` is octal: rejected with the fix.
#[derive(Filesystem)]
#[fuse(umask = 022)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

fn main() {}
