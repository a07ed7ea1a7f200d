//! A struct made `Send + Sync` by hand (a raw pointer to memory that outlives it) is accepted:
//! the per-field thread-safety checks apply only to a type that is not thread-safe.
use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs {
    base: *const u8,
    len: usize,
}

// SAFETY: `base` points into a `static` that is never written.
unsafe impl Send for Fs {}
// SAFETY: as above; shared reads of immutable memory.
unsafe impl Sync for Fs {}

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        let _ = (self.base, self.len);
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

static DATA: [u8; 4] = *b"data";

fn main() {
    let fs = Fs {
        base: DATA.as_ptr(),
        len: DATA.len(),
    };
    // Type-checks only if `Fs` is a complete filesystem; never polled.
    drop(fusegen::run(fs, "/nonexistent"));
}
