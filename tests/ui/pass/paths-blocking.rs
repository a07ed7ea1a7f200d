//! A blocking path-level filesystem: plain `fn` handlers that the runtime runs on tokio's
//! blocking pool, with the same checks and conversions as `async fn` ones.

use std::path::Path;

use fusegen::paths::{Blocking, BlockingPathOperations, PathFs};
use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(fsname = "blocking")]
struct Fs {
    data: Vec<u8>,
}

#[fusegen::handlers(paths, blocking)]
impl Fs {
    fn getattr(&self, _path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        Ok(EntryAttributes::new(Inode(0), FileType::RegularFile, 0o644).with_size(self.data.len() as u64))
    }

    fn read(
        &self,
        _path: &Path,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _ctx: &RequestContext,
    ) -> std::result::Result<Vec<u8>, std::io::Error> {
        let start = (offset as usize).min(self.data.len());
        let end = (start + size as usize).min(self.data.len());
        Ok(self.data[start..end].to_vec())
    }

    fn destroy(&self) {}

    /// Not a handler: plain helpers are left alone in a blocking block too.
    fn len(&self) -> usize {
        self.data.len()
    }
}

fn served(_: PathFs<Blocking<Fs>>) {}

fn main() {
    let fs = Fs { data: b"hello\n".to_vec() };
    assert_eq!(fs.len(), 6);
    assert_eq!(<Fs as Filesystem>::mount_options().fsname.as_deref(), Some("blocking"));
    assert_eq!(
        <Fs as BlockingPathOperations>::HANDLERS,
        fusegen::Handlers::GETATTR
            .union(fusegen::Handlers::READ)
            .union(fusegen::Handlers::DESTROY)
    );
    // A direct call shows the conversion: `Vec<u8>` to `ReadData`, `io::Error` to `Errno`.
    let ctx = RequestContext::default();
    let read = <Fs as BlockingPathOperations>::read(&fs, Path::new("/f"), FileHandle(0), 1, 3, &ctx);
    assert_eq!(read.and_then(ReadData::into_bytes), Ok(Bytes::from_static(b"ell")));
    served(fusegen::IntoOperations::into_operations(fs));
    drop(fusegen::run(Fs { data: Vec::new() }, "/nonexistent"));
}
