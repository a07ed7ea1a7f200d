//! The handlers: each one takes what it needs from the tables, then runs its system calls in
//! one blocking section (`sys::blocking`), relative to the descriptors it holds.
//!
//! Errors are the source's own: every system call's errno goes back to the caller unchanged
//! (`?` turns `nix`, `rustix` and `std::io` errors into the reply's errno).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;

use fusegen::ConnectionInfo;
use fusegen::abi::{FUSE_PASSTHROUGH, FUSE_WRITEBACK_CACHE};
use fusegen::prelude::*;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{Mode, SFlag};
use nix::unistd::UnlinkatFlags;

use crate::Passthrough;
use crate::core::{Core, held};
use crate::files::OpenDir;
use crate::sys::{self, AsCaller, Blocking, blocking, proc_path, reopen, stat_fd};

#[fusegen::handlers]
impl Passthrough {
    async fn init(&self, info: &ConnectionInfo) -> Result<()> {
        let core = &self.core;
        let granted = |flag: u64| info.capabilities & flag != 0;
        core.writeback
            .store(granted(FUSE_WRITEBACK_CACHE), Ordering::Relaxed);
        core.kernel_passthrough
            .store(granted(FUSE_PASSTHROUGH), Ordering::Relaxed);
        tracing::info!(
            writeback_cache = granted(FUSE_WRITEBACK_CACHE),
            kernel_passthrough = granted(FUSE_PASSTHROUGH),
            "mounted"
        );
        Ok(())
    }

