//! Handlers may return what converts into the operation's reply: `Vec<u8>` for data, and any
//! error type that converts into `Errno` (here `std::io::Error`).

use std::io;

use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn read(&self, _ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Vec<u8>> {
        Ok(vec![b'x'; (size as usize).saturating_sub(offset as usize)])
    }

    async fn getattr(
        &self,
        ino: Inode,
        _fh: Option<FileHandle>,
    ) -> std::result::Result<EntryAttributes, io::Error> {
        match ino {
            Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
            _ => Err(io::Error::from(Errno::ENOENT)),
        }
    }

    async fn readlink(&self, _ino: Inode) -> std::result::Result<Vec<u8>, io::Error> {
        // An `io::Error` without an OS error code becomes `EIO`.
        Err(io::Error::other("backend unavailable"))
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fs = Fs;
        let ctx = RequestContext::default();
        let data = Operations::read(&fs, Inode(2), FileHandle(0), 1, 4, &ctx).await;
        assert_eq!(data.and_then(ReadData::into_bytes), Ok(Bytes::from_static(b"xxx")));
        let missing = Operations::getattr(&fs, Inode(7), None, &ctx).await;
        assert_eq!(missing, Err(Errno::ENOENT));
        let denied = Operations::readlink(&fs, Inode(2), &ctx).await;
        assert_eq!(denied, Err(Errno::EIO));
    });
}
