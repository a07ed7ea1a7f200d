//! Dispatch: a parsed [`Operation`] becomes a call of the matching [`Operations`] method, and
//! the method's result becomes a [`Reply`].
//!
//! Also where kernel expectations that no handler should have to know are kept: ENOSYS from
//! `open` on kernels without no-open support, xattr size probes, flock vs POSIX locks, the
//! `noforget` option, clearing setuid/setgid when the kernel asks (`killpriv`). Which
//! requests get no reply is the opcode table's (`proto/opcodes.rs`), applied by
//! `Response::to` after dispatch: a handler's result for them is dropped.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::time::SystemTime;

use bytes::{BufMut, Bytes, BytesMut};
use zerocopy::IntoBytes;

use crate::api::errno::{Errno, Result};
use crate::api::operations::Operations;
use crate::api::types::{
    EntryAttributes, FileHandle, FileInfo, FileLock, Forget, Inode, RenameFlags, RequestContext,
    SetAttr, time_from_kernel,
};
use crate::proto::abi::{self, *};
use crate::proto::dir::ReaddirReply;
use crate::proto::reply::{self, Reply, ReplyPolicy};
use crate::proto::request::Operation;
use crate::server::Server;
use crate::server::killpriv;

fn fh_if(flag_set: bool, fh: u64) -> Option<FileHandle> {
    flag_set.then_some(FileHandle(fh))
}

