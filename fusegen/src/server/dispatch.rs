//! Dispatch: a parsed [`Operation`] becomes a call of the matching [`Operations`] method, and
//! the method's result becomes a [`Reply`].
//!
//! Also where kernel expectations that no handler should have to know are kept: ENOSYS from
//! `open` on kernels without no-open support, xattr size probes, flock vs POSIX locks, the
//! `noforget` option, clearing setuid/setgid when the kernel asks (`killpriv`). Which
//! requests get no reply is the opcode table's (`proto/opcodes.rs`), applied by
//! `Response::to` after dispatch: a handler's result for them is dropped.

use bytes::Bytes;

use crate::api::errno::{Errno, Result};
use crate::api::operations::{Handlers, Operations};
use crate::api::types::{
    EntryAttributes, FileHandle, FileInfo, Forget, Inode, OpenFlags, RenameFlags, RequestContext,
};
use crate::proto::abi::{FUSE_NO_OPEN_SUPPORT, FUSE_NO_OPENDIR_SUPPORT};
use crate::proto::dir::ReaddirReply;
use crate::proto::op;
use crate::proto::reply::{self, Reply, ReplyPolicy};
use crate::proto::request::{Header, Operation};
use crate::server::Server;
use crate::server::killpriv;

/// Runs the handler for one operation (anything but INIT) and encodes its result.
pub(crate) async fn dispatch<FS: Operations>(
    cx: &Server<FS>,
    header: &Header,
    op: Operation<'_>,
) -> Reply {
    let fs = &*cx.fs;
    let ino = Inode(header.nodeid);
    let mut ctx = RequestContext {
        uid: header.uid,
        gid: header.gid,
        pid: header.pid,
        umask: 0,
    };
    let policy = &cx.policy;
    use Operation as O;
    let result: Result<Reply> = match op {
        O::Lookup { name } => fs
            .lookup(ino, name, &ctx)
            .await
            .and_then(|a| entry(&a, policy)),
        O::Forget { arg } => {
            if !cx.noforget {
                fs.forget(&[Forget {
                    ino,
                    nlookup: arg.nlookup,
                }])
                .await;
            }
            // Never sent: the kernel waits for no reply (`Response::to`).
            Ok(Reply::Empty)
        }
        O::BatchForget { forgets } => {
            if !cx.noforget {
                let list: Vec<Forget> = forgets.iter().collect();
                fs.forget(&list).await;
            }
            Ok(Reply::Empty)
        }
        O::Getattr { arg } => fs
            .getattr(ino, arg.fh, &ctx)
            .await
            .and_then(|a| attr_reply(&a, policy)),
        O::Setattr { arg } => {
            let (mut set, fh) = (arg.set, arg.fh);
            let kill = cx.killpriv && set.kill_suidgid;
            async {
                if kill {
                    killpriv::fold_into_setattr(fs, ino, &mut set, &ctx).await?;
                }
                let a = fs.setattr(ino, &set, fh, &ctx).await?;
                if kill {
                    killpriv::remove_capability(fs, ino, a.mode, &ctx).await?;
                }
                attr_reply(&a, policy)
            }
            .await
        }
        O::Readlink => fs.readlink(ino, &ctx).await.map(Reply::Data),
        O::Symlink { name, target } => fs
            .symlink(ino, name, target, &ctx)
            .await
            .and_then(|a| entry(&a, policy)),
        O::Mknod { arg, name } => {
            ctx.umask = arg.umask;
            fs.mknod(ino, name, arg.mode, arg.rdev, &ctx)
                .await
                .and_then(|a| entry(&a, policy))
        }
        O::Mkdir { arg, name } => {
            ctx.umask = arg.umask;
            fs.mkdir(ino, name, arg.mode, &ctx)
                .await
                .and_then(|a| entry(&a, policy))
        }
        O::Unlink { name } => fs.unlink(ino, name, &ctx).await.map(|()| Reply::Empty),
        O::Rmdir { name } => fs.rmdir(ino, name, &ctx).await.map(|()| Reply::Empty),
        O::Rename {
            newdir,
            flags,
            name,
            newname,
        } => {
            let flags = RenameFlags::from_bits_retain(flags);
            fs.rename(ino, name, Inode(newdir), newname, flags, &ctx)
                .await
                .map(|()| Reply::Empty)
        }
        O::Link { arg, name } => fs
            .link(arg.oldnodeid, ino, name, &ctx)
            .await
            .and_then(|a| entry(&a, policy)),
        O::Open { arg } => {
            // Mount-wide open flags (direct_io, kernel_cache) only apply to opens the kernel
            // sends, so with such flags an unwritten `open` must not switch opens off.
            let no_open = cx.negotiated.has(FUSE_NO_OPEN_SUPPORT) && policy.open_flags.is_empty();
            let flags = arg.flags;
            let mut r = fs.open(ino, flags, &ctx).await;
            if let Ok(info) = &r
                && cx.killpriv
                && arg.kill_suidgid
            {
                match killpriv::kill_after_open(fs, ino, info.fh, flags, &ctx).await {
                    Ok(changed) => killpriv::forget_cached_mode(&cx.notify, ino, changed),
                    Err(e) => r = Err(e),
                }
            }
            open_reply(cx, ino, r, no_open)
        }
        O::Opendir { arg } => {
            let no_open = cx.negotiated.has(FUSE_NO_OPENDIR_SUPPORT);
            match fs.opendir(ino, arg.flags, &ctx).await {
                Ok(info) => Ok(reply::opendir(&info)),
                Err(Errno::ENOSYS) if !no_open => Ok(reply::opendir(&NO_HANDLE)),
                Err(e) => Err(e),
            }
        }
        O::Read { arg } => {
            let data = fs.read(ino, arg.fh, arg.offset, arg.size, &ctx).await;
            data.map(|d| reply::read(d, arg.size))
        }
        O::Write { arg, data } => {
            let fh = arg.fh;
            async {
                // Cleared before the data lands, as the kernel's own `file_remove_privs` does.
                if cx.killpriv && arg.kill_suidgid {
                    let changed = killpriv::kill(fs, ino, &ctx).await?;
                    killpriv::forget_cached_mode(&cx.notify, ino, changed);
                }
                // A filesystem whose `write` takes `WriteData` gets it as it arrived; one whose
                // `write` takes bytes gets the buffer's (the transport leaves data in a pipe
                // only for the former).
                let n = match data.as_slice() {
                    Some(bytes) if !FS::HANDLERS.contains(Handlers::WRITE_DATA) => {
                        fs.write(ino, fh, arg.offset, bytes, &ctx).await?
                    }
                    _ => fs.write_data(ino, fh, arg.offset, data, &ctx).await?,
                };
                Ok(reply::write(n.min(arg.size)))
            }
            .await
        }
        O::Statfs => fs.statfs(ino, &ctx).await.map(|s| reply::statfs(&s)),
        O::Release { arg } => {
            // The kernel ignores the result; the handler's error is only logged.
            log_ignored("release", fs.release(ino, arg.fh, arg.flags, &ctx).await);
            if let Some(backings) = &cx.backings {
                backings.release(ino.0, arg.fh.0);
            }
            Ok(Reply::Empty)
        }
        O::Releasedir { arg } => {
            log_ignored("releasedir", fs.releasedir(ino, arg.fh, &ctx).await);
            Ok(Reply::Empty)
        }
        O::Fsync { arg } => fs
            .fsync(ino, arg.fh, arg.datasync, &ctx)
            .await
            .map(|()| Reply::Empty),
        O::Fsyncdir { arg } => fs
            .fsyncdir(ino, arg.fh, arg.datasync, &ctx)
            .await
            .map(|()| Reply::Empty),
        O::Flush { arg } => fs
            .flush(ino, arg.fh, arg.lock_owner, &ctx)
            .await
            .map(|()| Reply::Empty),
        O::Setxattr {
            flags, name, value, ..
        } => fs
            .setxattr(ino, name, value, flags as i32, &ctx)
            .await
            .map(|()| Reply::Empty),
        O::Getxattr { arg, name } => fs
            .getxattr(ino, name, &ctx)
            .await
            .map(|v| reply::xattr(v, arg.size)),
        O::Listxattr { arg } => fs
            .listxattr(ino, &ctx)
            .await
            .map(|names| reply::xattr_names(&names, arg.size)),
        O::Removexattr { name } => fs.removexattr(ino, name, &ctx).await.map(|()| Reply::Empty),
        O::Readdir { arg } | O::Readdirplus { arg } => {
            let plus = matches!(op, O::Readdirplus { .. });
            let mut out = ReaddirReply::new(arg.size as usize, plus, policy);
            let r = fs.readdir(ino, arg.fh, arg.offset, &mut out, &ctx).await;
            r.and_then(|()| match out.invalid() {
                Some(why) => {
                    tracing::warn!(
                        handler = "readdir",
                        problem = why,
                        "invalid entry, answering EIO"
                    );
                    Err(Errno::EIO)
                }
                None => Ok(Reply::Data(Bytes::from(out.into_bytes()))),
            })
        }
        O::Access { arg } => match fs.access(ino, arg.mask, &ctx).await {
            Ok(true) => Ok(Reply::Empty),
            Ok(false) => Err(Errno::EACCES),
            Err(e) => Err(e),
        },
        O::Create { arg, name } => {
            ctx.umask = arg.umask;
            let flags = arg.flags;
            let mut r = fs.create(ino, name, arg.mode, flags, &ctx).await;
            // The kernel flags creates with O_TRUNC: the handler may have opened an existing
            // file (one created behind the kernel's back).
            if let Ok((info, attr)) = &mut r
                && cx.killpriv
                && arg.kill_suidgid
            {
                match killpriv::kill_after_open(fs, attr.ino, info.fh, flags, &ctx).await {
                    // The reply carries the attributes the kernel caches: the cleared mode.
                    Ok(mode) => attr.mode = mode.unwrap_or(attr.mode),
                    Err(e) => r = Err(e),
                }
            }
            r.and_then(|(info, attr)| {
                valid_attributes(&attr)?;
                let backing = backing(cx, attr.ino, &info);
                Ok(reply::create(&attr, &info, policy, backing))
            })
        }
        O::Tmpfile { arg, .. } => {
            ctx.umask = arg.umask;
            let r = fs.tmpfile(ino, arg.mode, arg.flags, &ctx).await;
            r.and_then(|(info, attr)| {
                valid_attributes(&attr)?;
                let backing = backing(cx, attr.ino, &info);
                Ok(reply::create(&attr, &info, policy, backing))
            })
        }
        O::Getlk { arg } => {
            let r = fs.getlk(ino, arg.fh, arg.owner, arg.lock, &ctx).await;
            r.map(|lk| reply::lock(&lk))
        }
        O::Setlk { arg, sleep } => {
            let r = if arg.flock {
                fs.flock(ino, arg.fh, arg.owner, flock_op(arg.lock.typ, sleep), &ctx)
                    .await
            } else {
                fs.setlk(ino, arg.fh, arg.owner, arg.lock, sleep, &ctx)
                    .await
            };
            r.map(|()| Reply::Empty)
        }
        O::Bmap { arg } => {
            let r = fs.bmap(ino, arg.blocksize, arg.block, &ctx).await;
            r.map(reply::bmap)
        }
        O::Ioctl { arg, data } => ioctl(cx, ino, &ctx, arg, data).await,
        O::Poll { arg } => {
            let r = fs.poll(ino, arg.fh, arg.kh, arg.events, &ctx).await;
            r.map(reply::poll)
        }
        O::Fallocate { arg } => {
            let r = fs
                .fallocate(ino, arg.fh, arg.offset, arg.length, arg.mode, &ctx)
                .await;
            r.map(|()| Reply::Empty)
        }
        O::Lseek { arg } => {
            let r = fs.lseek(ino, arg.fh, arg.offset, arg.whence, &ctx).await;
            r.map(reply::lseek)
        }
        O::CopyFileRange { arg, wide } => {
            let r = fs
                .copy_file_range(
                    ino,
                    arg.fh_in,
                    arg.off_in,
                    arg.nodeid_out,
                    arg.fh_out,
                    arg.off_out,
                    arg.len,
                    arg.flags,
                    &ctx,
                )
                .await;
            r.map(|n| reply::copied(n.min(arg.len), wide))
        }
        O::Syncfs => fs.syncfs(ino, &ctx).await.map(|()| Reply::Empty),
        O::Statx { arg } => {
            let r = fs.statx(ino, arg.fh, arg.flags, arg.mask, &ctx).await;
            r.and_then(|a| {
                valid_attributes(&a)?;
                Ok(reply::statx(&a, policy))
            })
        }
        O::Destroy => {
            fs.destroy().await;
            Ok(Reply::Empty)
        }
        // Both are the server's own (`server::serve`), before dispatch; neither is answered.
        O::Interrupt { .. } | O::NotifyReply { .. } => Ok(Reply::Empty),
        // INIT is handled by the session before dispatch starts; a second one is a bug.
        O::Init { .. } => Err(Errno::EIO),
        O::CuseInit { .. } | O::Setupmapping { .. } | O::Removemapping { .. } => Err(Errno::ENOSYS),
        O::Unknown { opcode } => {
            tracing::warn!(opcode, "unknown opcode, answering ENOSYS");
            Err(Errno::ENOSYS)
        }
    };
    Reply::from_result(result)
}