    async fn destroy(&self) {
        let c = &self.core;
        tracing::debug!(
            inodes = c.inodes.len(),
            files = c.files.len(),
            dirs = c.dirs.len(),
            "unmounted"
        );
        // The kernel's references end with the mount (it sends no FORGET for them).
        c.inodes.forget_all();
    }

    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        let name = name.to_owned();
        self.run(move |c| c.lookup(&*c.inodes.get(parent)?, &name))
            .await
    }

    async fn forget(&self, forgets: &[Forget]) {
        self.core.inodes.forget(forgets);
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.run(move |c| {
            let inode = c.inodes.get(ino)?;
            Ok(sys::attributes(ino, &stat_fd(inode.fd())?))
        })
        .await
    }

    async fn setattr(
        &self,
        ino: Inode,
        attr: &SetAttr,
        fh: Option<FileHandle>,
    ) -> Result<EntryAttributes> {
        let set = *attr;
        self.run(move |c| {
            let inode = c.inodes.get(ino)?;
            c.setattr(&inode, &set, fh)?;
            Ok(sys::attributes(ino, &stat_fd(inode.fd())?))
        })
        .await
    }

    async fn readlink(&self, ino: Inode) -> Result<Bytes> {
        self.run(move |c| {
            let inode = c.inodes.get(ino)?;
            let target = nix::fcntl::readlinkat(inode.fd(), "")?;
            Ok(Bytes::from(target.into_vec()))
        })
        .await
    }

    async fn mknod(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        rdev: u32,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let (name, ctx) = (name.to_owned(), *ctx);
        self.run(move |c| {
            let dir = c.inodes.get(parent)?;
            let kind = SFlag::from_bits_truncate(mode & libc::S_IFMT);
            let perm = Mode::from_bits_truncate(mode & 0o7777);
            {
                let _caller = AsCaller::switch(&ctx)?;
                nix::sys::stat::mknodat(
                    dir.fd(),
                    name.as_os_str(),
                    kind,
                    perm,
                    sys::decode_dev(rdev),
                )?;
            }
            c.lookup(&dir, &name)
        })
        .await
    }

    async fn mkdir(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let (name, ctx) = (name.to_owned(), *ctx);
        self.run(move |c| {
            let dir = c.inodes.get(parent)?;
            {
                let _caller = AsCaller::switch(&ctx)?;
                let perm = Mode::from_bits_truncate(mode & 0o7777);
                nix::sys::stat::mkdirat(dir.fd(), name.as_os_str(), perm)?;
            }
            c.lookup(&dir, &name)
        })
        .await
    }

    async fn symlink(
        &self,
        parent: Inode,
        name: &OsStr,
        target: &OsStr,
        ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let (name, target, ctx) = (name.to_owned(), target.to_owned(), *ctx);
        self.run(move |c| {
            let dir = c.inodes.get(parent)?;
            {
                let _caller = AsCaller::switch(&ctx)?;
                nix::unistd::symlinkat(target.as_os_str(), dir.fd(), name.as_os_str())?;
            }
            c.lookup(&dir, &name)
        })
        .await
    }

    async fn link(
        &self,
        ino: Inode,
        new_parent: Inode,
        new_name: &OsStr,
    ) -> Result<EntryAttributes> {
        let name = new_name.to_owned();
        self.run(move |c| {
            let inode = c.inodes.get(ino)?;
            let dir = c.inodes.get(new_parent)?;
            // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc works for others, but not for
            // symlinks (it would link the target).
            let r = nix::unistd::linkat(
                inode.fd(),
                "",
                dir.fd(),
                name.as_os_str(),
                AtFlags::AT_EMPTY_PATH,
            );
            match r {
                Err(nix::Error::ENOENT) if inode.kind != FileType::Symlink => nix::unistd::linkat(
                    nix::fcntl::AT_FDCWD,
                    proc_path(inode.fd()).as_c_str(),
                    dir.fd(),
                    name.as_os_str(),
                    AtFlags::AT_SYMLINK_FOLLOW,
                )?,
                r => r?,
            }
            c.lookup(&dir, &name)
        })
        .await
    }

    async fn unlink(&self, parent: Inode, name: &OsStr) -> Result<()> {
        self.remove(parent, name, UnlinkatFlags::NoRemoveDir).await
    }

    async fn rmdir(&self, parent: Inode, name: &OsStr) -> Result<()> {
        self.remove(parent, name, UnlinkatFlags::RemoveDir).await
    }

    async fn rename(
        &self,
        parent: Inode,
        name: &OsStr,
        new_parent: Inode,
        new_name: &OsStr,
        flags: RenameFlags,
    ) -> Result<()> {
        let (name, new_name) = (name.to_owned(), new_name.to_owned());
        self.run(move |c| {
            let from = c.inodes.get(parent)?;
            let to = c.inodes.get(new_parent)?;
            let flags = nix::fcntl::RenameFlags::from_bits_retain(flags.bits());
            Ok(nix::fcntl::renameat2(
                from.fd(),
                name.as_os_str(),
                to.fd(),
                new_name.as_os_str(),
                flags,
            )?)
        })
        .await
    }

    async fn open(&self, ino: Inode, flags: i32) -> Result<FileInfo> {
        self.run(move |c| {
            let inode = c.inodes.get(ino)?;
            let fd = reopen(inode.fd(), sys::open_flags(flags, c.writeback()))?;
            Ok(c.opened(inode, File::from(fd), flags))
        })
        .await
    }

    async fn create(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        flags: i32,
        ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        let (name, ctx) = (name.to_owned(), *ctx);
        self.run(move |c| {
            let dir = c.inodes.get(parent)?;
            // Never follow a symlink that appeared in the source since the kernel's lookup.
            let how = sys::open_flags(flags, c.writeback())
                | OFlag::O_CREAT
                | OFlag::O_NOFOLLOW
                | (OFlag::from_bits_truncate(flags) & OFlag::O_EXCL);
            let fd = {
                let _caller = AsCaller::switch(&ctx)?;
                let perm = Mode::from_bits_truncate(mode & 0o7777);
                nix::fcntl::openat(dir.fd(), name.as_os_str(), how, perm)?
            };
            c.new_open_file(File::from(fd), flags)
        })
        .await
    }

    async fn tmpfile(
        &self,
        parent: Inode,
        mode: u32,
        flags: i32,
        ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        let ctx = *ctx;
        self.run(move |c| {
            let dir = c.inodes.get(parent)?;
            let how = sys::open_flags(flags, c.writeback()) | OFlag::O_TMPFILE;
            let fd = {
                let _caller = AsCaller::switch(&ctx)?;
                let perm = Mode::from_bits_truncate(mode & 0o7777);
                nix::fcntl::openat(dir.fd(), ".", how, perm)?
            };
            c.new_open_file(File::from(fd), flags)
        })
        .await
    }

    async fn read(&self, _ino: Inode, fh: FileHandle, offset: u64, size: u32) -> Result<ReadData> {
        // The runtime reads the range when it sends the reply: by splice(2) on /dev/fuse, so
        // the data never passes through this process, or straight into the io_uring buffer.
        Ok(ReadData::from_file(self.core.files.get(fh)?, offset, size))
    }

    async fn write(
        &self,
        _ino: Inode,
        fh: FileHandle,
        offset: u64,
        data: WriteData<'_>,
    ) -> Result<u32> {
        let f = self.core.files.get(fh)?;
        // On /dev/fuse a large write arrives in a pipe, and `write_to` splices it into the
        // backing file: the data never passes through this process. Otherwise it is one
        // `pwrite` of the request's bytes.
        let n = match sys::blocking_mode() {
            // Handing the call to another thread needs the data out of the request.
            Blocking::Spawn => {
                let data = data.into_bytes()?.into_owned();
                blocking(move || write_all_at(&f.file, &data, offset)).await
            }
            Blocking::BlockInPlace => {
                tokio::task::block_in_place(|| data.write_to(&f.file, offset))
            }
            Blocking::Inline => data.write_to(&f.file, offset),
        }?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn flush(&self, _ino: Inode, fh: FileHandle, _lock_owner: u64) -> Result<()> {
        let f = self.core.files.get(fh)?;
        // A close of a duplicate tells the source a descriptor was closed, which network
        // filesystems use to write back (close-to-open consistency).
        self.run(move |_| f.file.try_clone().map(drop)).await
    }

    async fn release(&self, _ino: Inode, fh: FileHandle, _flags: i32) -> Result<()> {
        // Dropping the handle closes its descriptor of the source.
        self.core.files.remove(fh);
        Ok(())
    }

    async fn fsync(&self, _ino: Inode, fh: FileHandle, datasync: bool) -> Result<()> {
        let f = self.core.files.get(fh)?;
        self.run(move |_| {
            if datasync {
                f.file.sync_data()
            } else {
                f.file.sync_all()
            }
        })
        .await
    }

    async fn opendir(&self, ino: Inode, _flags: i32) -> Result<FileInfo> {
        self.run(move |c| {
            let inode = c.inodes.get(ino)?;
            let how = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
            let fd = nix::fcntl::openat(inode.fd(), ".", how, Mode::empty())?;
            Ok(FileInfo::new(c.dirs.insert(OpenDir::new(inode, fd))).keep_cache(false))
        })
        .await
    }

    async fn readdir(
        &self,
        ino: Inode,
        fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
    ) -> Result<()> {
        let dir = self.core.dirs.get(fh)?;
        let plus = out.is_plus();
        // Entries (looked up and held, for READDIRPLUS) are gathered in the blocking section;
        // `add_counted` counts a lookup for each one the reply takes, then the holds go, and
        // with them the entries that did not fit.
        let batch = {
            let dir = dir.clone();
            self.run(move |c| c.read_dir(ino, &dir, offset, plus))
                .await?
        };
        let table = self.core.inodes.table();
        let mut taken = 0;
        for (entry, attr) in &batch {
            if let Some(attr) = attr
                && !out.add_counted(&entry.name, attr, entry.next, table)
            {
                break;
            }
            taken += 1;
        }
        self.core.inodes.release(&held(&batch, plus));
        dir.consume(taken, batch.len());
        Ok(())
    }

    async fn releasedir(&self, _ino: Inode, fh: FileHandle) -> Result<()> {
        self.core.dirs.remove(fh);
        Ok(())
    }

    async fn fsyncdir(&self, _ino: Inode, fh: FileHandle, datasync: bool) -> Result<()> {
        let dir = self.core.dirs.get(fh)?;
        self.run(move |_| {
            if datasync {
                nix::unistd::fdatasync(dir.fd())?;
            } else {
                nix::unistd::fsync(dir.fd())?;
            }
            Ok(())
        })
        .await
    }

    async fn statfs(&self, ino: Inode) -> Result<StatvfsData> {
        self.run(move |c| {
            let inode = c.inodes.get(ino)?;
            let s = nix::sys::statvfs::fstatvfs(inode.fd())?;
            let u32_of = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
            Ok(StatvfsData {
                bsize: u32_of(s.block_size()),
                frsize: u32_of(s.fragment_size()),
                blocks: s.blocks(),
                bfree: s.blocks_free(),
                bavail: s.blocks_available(),
                files: s.files(),
                ffree: s.files_free(),
                favail: s.files_available(),
                namemax: u32_of(s.name_max()),
            })
        })
        .await
    }

    async fn setxattr(&self, ino: Inode, name: &OsStr, value: &[u8], flags: i32) -> Result<()> {
        self.xattrs_enabled()?;
        let (name, value) = (name.to_owned(), value.to_vec());
        self.run(move |c| {
            let path = c.xattr_path(ino)?.ok_or_else(symlink_xattr)?;
            let flags = rustix::fs::XattrFlags::from_bits_retain(flags as u32);
            Ok(rustix::fs::setxattr(
                path.as_c_str(),
                name.as_os_str(),
                &value,
                flags,
            )?)
        })
        .await
    }

    async fn getxattr(&self, ino: Inode, name: &OsStr) -> Result<Bytes> {
        self.xattrs_enabled()?;
        let name = name.to_owned();
        self.run(move |c| {
            let Some(path) = c.xattr_path(ino)? else {
                return Err(io::Error::from_raw_os_error(libc::ENODATA));
            };
            let value = read_sized(
                |buf| rustix::fs::getxattr(path.as_c_str(), name.as_os_str(), buf),
                || rustix::fs::getxattr_query(path.as_c_str(), name.as_os_str()),
            )?;
            Ok(Bytes::from(value))
        })
        .await
    }

    async fn listxattr(&self, ino: Inode) -> Result<Vec<OsString>> {
        self.xattrs_enabled()?;
        self.run(move |c| {
            let Some(path) = c.xattr_path(ino)? else {
                return Ok(Vec::new());
            };
            let list = read_sized(
                |buf| rustix::fs::listxattr(path.as_c_str(), buf),
                || rustix::fs::listxattr_query(path.as_c_str()),
            )?;
            Ok(list
                .split(|&b| b == 0)
                .filter(|n| !n.is_empty())
                .map(|n| OsStr::from_bytes(n).to_owned())
                .collect())
        })
        .await
    }

    async fn removexattr(&self, ino: Inode, name: &OsStr) -> Result<()> {
        self.xattrs_enabled()?;
        let name = name.to_owned();
        self.run(move |c| {
            let path = c.xattr_path(ino)?.ok_or_else(symlink_xattr)?;
            Ok(rustix::fs::removexattr(path.as_c_str(), name.as_os_str())?)
        })
        .await
    }

    async fn fallocate(
        &self,
        _ino: Inode,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
    ) -> Result<()> {
        let f = self.core.files.get(fh)?;
        self.run(move |_| {
            let flags = nix::fcntl::FallocateFlags::from_bits_retain(mode);
            let (offset, length) = (to_off(offset)?, to_off(length)?);
            Ok(nix::fcntl::fallocate(&f.file, flags, offset, length)?)
        })
        .await
    }

    async fn lseek(&self, _ino: Inode, fh: FileHandle, offset: u64, whence: i32) -> Result<u64> {
        let f = self.core.files.get(fh)?;
        let whence = match whence {
            libc::SEEK_DATA => nix::unistd::Whence::SeekData,
            libc::SEEK_HOLE => nix::unistd::Whence::SeekHole,
            _ => return Err(Errno::EINVAL),
        };
        self.run(move |_| {
            let pos = nix::unistd::lseek(&f.file, to_off(offset)?, whence)?;
            Ok(pos as u64)
        })
        .await
    }

    async fn copy_file_range(
        &self,
        _ino_in: Inode,
        fh_in: FileHandle,
        offset_in: u64,
        _ino_out: Inode,
        fh_out: FileHandle,
        offset_out: u64,
        len: u64,
        flags: u64,
    ) -> Result<u64> {
        if flags != 0 {
            return Err(Errno::EINVAL);
        }
        let (from, to) = (self.core.files.get(fh_in)?, self.core.files.get(fh_out)?);
        self.run(move |_| {
            let (mut off_in, mut off_out) = (to_off(offset_in)?, to_off(offset_out)?);
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            let n = nix::fcntl::copy_file_range(
                &from.file,
                Some(&mut off_in),
                &to.file,
                Some(&mut off_out),
                len,
            )?;
            Ok(n as u64)
        })
        .await
    }
}