/// Runs the handler for one operation (anything but INIT) and encodes its result.
pub(crate) async fn dispatch<FS: Operations>(
    cx: &Server<FS>,
    header: &abi::fuse_in_header,
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
                let list: Vec<Forget> = forgets
                    .iter()
                    .map(|f| Forget {
                        ino: Inode(f.nodeid),
                        nlookup: f.nlookup,
                    })
                    .collect();
                fs.forget(&list).await;
            }
            Ok(Reply::Empty)
        }
        O::Getattr { arg } => {
            let fh = fh_if(arg.getattr_flags & FUSE_GETATTR_FH != 0, arg.fh);
            fs.getattr(ino, fh, &ctx)
                .await
                .and_then(|a| attr_reply(&a, policy))
        }
        O::Setattr { arg } => {
            let (mut set, fh) = setattr_from_kernel(arg);
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
            .link(Inode(arg.oldnodeid), ino, name, &ctx)
            .await
            .and_then(|a| entry(&a, policy)),
        O::Open { arg } => {
            // Mount-wide open flags (direct_io, kernel_cache) only apply to opens the kernel
            // sends, so with such flags an unwritten `open` must not switch opens off.
            let no_open = cx.negotiated.has(FUSE_NO_OPEN_SUPPORT) && policy.open_flags.is_empty();
            let flags = arg.flags as i32;
            let mut r = fs.open(ino, flags, &ctx).await;
            if let Ok(info) = &r
                && kill_on_open(cx, arg.open_flags)
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
            match fs.opendir(ino, arg.flags as i32, &ctx).await {
                // Mount-wide file flags (direct_io, kernel_cache) do not apply to directories.
                Ok(info) => Ok(reply::fixed(&abi::fuse_open_out {
                    fh: info.fh.0,
                    open_flags: info.flags.bits(),
                    backing_id: 0,
                })),
                Err(Errno::ENOSYS) if !no_open => Ok(reply::fixed(&abi::fuse_open_out::default())),
                Err(e) => Err(e),
            }
        }
        O::Read { arg } => {
            let data = fs
                .read(ino, FileHandle(arg.fh), arg.offset, arg.size, &ctx)
                .await;
            // More than asked would make the kernel fail the whole read.
            data.map(|d| Reply::Data(truncate(d, arg.size as usize)))
        }
        O::Write { arg, data } => {
            let fh = FileHandle(arg.fh);
            async {
                // Cleared before the data lands, as the kernel's own `file_remove_privs` does.
                if cx.killpriv && arg.write_flags & FUSE_WRITE_KILL_SUIDGID != 0 {
                    let changed = killpriv::kill(fs, ino, &ctx).await?;
                    killpriv::forget_cached_mode(&cx.notify, ino, changed);
                }
                let n = fs.write(ino, fh, arg.offset, data, &ctx).await?;
                Ok(reply::write(n.min(arg.size)))
            }
            .await
        }
        O::Statfs => fs
            .statfs(ino, &ctx)
            .await
            .map(|s| reply::fixed(&reply::statfs_out(&s))),
        O::Release { arg } => {
            let fh = FileHandle(arg.fh);
            // The kernel ignores the result; the handler's error is only logged.
            log_ignored("release", fs.release(ino, fh, arg.flags as i32, &ctx).await);
            if let Some(backings) = &cx.backings {
                backings.release(ino.0, arg.fh);
            }
            Ok(Reply::Empty)
        }
        O::Releasedir { arg } => {
            log_ignored(
                "releasedir",
                fs.releasedir(ino, FileHandle(arg.fh), &ctx).await,
            );
            Ok(Reply::Empty)
        }
        O::Fsync { arg } => {
            let datasync = arg.fsync_flags & FUSE_FSYNC_FDATASYNC != 0;
            fs.fsync(ino, FileHandle(arg.fh), datasync, &ctx)
                .await
                .map(|()| Reply::Empty)
        }
        O::Fsyncdir { arg } => {
            let datasync = arg.fsync_flags & FUSE_FSYNC_FDATASYNC != 0;
            fs.fsyncdir(ino, FileHandle(arg.fh), datasync, &ctx)
                .await
                .map(|()| Reply::Empty)
        }
        O::Flush { arg } => fs
            .flush(ino, FileHandle(arg.fh), arg.lock_owner, &ctx)
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
            .map(|names| reply::xattr(xattr_list(&names), arg.size)),
        O::Removexattr { name } => fs.removexattr(ino, name, &ctx).await.map(|()| Reply::Empty),
        O::Readdir { arg } | O::Readdirplus { arg } => {
            let plus = matches!(op, O::Readdirplus { .. });
            let mut out = ReaddirReply::new(arg.size as usize, plus, policy);
            let r = fs
                .readdir(ino, FileHandle(arg.fh), arg.offset, &mut out, &ctx)
                .await;
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
        O::Access { arg } => match fs.access(ino, arg.mask as i32, &ctx).await {
            Ok(true) => Ok(Reply::Empty),
            Ok(false) => Err(Errno::EACCES),
            Err(e) => Err(e),
        },
        O::Create { arg, name } => {
            ctx.umask = arg.umask;
            let flags = arg.flags as i32;
            let mut r = fs.create(ino, name, arg.mode, flags, &ctx).await;
            // The kernel flags creates with O_TRUNC: the handler may have opened an existing
            // file (one created behind the kernel's back).
            if let Ok((info, attr)) = &mut r
                && kill_on_open(cx, arg.open_flags)
            {
                match killpriv::kill_after_open(fs, attr.ino, info.fh, flags, &ctx).await {
                    // The reply carries the attributes the kernel caches: the cleared mode.
                    Ok(mode) => attr.mode = mode.unwrap_or(attr.mode),
                    Err(e) => r = Err(e),
                }
            }
            r.and_then(|(info, attr)| {
                valid_attributes(&attr)?;
                Ok(reply::create(&attr, &opened(cx, attr.ino, &info), policy))
            })
        }
        O::Tmpfile { arg, .. } => {
            ctx.umask = arg.umask;
            let r = fs.tmpfile(ino, arg.mode, arg.flags as i32, &ctx).await;
            r.and_then(|(info, attr)| {
                valid_attributes(&attr)?;
                Ok(reply::create(&attr, &opened(cx, attr.ino, &info), policy))
            })
        }
        O::Getlk { arg } => {
            let lock = lock_from_kernel(&arg.lk);
            let r = fs
                .getlk(ino, FileHandle(arg.fh), arg.owner, lock, &ctx)
                .await;
            r.map(|lk| reply::lock(&lk))
        }
        O::Setlk { arg, sleep } => {
            let fh = FileHandle(arg.fh);
            let r = if arg.lk_flags & FUSE_LK_FLOCK != 0 {
                fs.flock(ino, fh, arg.owner, flock_op(arg.lk.r#type, sleep), &ctx)
                    .await
            } else {
                fs.setlk(ino, fh, arg.owner, lock_from_kernel(&arg.lk), sleep, &ctx)
                    .await
            };
            r.map(|()| Reply::Empty)
        }
        O::Bmap { arg } => {
            let r = fs.bmap(ino, arg.blocksize, arg.block, &ctx).await;
            r.map(|block| reply::fixed(&abi::fuse_bmap_out { block }))
        }
        O::Ioctl { arg, data } => ioctl(cx, ino, &ctx, arg, data).await,
        O::Poll { arg } => {
            let kh = (arg.flags & FUSE_POLL_SCHEDULE_NOTIFY != 0).then_some(arg.kh);
            let r = fs.poll(ino, FileHandle(arg.fh), kh, arg.events, &ctx).await;
            r.map(|revents| {
                reply::fixed(&abi::fuse_poll_out {
                    revents,
                    padding: 0,
                })
            })
        }
        O::Fallocate { arg } => {
            let (fh, mode) = (FileHandle(arg.fh), arg.mode as i32);
            let r = fs
                .fallocate(ino, fh, arg.offset, arg.length, mode, &ctx)
                .await;
            r.map(|()| Reply::Empty)
        }
        O::Lseek { arg } => {
            let r = fs
                .lseek(ino, FileHandle(arg.fh), arg.offset, arg.whence as i32, &ctx)
                .await;
            r.map(|offset| reply::fixed(&abi::fuse_lseek_out { offset }))
        }
        O::CopyFileRange { arg, wide } => {
            let r = fs
                .copy_file_range(
                    ino,
                    FileHandle(arg.fh_in),
                    arg.off_in,
                    Inode(arg.nodeid_out),
                    FileHandle(arg.fh_out),
                    arg.off_out,
                    arg.len,
                    arg.flags,
                    &ctx,
                )
                .await;
            r.map(|n| {
                let n = n.min(arg.len);
                if wide {
                    reply::fixed(&abi::fuse_copy_file_range_out { bytes_copied: n })
                } else {
                    reply::write(u32::try_from(n).unwrap_or(u32::MAX))
                }
            })
        }
        O::Syncfs { .. } => fs.syncfs(ino, &ctx).await.map(|()| Reply::Empty),
        O::Statx { arg } => {
            let fh = fh_if(arg.getattr_flags & FUSE_GETATTR_FH != 0, arg.fh);
            let r = fs.statx(ino, fh, arg.sx_flags, arg.sx_mask, &ctx).await;
            r.and_then(|a| {
                valid_attributes(&a)?;
                Ok(reply::fixed(&reply::statx_out(&a, policy)))
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
    Ok(reply::fixed(&reply::entry_out(attr, policy)))
}

fn attr_reply(attr: &EntryAttributes, policy: &ReplyPolicy) -> Result<Reply> {
    valid_attributes(attr)?;
    Ok(reply::fixed(&reply::attr_out(attr, policy)))
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
        Ok(info) => Ok(reply::fixed(&opened(cx, ino, &info))),
        Err(Errno::ENOSYS) if !no_open_granted => {
            let info = FileInfo {
                fh: FileHandle(0),
                flags: crate::api::types::OpenFlags::empty(),
                backing: None,
            };
            Ok(reply::fixed(&reply::open_out(&info, &cx.policy)))
        }
        Err(e) => Err(e),
    }
}

/// The open reply, with the file's backing registered when the kernel does passthrough.
fn opened<FS>(cx: &Server<FS>, ino: Inode, info: &FileInfo) -> abi::fuse_open_out {
    let mut out = reply::open_out(info, &cx.policy);
    if let (Some(backings), Some(file)) = (&cx.backings, &info.backing)
        && let Some(id) = backings.register(ino.0, info.fh.0, file)
    {
        // The kernel refuses passthrough opens carrying any other flag (EINVAL).
        const ALLOWED: u32 =
            FOPEN_PASSTHROUGH | FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES | FOPEN_NOFLUSH;
        out.open_flags = (out.open_flags | FOPEN_PASSTHROUGH) & ALLOWED;
        // Backing ids are small positive integers assigned by the kernel.
        out.backing_id = i32::try_from(id).unwrap_or(i32::MAX);
    }
    out
}

/// Whether an OPEN or CREATE asks the runtime to clear setuid/setgid (`O_TRUNC` by a caller
/// without `CAP_FSETID`, see `killpriv`).
fn kill_on_open<FS>(cx: &Server<FS>, open_flags: u32) -> bool {
    cx.killpriv && open_flags & FUSE_OPEN_KILL_SUIDGID != 0
}

fn setattr_from_kernel(a: &abi::fuse_setattr_in) -> (SetAttr, Option<FileHandle>) {
    let has = |bit: u32| a.valid & bit != 0;
    let time = |set: bool, now: bool, secs: u64, nsecs: u32| match (set, now) {
        (_, true) => Some(SystemTime::now()),
        (true, false) => Some(time_from_kernel(secs as i64, nsecs)),
        (false, false) => None,
    };
    let set = SetAttr {
        mode: has(FATTR_MODE).then_some(a.mode),
        uid: has(FATTR_UID).then_some(a.uid),
        gid: has(FATTR_GID).then_some(a.gid),
        size: has(FATTR_SIZE).then_some(a.size),
        atime: time(has(FATTR_ATIME), has(FATTR_ATIME_NOW), a.atime, a.atimensec),
        mtime: time(has(FATTR_MTIME), has(FATTR_MTIME_NOW), a.mtime, a.mtimensec),
        ctime: time(has(FATTR_CTIME), false, a.ctime, a.ctimensec),
        kill_suidgid: has(FATTR_KILL_SUIDGID),
        lock_owner: has(FATTR_LOCKOWNER).then_some(a.lock_owner),
    };
    (set, fh_if(has(FATTR_FH), a.fh))
}

fn lock_from_kernel(lk: &abi::fuse_file_lock) -> FileLock {
    FileLock {
        start: lk.start,
        end: lk.end,
        typ: lk.r#type as i32,
        pid: lk.pid,
    }
}

/// The kernel sends `flock(2)` as SETLK with `FUSE_LK_FLOCK`, a POSIX lock type and the
/// sleep flag; turn that back into the `LOCK_*` operation.
fn flock_op(lock_type: u32, sleep: bool) -> i32 {
    let op = match lock_type as i32 {
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

/// NUL-separated names, the `listxattr(2)` format.
fn xattr_list(names: &[OsString]) -> Bytes {
    let mut out = BytesMut::with_capacity(names.iter().map(|n| n.len() + 1).sum());
    for n in names {
        out.put_slice(n.as_bytes());
        out.put_u8(0);
    }
    out.freeze()
}

async fn ioctl<FS: Operations>(
    cx: &Server<FS>,
    ino: Inode,
    ctx: &RequestContext,
    arg: &abi::fuse_ioctl_in,
    data: &[u8],
) -> Result<Reply> {
    // Unrestricted ioctls (CUSE only) need iovec retries this runtime does not offer.
    if arg.flags & FUSE_IOCTL_UNRESTRICTED != 0 {
        return Err(Errno::ENOSYS);
    }
    let r = cx
        .fs
        .ioctl(
            ino,
            FileHandle(arg.fh),
            arg.cmd,
            arg.arg,
            data,
            arg.out_size,
            ctx,
        )
        .await?;
    let data = truncate(r.data, arg.out_size as usize);
    let out = abi::fuse_ioctl_out {
        result: r.result,
        flags: 0,
        in_iovs: 0,
        out_iovs: 0,
    };
    let mut buf = BytesMut::with_capacity(size_of::<abi::fuse_ioctl_out>() + data.len());
    buf.put_slice(out.as_bytes());
    buf.put_slice(&data);
    Ok(Reply::Data(buf.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flock_ops_round_trip() {
        assert_eq!(flock_op(libc::F_WRLCK as u32, true), libc::LOCK_EX);
        assert_eq!(
            flock_op(libc::F_RDLCK as u32, false),
            libc::LOCK_SH | libc::LOCK_NB
        );
        assert_eq!(flock_op(libc::F_UNLCK as u32, false), libc::LOCK_UN);
    }

    #[test]
    fn xattr_names_are_nul_separated() {
        let names = [OsString::from("user.a"), OsString::from("user.bc")];
        assert_eq!(&xattr_list(&names)[..], b"user.a\0user.bc\0");
    }

    #[test]
    fn setattr_now_flags_resolve_to_now() {
        let a = abi::fuse_setattr_in {
            valid: FATTR_MTIME | FATTR_MTIME_NOW | FATTR_SIZE | FATTR_FH,
            size: 10,
            fh: 7,
            ..Default::default()
        };
        let before = SystemTime::now();
        let (set, fh) = setattr_from_kernel(&a);
        assert_eq!(set.size, Some(10));
        assert_eq!(fh, Some(FileHandle(7)));
        assert!(set.mtime.is_some_and(|t| t >= before));
        assert_eq!(set.atime, None);
    }
}
