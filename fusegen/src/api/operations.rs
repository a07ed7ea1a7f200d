//! The [`Operations`] trait: one async method per FUSE operation.
//!
//! `#[fusegen::handlers]` implements it from an `impl` block of `async fn`s; it can also be
//! implemented by hand. Every method has a default that answers the way the kernel expects
//! from a filesystem that lacks the operation (mostly `ENOSYS`, which the kernel remembers and
//! stops asking, or falls back to a generic implementation). Methods take `&self`: requests run
//! concurrently, so state lives behind interior mutability.
//!
//! The methods and the [`Handlers`] bits are generated from the operation table of the macro
//! crate (`fusegen-macros/src/ops.rs`), which the handlers macro checks signatures against and
//! `docs/handlers.md` is generated from: a new operation is one row there.

use std::future::Future;

use bytes::Bytes;

use crate::api::errno::Result;
use crate::api::types::{FileHandle, Inode, RequestContext};
use crate::api::write_data::WriteData;

fusegen_macros::__handler_bits! {
    /// The handlers a filesystem implements, one bit per [`Operations`] method. The runtime
    /// derives kernel capabilities from it (no `getlk`/`setlk` => locks stay local to the
    /// kernel, and so on). `#[fusegen::handlers]` fills it in; a hand-written implementation
    /// lists what it overrides (leaving a bit out only makes the negotiation more cautious).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Handlers: u64;
}

/// What the kernel agreed to at INIT, passed to [`Operations::init`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// Protocol major version (7).
    pub proto_major: u32,
    /// Negotiated protocol minor version.
    pub proto_minor: u32,
    /// Capability bits granted (`FUSE_*` INIT flags, kernel numbering, flags2 in the high half).
    pub capabilities: u64,
    /// Largest WRITE the kernel will send.
    pub max_write: u32,
    /// Largest readahead.
    pub max_readahead: u32,
}

/// The reply to `ioctl`: the call's return value and the output buffer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IoctlReply {
    /// Return value of `ioctl(2)` for the caller.
    pub result: i32,
    /// Data copied to the caller's buffer (at most `out_size` bytes).
    pub data: Bytes,
}

/// A filesystem: one async method per FUSE operation, each with a kernel-appropriate default.
///
/// ```no_run
/// use std::ffi::OsStr;
/// use fusegen::{EntryAttributes, Errno, FileType, Inode, Operations, RequestContext, Result};
///
/// struct Empty;
///
/// impl Operations for Empty {
///     async fn getattr(&self, ino: Inode, _fh: Option<fusegen::FileHandle>, _ctx: &RequestContext)
///         -> Result<EntryAttributes> {
///         match ino {
///             Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
///             _ => Err(Errno::ENOENT),
///         }
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no FUSE handlers",
    label = "no `#[fusegen::handlers]` block for `{Self}`",
    note = "write the handlers as `async fn`s in an `impl {Self} {{ ... }}` block marked `#[fusegen::handlers]`"
)]
pub trait Operations: Send + Sync + 'static {
    /// The handlers this type implements, for capability negotiation (see [`Handlers`]).
    const HANDLERS: Handlers = Handlers::empty();

    // One method per row of the operation table (`fusegen-macros/src/ops.rs`), with its
    // documentation and the default that answers as the kernel expects (see the module docs).
    fusegen_macros::__operation_methods!(crate);

    /// [`write`](Operations::write) with its data as [`WriteData`]: what a `write` handler
    /// that takes `data: WriteData<'_>` implements, declared with [`Handlers::WRITE_DATA`],
    /// which lets the `/dev/fuse` transport leave large writes in a pipe for it. The runtime
    /// calls it for every WRITE when that bit is set, and `write` otherwise. The default hands
    /// the bytes to `write`, reading them out of the pipe if they are in one.
    ///
    /// Not a row of the operation table: it is a second signature of `write` (see
    /// `fusegen-macros/src/ops.rs`, `ALTERNATIVES`).
    #[allow(clippy::too_many_arguments)]
    fn write_data(
        &self,
        ino: Inode,
        fh: FileHandle,
        offset: u64,
        data: WriteData<'_>,
        ctx: &RequestContext,
    ) -> impl Future<Output = Result<u32>> + Send {
        async move {
            let bytes = data.into_bytes()?;
            self.write(ino, fh, offset, &bytes, ctx).await
        }
    }
}
