use fusegen::prelude::*;

// Three options that each need a handler this block lacks: three errors in one compile,
// each on its option.
#[derive(Filesystem)]
#[fuse(cache_symlinks, atomic_o_trunc, kernel_cache)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

fn main() {}
