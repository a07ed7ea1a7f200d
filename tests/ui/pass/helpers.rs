//! Methods that are not operations stay ordinary methods of the type, async or not, even in
//! the `#[fusegen::handlers]` block: `reader` is a helper, not a misspelled `read`, and names
//! close to an operation (`lock` for `flock`, `close` for `flush`) are helpers when their
//! parameters do not fit that operation.

use std::sync::atomic::{AtomicU64, Ordering};

use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs {
    reads: AtomicU64,
}

#[fusegen::handlers]
impl Fs {
    async fn read(&self, ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        self.count();
        let data = self.reader(ino).await?;
        let start = (offset as usize).min(data.len());
        let end = start.saturating_add(size as usize).min(data.len());
        Ok(data.slice(start..end))
    }

    /// An async helper whose name starts like an operation's.
    async fn reader(&self, ino: Inode) -> Result<Bytes> {
        match ino {
            Inode(2) => Ok(Bytes::from_static(b"hello")),
            _ => Err(Errno::ENOENT),
        }
    }

    /// One edit away from `flock`, which takes four parameters.
    async fn lock(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// A name users bring for `flush`, which takes three parameters.
    async fn close(&self) {}

    /// A sync helper.
    fn count(&self) -> u64 {
        self.reads.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// An associated function without `self`.
    fn new() -> Fs {
        Fs {
            reads: AtomicU64::new(0),
        }
    }
}

fn main() {
    assert_eq!(<Fs as Operations>::HANDLERS, fusegen::Handlers::READ);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fs = Fs::new();
        assert_eq!(fs.reader(Inode(2)).await, Ok(Bytes::from_static(b"hello")));
        let ctx = RequestContext::default();
        let data = Operations::read(&fs, Inode(2), FileHandle(0), 1, 3, &ctx).await;
        assert_eq!(data.and_then(ReadData::into_bytes), Ok(Bytes::from_static(b"ell")));
        assert_eq!(fs.count(), 2);
        assert_eq!(fs.lock().await, 2);
        fs.close().await;
    });
}
