//! A `write` handler may take its data as `WriteData` instead of `&[u8]`: it implements
//! `Operations::write_data` and declares `Handlers::WRITE_DATA`, with or without `ctx`, and
//! and it is what `Operations::write_data` calls.

use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs {
    file: std::fs::File,
}

#[fusegen::handlers]
impl Fs {
    async fn write(&self, _ino: Inode, _fh: FileHandle, offset: u64, data: WriteData<'_>) -> Result<u32> {
        let n = data.write_to(&self.file, offset)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

#[derive(Filesystem)]
struct WithCtx;

#[fusegen::handlers]
impl WithCtx {
    async fn write(
        &self,
        _ino: Inode,
        _fh: FileHandle,
        _offset: u64,
        data: fusegen::WriteData<'_>,
        _ctx: &RequestContext,
    ) -> Result<u32> {
        let bytes = data.into_bytes()?;
        Ok(bytes.iter().filter(|b| **b == b'a').count() as u32)
    }
}

fn main() {
    let both = fusegen::Handlers::WRITE | fusegen::Handlers::WRITE_DATA;
    assert_eq!(<Fs as Operations>::HANDLERS, both);
    assert_eq!(<WithCtx as Operations>::HANDLERS, both);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let ctx = RequestContext::default();
        let data = WriteData::from(&b"banana"[..]);
        let n = Operations::write_data(&WithCtx, Inode(2), FileHandle(1), 0, data, &ctx).await;
        assert_eq!(n, Ok(3));
    });
}
