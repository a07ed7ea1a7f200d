//! Where a synchronous handler call runs (in place on a `/dev/fuse` reader thread, or handed
//! off to tokio's blocking pool), shared by the two
//! blocking adapters (`fusegen::Blocking` for inode-level handlers, `fusegen::paths::Blocking`
//! for path-level ones).
//!
//! Each call's arguments are carried to the pool as owned values ([`Carry`]) and lent back to
//! the synchronous method as the types it takes ([`Lend`]); the bridges generated from the
//! operation tables do that for every method.

use std::convert::identity;
use std::ffi::{OsStr, OsString};
use std::future::Future;
use std::path::{Path, PathBuf};

use futures_util::future::Either;

use crate::api::errno::{Errno, Result};
use crate::api::operations::ConnectionInfo;
use crate::api::types::{
    FileHandle, FileLock, Forget, Inode, RenameFlags, RequestContext, SetAttr,
};

/// Runs one synchronous handler call: right here on a `/dev/fuse` reader thread that polls it
/// in place (no hand-off: that thread exists to serve requests and blocks as libfuse's threads
/// do, while another reader takes the next request), on tokio's blocking pool anywhere else
/// (io_uring queues, requests that waited first). A panic in it answers `EIO` (or nothing,
/// for calls without an answer), as a panicking async handler does.
pub(crate) fn run<R: Answer>(
    name: &'static str,
    call: impl FnOnce() -> R + Send + 'static,
) -> impl Future<Output = R> + Send {
    if crate::api::in_place::polling_in_place() {
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
pub(crate) trait Answer: Send + 'static {
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
pub(crate) trait Carry {
    type Owned: Lend + Send + 'static;
    fn carry(self) -> Self::Owned;
}

/// An owned argument lent back as the type the handler takes.
pub(crate) trait Lend {
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
    [Forget] => Vec<Forget>, <[Forget]>::to_vec, Vec::as_slice;
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
    Inode,
    u64,
    Option<u64>,
    FileLock,
    u32,
    i32,
    bool,
    FileHandle,
    Option<FileHandle>,
    RenameFlags
);