fn entry(attr: &EntryAttributes, policy: &ReplyPolicy) -> Result<Reply> {
    if attr.ino.0 != 0 {
        valid_attributes(attr)?;
    }
    Ok(reply::entry(attr, policy))
}

fn attr_reply(attr: &EntryAttributes, policy: &ReplyPolicy) -> Result<Reply> {
    valid_attributes(attr)?;
    Ok(reply::attr(attr, policy))
}

/// Attributes the kernel would misread are a handler bug: answer `EIO` and say why, rather
/// than corrupt the kernel's view of the inode.
fn valid_attributes(attr: &EntryAttributes) -> Result<()> {
    if attr.kind().is_none() {
        tracing::warn!(
            ino = attr.ino.0,
            mode = format_args!("{:o}", attr.mode),
            "handler returned attributes without a file type in `mode`, answering EIO"
        );
        return Err(Errno::EIO);
    }
    Ok(())
}

fn truncate(data: Bytes, max: usize) -> Bytes {
    if data.len() > max {
        data.slice(..max)
    } else {
        data
    }
}

fn log_ignored(what: &'static str, r: Result<()>) {
    if let Err(e) = r {
        tracing::debug!(handler = what, error = %e, "error ignored by the kernel");
    }
}

/// The answer to an open that needs none: handle 0, no flags.
const NO_HANDLE: FileInfo = FileInfo {
    fh: FileHandle(0),
    flags: OpenFlags::empty(),
    backing: None,
};

