use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

async fn serve(fs: Fs) -> std::result::Result<(), fusegen::Error> {
    fusegen::run_with(&fs, "/mnt/fs", Fs::mount_options(), Fs::workers()).await
}

fn main() {
    drop(serve(Fs));
}
