//! The shared state behind the handlers ([`Core`]) and the system-call sequences they run in
//! their blocking sections: lookups, opens, attribute changes, directory batches.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fusegen::OpenFlags;
use fusegen::prelude::*;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};

use crate::files::{DirEntry, Handles, OpenDir, OpenFile};
use crate::handlers::to_off;
use crate::inodes::{InodeData, Inodes};
use crate::sys::{self, proc_path, reopen, stat_fd};

/// Choices made at startup.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Keep cached file data across opens (`-o kernel_cache`/`auto_cache`): faster rereads,
    /// but data changed in the source while the kernel keeps its attributes stays stale until
    /// they expire. Off: every open starts from the source (close-to-open consistency).
    pub keep_cache: bool,
    /// Serve extended attributes (`--no-xattr` turns them off: the kernel then stops asking
    /// for `security.capability` before every write).
    pub xattr: bool,
}

/// State shared by the handlers and their blocking sections.
#[derive(Debug)]
pub struct Core {
    pub inodes: Inodes,
    pub files: Handles<OpenFile>,
    pub dirs: Handles<OpenDir>,
    pub config: Config,
    /// Granted at INIT: the kernel caches writes (`-o writeback_cache`).
    pub writeback: AtomicBool,
    /// Granted at INIT: opens may hand the kernel a backing file.
    pub kernel_passthrough: AtomicBool,
}

impl Core {
    /// Empty tables around the source's root directory `root` (whose `stat` is `st`).
    pub fn new(root: std::os::fd::OwnedFd, st: &nix::sys::stat::FileStat, config: Config) -> Core {
        Core {
            inodes: Inodes::new(root, st),
            files: Handles::new(),
            dirs: Handles::new(),
            config,
            writeback: AtomicBool::new(false),
            kernel_passthrough: AtomicBool::new(false),
        }
    }

    /// Whether the kernel caches writes (granted at INIT).
    pub fn writeback(&self) -> bool {
        self.writeback.load(Ordering::Relaxed)
    }

    /// Looks `name` up in `dir`: one more lookup of the file, and its attributes.
    pub fn lookup(&self, dir: &InodeData, name: &OsStr) -> io::Result<EntryAttributes> {
        let fd = sys::open_path(dir.fd(), name)?;
        let st = stat_fd(&fd)?;
        let ino = self.inodes.remember(fd, &st);
        Ok(sys::attributes(ino, &st))
    }

    /// [`lookup`](Self::lookup) for a READDIRPLUS entry: the entry is held, not counted; the
    /// reply counts the lookups of the entries it takes and the holds go after it.
    fn lookup_held(&self, dir: &InodeData, name: &OsStr) -> io::Result<EntryAttributes> {
        let fd = sys::open_path(dir.fd(), name)?;
        let st = stat_fd(&fd)?;
        let ino = self.inodes.remember_held(fd, &st);
        Ok(sys::attributes(ino, &st))
    }

    /// Registers a file just created and opened (`create`, `tmpfile`) with the kernel's open
    /// `flags`: one lookup and one open.
    pub fn new_open_file(&self, file: File, flags: i32) -> io::Result<(FileInfo, EntryAttributes)> {
        let path = reopen(file.as_fd(), OFlag::O_PATH)?;
        let st = stat_fd(&file)?;
        let ino = self.inodes.remember(path, &st);
        let inode = self.inodes.get(ino)?;
        Ok((self.opened(inode, file, flags), sys::attributes(ino, &st)))
    }

    /// A handle for a new open of `inode` with the kernel's open `flags`, and the open reply.
    pub fn opened(&self, inode: Arc<InodeData>, file: File, flags: i32) -> FileInfo {
        let backing = self.backing(&inode);
        let fh = self.files.insert(OpenFile::new(file));
        let mut info = FileInfo::new(fh).keep_cache(self.config.keep_cache);
        info.flags |= reply_flags(flags, backing.is_some());
        match backing {
            // The kernel refuses cached-data flags on passthrough opens.
            Some(b) => info.keep_cache(false).with_backing(b),
            None => info,
        }
    }

