//! [`Blocking`]: a [`BlockingPathOperations`] filesystem run on the `/dev/fuse` reader threads
//! or tokio's blocking pool.
//!
//! Each call's arguments are carried to the pool as owned values ([`Carry`]) and lent back to
//! the synchronous method as the types it takes ([`Lend`]); the generated bridge in `mod.rs`
//! does that for every method of the table.

use std::convert::identity;
use std::ffi::{OsStr, OsString};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::Either;

use super::BlockingPathOperations;
use crate::api::errno::{Errno, Result};
use crate::api::operations::ConnectionInfo;
use crate::api::types::{FileHandle, RenameFlags, RequestContext, SetAttr};

/// Serves a [`BlockingPathOperations`] filesystem: `PathFs::new(Blocking::new(fs))`. A handler
/// call runs on the `/dev/fuse` reader thread that read its request (which blocks in it as
/// libfuse's threads do, while another reader takes the next request), or, where the request
/// is not served in place (io_uring, a request that waited first), on tokio's blocking pool:
/// one thread hand-off. Either way a synchronous backend never holds the runtime's workers.
pub struct Blocking<T>(Arc<T>);

impl<T: BlockingPathOperations> Blocking<T> {
    /// Wraps a synchronous path filesystem.
    pub fn new(fs: T) -> Blocking<T> {
        Blocking(Arc::new(fs))
    }

    /// The wrapped filesystem.
    pub fn get_ref(&self) -> &T {
        &self.0
    }

    pub(super) fn shared(&self) -> Arc<T> {
        Arc::clone(&self.0)
    }
}

/// Runs one synchronous handler call: right here on a `/dev/fuse` reader thread polling it in
/// place (no hand-off: the thread exists to serve requests), on tokio's blocking pool
/// anywhere else. A panic in it answers `EIO` (or nothing, for calls without an answer), as a
/// panicking async handler does.
pub(super) fn run<R: Answer>(
    name: &'static str,
    call: impl FnOnce() -> R + Send + 'static,
) -> impl Future<Output = R> + Send {
    if crate::transport::reader::polling_in_place() {
        return Either::Left(std::future::ready(call()));
    }
    let task = tokio::task::spawn_blocking(call);
    Either::Right(async move {
        match task.await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::error!(handler = name, error = %e, "blocking handler failed, answering EIO");
                R::failed()
            }
        }
    })
}

/// What a handler answers when its blocking call panicked.
pub(super) trait Answer: Send + 'static {
    fn failed() -> Self;
}

impl<T: Send + 'static> Answer for Result<T> {
    fn failed() -> Self {
        Err(Errno::EIO)
    }
}

impl Answer for () {
    fn failed() {}
}

/// An argument as an owned value that can move to another thread.
pub(super) trait Carry {
    type Owned: Lend + Send + 'static;
    fn carry(self) -> Self::Owned;
}

/// An owned argument lent back as the type the handler takes.
pub(super) trait Lend {
    type Out<'a>
    where
        Self: 'a;
    fn lend(&self) -> Self::Out<'_>;
}

/// Borrowed arguments: carried as their owned form, lent back as a reference.
macro_rules! by_reference {
    ($($borrowed:ty => $owned:ty, $to_owned:expr, $as_ref:expr;)*) => {$(
        impl Carry for &$borrowed {
            type Owned = $owned;
            fn carry(self) -> $owned {
                $to_owned(self)
            }
        }

        impl Lend for $owned {
            type Out<'a> = &'a $borrowed;
            fn lend(&self) -> &$borrowed {
                $as_ref(self)
            }
        }
    )*};
}

by_reference! {
    Path => PathBuf, Path::to_path_buf, PathBuf::as_path;
    OsStr => OsString, OsStr::to_os_string, OsString::as_os_str;
    [u8] => Vec<u8>, <[u8]>::to_vec, Vec::as_slice;
    SetAttr => SetAttr, SetAttr::clone, identity;
    RequestContext => RequestContext, RequestContext::clone, identity;
    ConnectionInfo => ConnectionInfo, ConnectionInfo::clone, identity;
}

/// Arguments passed by value: carried and lent as copies.
macro_rules! by_value {
    ($($ty:ty),*) => {$(
        impl Carry for $ty {
            type Owned = $ty;
            fn carry(self) -> $ty {
                self
            }
        }

        impl Lend for $ty {
            type Out<'a> = $ty;
            fn lend(&self) -> $ty {
                *self
            }
        }
    )*};
}

by_value!(
    u64,
    u32,
    i32,
    bool,
    FileHandle,
    Option<FileHandle>,
    RenameFlags
);