/// Helpers of the handlers (not handlers themselves).
impl Passthrough {
    /// `ENOSYS` with `--no-xattr`: the kernel remembers it and sends no more xattr requests.
    fn xattrs_enabled(&self) -> Result<()> {
        if self.core.config.xattr {
            Ok(())
        } else {
            Err(Errno::ENOSYS)
        }
    }

    /// `unlink` and `rmdir`: removes `name` from `parent` in the source.
    async fn remove(&self, parent: Inode, name: &OsStr, how: UnlinkatFlags) -> Result<()> {
        let name = name.to_owned();
        self.run(move |c| {
            let dir = c.inodes.get(parent)?;
            Ok(nix::unistd::unlinkat(dir.fd(), name.as_os_str(), how)?)
        })
        .await
    }

    /// Runs `f` on the shared state in a blocking section.
    async fn run<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Core) -> io::Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let core = self.core.clone();
        blocking(move || f(&core)).await.map_err(Errno::from)
    }
}

/// Setting or removing an xattr of a symlink: refused, as Linux does for `user.*` names.
fn symlink_xattr() -> io::Error {
    io::Error::from_raw_os_error(libc::EPERM)
}

pub fn to_off(v: u64) -> io::Result<i64> {
    i64::try_from(v).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn write_all_at(file: &File, data: &[u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < data.len() {
        match file.write_at(&data[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // What was written counts; the caller sees the error on its next write.
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Reads a value whose size is unknown (xattr value or list): one call with a 4 KiB buffer,
/// and on `ERANGE` as many as it takes with the size the source reports.
fn read_sized(
    mut read: impl FnMut(rustix::buffer::SpareCapacity<'_, u8>) -> rustix::io::Result<usize>,
    size: impl Fn() -> rustix::io::Result<usize>,
) -> io::Result<Vec<u8>> {
    let mut cap = 4096;
    loop {
        let mut buf = Vec::with_capacity(cap);
        match read(rustix::buffer::spare_capacity(&mut buf)) {
            Ok(_) => return Ok(buf),
            Err(rustix::io::Errno::RANGE) => cap = size()?.max(cap + 1),
            Err(e) => return Err(e.into()),
        }
    }
}