    /// The backing file for kernel passthrough, when granted: a duplicate of the inode's
    /// `O_PATH` descriptor (the kernel opens its own file on that path with each open's flags).
    /// The runtime registers it with the kernel, which keeps its own reference, and drops it
    /// after the reply, so an inode costs one descriptor here however often it was opened;
    /// concurrent opens of an inode share the first one's registration.
    fn backing(&self, inode: &InodeData) -> Option<BackingFile> {
        if !self.kernel_passthrough.load(Ordering::Relaxed) || inode.kind != FileType::RegularFile {
            return None;
        }
        inode.fd.try_clone().ok().map(BackingFile::new)
    }

    /// Applies a `setattr` to the source: mode, owner, size, then times (a chown may clear
    /// setuid bits, and the kernel sends the mode it wants after that in the same request).
    pub fn setattr(
        &self,
        inode: &InodeData,
        set: &SetAttr,
        fh: Option<FileHandle>,
    ) -> io::Result<()> {
        if let Some(mode) = set.mode {
            if inode.kind == FileType::Symlink {
                return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
            }
            nix::sys::stat::fchmodat(
                nix::fcntl::AT_FDCWD,
                proc_path(inode.fd()).as_c_str(),
                Mode::from_bits_truncate(mode & 0o7777),
                nix::sys::stat::FchmodatFlags::FollowSymlink,
            )?;
        }
        if set.uid.is_some() || set.gid.is_some() {
            nix::unistd::fchownat(
                inode.fd(),
                "",
                set.uid.map(Uid::from_raw),
                set.gid.map(Gid::from_raw),
                AtFlags::AT_EMPTY_PATH | AtFlags::AT_SYMLINK_NOFOLLOW,
            )?;
        }
        if let Some(size) = set.size {
            // ftruncate(2) on the caller's open file when the kernel names one, else (or if
            // that descriptor is not writable) truncate(2) by path.
            let open = fh.and_then(|fh| self.files.get(fh).ok());
            let by_fd = open.map(|f| f.file.set_len(size));
            if !matches!(by_fd, Some(Ok(()))) {
                nix::unistd::truncate(proc_path(inode.fd()).as_c_str(), to_off(size)?)?;
            }
        }
        if set.atime.is_some() || set.mtime.is_some() {
            let times = rustix::fs::Timestamps {
                last_access: sys::timestamp(set.atime),
                last_modification: sys::timestamp(set.mtime),
            };
            rustix::fs::utimensat(inode.fd(), "", &times, rustix::fs::AtFlags::EMPTY_PATH)?;
        }
        Ok(())
    }

    /// Reads the entries of `dir` from `offset`, looking each up (held, see
    /// [`Inodes::remember_held`]) for READDIRPLUS; an entry that vanished before its lookup
    /// comes back without attributes (and is skipped). On error no hold is left behind.
    pub fn read_dir(
        &self,
        ino: Inode,
        dir: &OpenDir,
        offset: u64,
        plus: bool,
    ) -> io::Result<Vec<(DirEntry, Option<EntryAttributes>)>> {
        let mut out = Vec::new();
        let result = self.read_dir_into(ino, dir, offset, plus, &mut out);
        if result.is_err() {
            self.inodes.release(&held(&out, plus));
        }
        result.map(|()| out)
    }