/// ENOSYS from open/opendir means "no open needed". When the kernel may not take it that way
/// (no-open support not granted, or mount-wide open flags to deliver), the runtime answers a
/// success with handle 0 instead.
fn open_reply<FS>(
    cx: &Server<FS>,
    ino: Inode,
    r: Result<FileInfo>,
    no_open_granted: bool,
) -> Result<Reply> {
    match r {
        Ok(info) => Ok(reply::open(&info, &cx.policy, backing(cx, ino, &info))),
        Err(Errno::ENOSYS) if !no_open_granted => Ok(reply::open(&NO_HANDLE, &cx.policy, None)),
        Err(e) => Err(e),
    }
}

/// The backing id of an opened file, registered when the kernel does passthrough and the
/// handler returned a backing file.
fn backing<FS>(cx: &Server<FS>, ino: Inode, info: &FileInfo) -> Option<u32> {
    match (&cx.backings, &info.backing) {
        (Some(backings), Some(file)) => backings.register(ino.0, info.fh.0, file),
        _ => None,
    }
}

/// The kernel sends `flock(2)` as SETLK with `FUSE_LK_FLOCK`, a POSIX lock type and the
/// sleep flag; turn that back into the `LOCK_*` operation.
fn flock_op(lock_type: i32, sleep: bool) -> i32 {
    let op = match lock_type {
        libc::F_RDLCK => libc::LOCK_SH,
        libc::F_WRLCK => libc::LOCK_EX,
        _ => libc::LOCK_UN,
    };
    if sleep || op == libc::LOCK_UN {
        op
    } else {
        op | libc::LOCK_NB
    }
}

async fn ioctl<FS: Operations>(
    cx: &Server<FS>,
    ino: Inode,
    ctx: &RequestContext,
    arg: op::IoctlIn,
    data: &[u8],
) -> Result<Reply> {
    // Unrestricted ioctls (CUSE only) need iovec retries this runtime does not offer.
    if arg.unrestricted {
        return Err(Errno::ENOSYS);
    }
    let r = cx
        .fs
        .ioctl(ino, arg.fh, arg.cmd, arg.arg, data, arg.out_size, ctx)
        .await?;
    Ok(reply::ioctl(
        r.result,
        &truncate(r.data, arg.out_size as usize),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flock_ops_round_trip() {
        assert_eq!(flock_op(libc::F_WRLCK, true), libc::LOCK_EX);
        assert_eq!(
            flock_op(libc::F_RDLCK, false),
            libc::LOCK_SH | libc::LOCK_NB
        );
        assert_eq!(flock_op(libc::F_UNLCK, false), libc::LOCK_UN);
    }
}
