use fusegen::prelude::*;

// The only `readlink` is compiled out, so `cache_symlinks` has nothing to cache.
#[derive(Filesystem)]
#[fuse(cache_symlinks)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    #[cfg(any())]
    async fn readlink(&self, _ino: Inode) -> Result<Bytes> {
        Ok(Bytes::from_static(b"target"))
    }
}

fn main() {}