    fn read_dir_into(
        &self,
        ino: Inode,
        dir: &OpenDir,
        offset: u64,
        plus: bool,
        out: &mut Vec<(DirEntry, Option<EntryAttributes>)>,
    ) -> io::Result<()> {
        let entries = dir.peek(offset, plus)?;
        let dev = dir.inode.key.0;
        out.reserve(entries.len());
        for e in entries {
            let attr = if e.is_dot_or_dotdot() {
                // Dots are never looked up: the kernel takes no reference for them.
                let n = if e.name == "." {
                    ino
                } else {
                    self.inodes.peek((dev, e.ino))
                };
                Some(EntryAttributes::new(n, FileType::Directory, 0))
            } else if !plus {
                // Plain READDIR: inode number and type only. Sources that do not report
                // types in directory entries (DT_UNKNOWN) are asked with a stat.
                let kind = match e.kind {
                    Some(kind) => Some(kind),
                    None => match nix::sys::stat::fstatat(
                        dir.inode.fd(),
                        e.name.as_os_str(),
                        AtFlags::AT_SYMLINK_NOFOLLOW,
                    ) {
                        Ok(st) => FileType::from_mode(st.st_mode),
                        Err(nix::Error::ENOENT) => None,
                        Err(err) => return Err(err.into()),
                    },
                };
                let n = self.inodes.peek((dev, e.ino));
                kind.map(|kind| EntryAttributes::new(n, kind, 0))
            } else {
                match self.lookup_held(&dir.inode, &e.name) {
                    Ok(a) => Some(a),
                    Err(err) if err.raw_os_error() == Some(libc::ENOENT) => None,
                    Err(err) => return Err(err),
                }
            };
            out.push((e, attr));
        }
        Ok(())
    }

    /// `/proc/self/fd/N` of `ino` for the path-based xattr calls, which do not take `O_PATH`
    /// descriptors. `None` for symlinks: the path would reach the link's target, and no call
    /// reaches a symlink itself from a descriptor.
    pub fn xattr_path(&self, ino: Inode) -> io::Result<Option<std::ffi::CString>> {
        let inode = self.inodes.get(ino)?;
        Ok((inode.kind != FileType::Symlink).then(|| proc_path(inode.fd())))
    }
}

/// The inodes [`Core::read_dir`] holds for a batch: READDIRPLUS entries other than the dots.
pub fn held(batch: &[(DirEntry, Option<EntryAttributes>)], plus: bool) -> Vec<Inode> {
    if !plus {
        return Vec::new();
    }
    batch
        .iter()
        .filter(|(e, _)| !e.is_dot_or_dotdot())
        .filter_map(|(_, attr)| attr.map(|a| a.ino))
        .collect()
}

/// The open reply's flags for an open with the kernel's `flags`, served by the handlers or,
/// with `backing`, by the kernel from the source.
fn reply_flags(flags: i32, backing: bool) -> OpenFlags {
    let mut reply = OpenFlags::PARALLEL_DIRECT_WRITES;
    if flags & libc::O_ACCMODE == libc::O_RDONLY {
        // Closing a read-only descriptor writes nothing back in the source, so its FLUSH would
        // be a round trip for nothing (this filesystem has no lock handlers: the kernel keeps
        // POSIX locks itself, and FLUSH releases none).
        reply |= OpenFlags::NOFLUSH;
    }
    if flags & libc::O_DIRECT != 0 && !backing {
        // O_DIRECT reads and writes then go to the handlers as plain requests, not through the
        // kernel's asynchronous direct-I/O path (which costs a completion per request), and
        // PARALLEL_DIRECT_WRITES applies (the kernel honours it only with DIRECT_IO).
        reply |= OpenFlags::DIRECT_IO;
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_opens_skip_flush_and_direct_opens_bypass_the_cache() {
        let rd = reply_flags(libc::O_RDONLY, false);
        assert!(rd.contains(OpenFlags::NOFLUSH) && !rd.contains(OpenFlags::DIRECT_IO));
        let wr = reply_flags(libc::O_WRONLY, false);
        assert!(!wr.contains(OpenFlags::NOFLUSH));
        assert!(!reply_flags(libc::O_RDWR | libc::O_APPEND, false).contains(OpenFlags::NOFLUSH));
        let direct = reply_flags(libc::O_RDWR | libc::O_DIRECT, false);
        assert!(direct.contains(OpenFlags::DIRECT_IO | OpenFlags::PARALLEL_DIRECT_WRITES));
        // The kernel serves a passthrough open itself and refuses DIRECT_IO with a backing file.
        assert!(!reply_flags(libc::O_RDWR | libc::O_DIRECT, true).contains(OpenFlags::DIRECT_IO));
    }
}
