//! `FUSE_HANDLE_KILLPRIV_V2`: the runtime clears setuid/setgid on write and truncate by
//! callers without `CAP_FSETID`, so the kernel stops asking for `security.capability` before
//! writes. Checked on a small writable filesystem that counts requests, and on the `memfs` and
//! `passthrough` examples through real writes by another user.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use fusegen::{
    EntryAttributes, Errno, FileHandle, FileInfo, FileType, Handlers, Inode, MountOptions,
    Operations, RequestContext, Result, SetAttr, Workers,
};

use crate::memfs::Memfs;
use crate::mount::common::{CALL_TIMEOUT, TestMount, fuse_available, within};
use crate::passthrough::{HANDLERS, Mirror};

const CAPABILITY: &str = "security.capability";
/// The unprivileged user writes run as (no `CAP_FSETID`).
const NOBODY: u32 = 65534;

/// What the filesystem saw.
#[derive(Debug, Default)]
struct Seen {
    /// `getxattr` and `removexattr` calls, by attribute name.
    getxattr: BTreeMap<OsString, usize>,
    removexattr: BTreeMap<OsString, usize>,
    writes: usize,
}

#[derive(Debug, Clone)]
struct Node {
    name: OsString,
    mode: u32,
    uid: u32,
    size: u64,
}

/// A flat directory of files that keep only their size: enough for writes, truncates and
/// creates, with every xattr call counted.
#[derive(Default)]
struct Flat {
    nodes: Mutex<BTreeMap<u64, Node>>,
    seen: Arc<Mutex<Seen>>,
}

impl Flat {
    fn attr(ino: u64, n: &Node) -> EntryAttributes {
        let mut a =
            EntryAttributes::new(Inode(ino), FileType::RegularFile, n.mode).with_size(n.size);
        a.uid = n.uid;
        a
    }

    fn mode_of(&self, name: &str) -> u32 {
        let nodes = self.nodes.lock().unwrap();
        let n = nodes
            .values()
            .find(|n| n.name == name)
            .expect("file exists");
        n.mode & 0o7777
    }

    fn add(&self, name: &str, mode: u32, uid: u32) {
        let mut nodes = self.nodes.lock().unwrap();
        let ino = nodes.len() as u64 + 2;
        let name = name.into();
        nodes.insert(
            ino,
            Node {
                name,
                mode,
                uid,
                size: 0,
            },
        );
    }
}

impl Operations for Flat {
    const HANDLERS: Handlers = Handlers::LOOKUP
        .union(Handlers::GETATTR)
        .union(Handlers::SETATTR)
        .union(Handlers::WRITE)
        .union(Handlers::CREATE)
        .union(Handlers::GETXATTR)
        .union(Handlers::REMOVEXATTR);

    async fn lookup(
        &self,
        parent: Inode,
        name: &OsStr,
        _: &RequestContext,
    ) -> Result<EntryAttributes> {
        if parent != Inode::ROOT {
            return Err(Errno::ENOENT);
        }
        let nodes = self.nodes.lock().unwrap();
        let (ino, n) = nodes
            .iter()
            .find(|(_, n)| n.name == name)
            .ok_or(Errno::ENOENT)?;
        Ok(Flat::attr(*ino, n))
    }

    async fn getattr(
        &self,
        ino: Inode,
        _: Option<FileHandle>,
        _: &RequestContext,
    ) -> Result<EntryAttributes> {
        if ino == Inode::ROOT {
            return Ok(EntryAttributes::new(ino, FileType::Directory, 0o777));
        }
        let nodes = self.nodes.lock().unwrap();
        nodes
            .get(&ino.0)
            .map(|n| Flat::attr(ino.0, n))
            .ok_or(Errno::ENOENT)
    }

    async fn setattr(
        &self,
        ino: Inode,
        set: &SetAttr,
        _: Option<FileHandle>,
        _: &RequestContext,
    ) -> Result<EntryAttributes> {
        let mut nodes = self.nodes.lock().unwrap();
        let n = nodes.get_mut(&ino.0).ok_or(Errno::ENOENT)?;
        if let Some(mode) = set.mode {
            n.mode = mode & 0o7777;
        }
        if let Some(uid) = set.uid {
            n.uid = uid;
        }
        if let Some(size) = set.size {
            n.size = size;
        }
        Ok(Flat::attr(ino.0, n))
    }

    async fn write(
        &self,
        ino: Inode,
        _: FileHandle,
        offset: u64,
        data: &[u8],
        _: &RequestContext,
    ) -> Result<u32> {
        self.seen.lock().unwrap().writes += 1;
        let mut nodes = self.nodes.lock().unwrap();
        let n = nodes.get_mut(&ino.0).ok_or(Errno::ENOENT)?;
        n.size = n.size.max(offset + data.len() as u64);
        Ok(data.len() as u32)
    }

    async fn create(
        &self,
        parent: Inode,
        name: &OsStr,
        mode: u32,
        _flags: i32,
        ctx: &RequestContext,
    ) -> Result<(FileInfo, EntryAttributes)> {
        if parent != Inode::ROOT {
            return Err(Errno::ENOENT);
        }
        let mut nodes = self.nodes.lock().unwrap();
        let ino = nodes.len() as u64 + 2;
        let n = Node {
            name: name.to_owned(),
            mode: mode & 0o7777 & !ctx.umask,
            uid: ctx.uid,
            size: 0,
        };
        let attr = Flat::attr(ino, &n);
        nodes.insert(ino, n);
        Ok((FileInfo::new(FileHandle(0)), attr))
    }

    async fn getxattr(&self, _: Inode, name: &OsStr, _: &RequestContext) -> Result<fusegen::Bytes> {
        *self
            .seen
            .lock()
            .unwrap()
            .getxattr
            .entry(name.to_owned())
            .or_default() += 1;
        Err(Errno::ENODATA)
    }

    async fn removexattr(&self, _: Inode, name: &OsStr, _: &RequestContext) -> Result<()> {
        *self
            .seen
            .lock()
            .unwrap()
            .removexattr
            .entry(name.to_owned())
            .or_default() += 1;
        Err(Errno::ENODATA)
    }
}

fn mount_flat(test: &str, extra: &str) -> Option<(TestMount, Arc<Mutex<Seen>>)> {
    fuse_available(test)?;
    let mut options = MountOptions::default();
    options.set("allow_other").unwrap();
    if !extra.is_empty() {
        options.set(extra).unwrap();
    }
    let fs = Flat::default();
    let seen = fs.seen.clone();
    let m = TestMount::start(fs, options, Workers::default()).expect("mount");
    Some((m, seen))
}

fn probes(seen: &Mutex<Seen>) -> usize {
    let seen = seen.lock().unwrap();
    seen.getxattr
        .get(OsStr::new(CAPABILITY))
        .copied()
        .unwrap_or(0)
}

/// Files [`write_some`] writes: 20 small ones and a big one.
const FILES: usize = 21;
/// `write(2)` calls [`write_some`] makes.
const WRITES: usize = 28;

/// Writes 20 small files, then one file in eight writes of 128 KiB.
fn write_some(root: PathBuf) {
    within(CALL_TIMEOUT, "writes", move || {
        for i in 0..20 {
            fs::write(root.join(format!("small{i}")), b"hello").unwrap();
        }
        let mut f = fs::File::create(root.join("big")).unwrap();
        for _ in 0..8 {
            f.write_all(&[7u8; 128 << 10]).unwrap();
        }
    });
}

/// With the capability granted the kernel latches "no privileges here" on an inode after its
/// first write (`S_NOSEC`, until its attributes are next refreshed), so only that first write
/// is preceded by a `security.capability` probe instead of every one.
#[test]
fn writes_probe_the_capability_once_per_file() {
    let Some((m, seen)) = mount_flat("writes_probe_the_capability_once_per_file", "") else {
        return;
    };
    write_some(m.path().to_path_buf());
    let writes = seen.lock().unwrap().writes;
    assert!(
        writes >= WRITES,
        "every write(2) reached the filesystem ({writes})"
    );
    assert!(probes(&seen) <= FILES, "{:?}", seen.lock().unwrap());
}

/// The same writes with the option off: the kernel probes before writes, the cost the
/// option removes (and proof the count above can see probes).
#[test]
fn without_handle_killpriv_writes_probe_the_capability() {
    let test = "without_handle_killpriv_writes_probe_the_capability";
    let Some((m, seen)) = mount_flat(test, "no_handle_killpriv") else {
        return;
    };
    write_some(m.path().to_path_buf());
    assert!(probes(&seen) >= WRITES, "{:?}", seen.lock().unwrap());
}

/// `sh -c script file` as `uid`:`uid`; panics unless it succeeds.
fn sh_as(uid: u32, script: &str, file: &Path) {
    let (owned, file) = (script.to_owned(), file.to_owned());
    let status = within(CALL_TIMEOUT, "sh as another user", move || {
        let mut c = Command::new("sh");
        c.arg("-c").arg(&owned).arg(&file);
        if uid != 0 {
            c.uid(uid).gid(uid);
        }
        c.status().unwrap()
    });
    assert!(status.success(), "`{script}` as {uid} failed");
}

const APPEND: &str = "printf x >> \"$0\"";
const TRUNCATE: &str = "truncate -s 1 \"$0\"";

#[test]
fn runtime_clears_setuid_on_write_and_truncate_by_others() {
    let test = "runtime_clears_setuid_on_write_and_truncate_by_others";
    let Some((m, seen)) = mount_flat(test, "") else {
        return;
    };
    let mode = |name: &str| m.with_fs(|fs: &Flat| fs.mode_of(name));
    for (name, mode) in [
        ("w", 0o6777),
        ("t", 0o6777),
        ("nogx", 0o6767),
        ("root", 0o6777),
    ] {
        m.with_fs(|fs: &Flat| fs.add(name, mode, 1234));
    }
    sh_as(NOBODY, APPEND, &m.join("w"));
    assert_eq!(
        mode("w"),
        0o777,
        "write by another user clears setuid and setgid"
    );
    sh_as(NOBODY, TRUNCATE, &m.join("t"));
    assert_eq!(mode("t"), 0o777, "truncate by another user clears both");
    sh_as(NOBODY, APPEND, &m.join("nogx"));
    assert_eq!(mode("nogx"), 0o2767, "setgid without group-execute stays");
    sh_as(0, APPEND, &m.join("root"));
    sh_as(0, TRUNCATE, &m.join("root"));
    assert_eq!(mode("root"), 0o6777, "root (CAP_FSETID) keeps both");
    let seen = seen.lock().unwrap();
    assert!(
        seen.removexattr
            .get(OsStr::new(CAPABILITY))
            .is_some_and(|&n| n >= 3),
        "the capability xattr is dropped with the bits: {seen:?}"
    );
}

/// Mode bits of `path` as the kernel reports them to `statx(STATX_MODE)`: unlike a full
/// `stat`, which refetches attributes a write made stale (size, times), this is answered
/// from the kernel's cache until the attribute timeout, so it shows a stale setuid bit.
fn perm(path: &Path) -> u32 {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    within(CALL_TIMEOUT, "statx", move || {
        // SAFETY: `statx` is plain data for which all-zero bytes are a valid value.
        let mut stx: libc::statx = unsafe { std::mem::zeroed() };
        // SAFETY: a NUL-terminated path and a properly sized, writable `statx` buffer, both
        // alive for the call.
        let r = unsafe { libc::statx(libc::AT_FDCWD, c.as_ptr(), 0, libc::STATX_MODE, &mut stx) };
        assert_eq!(r, 0, "statx: {}", std::io::Error::last_os_error());
        u32::from(stx.stx_mode) & 0o7777
    })
}

/// A file owned by 1234 with mode 6777 at `path`.
fn setuid_file(path: &Path) {
    let path = path.to_owned();
    within(CALL_TIMEOUT, "create", move || {
        fs::write(&path, b"#!/bin/sh\n").unwrap();
        std::os::unix::fs::chown(&path, Some(1234), Some(1234)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o6777)).unwrap();
    });
}

/// Write and truncate by `nobody` clear setuid/setgid, root's keep them, chown clears them for
/// anyone; `check` sees the bits where the filesystem keeps them.
fn posix_kill_semantics(mnt: &dyn Fn(&str) -> PathBuf, check: &dyn Fn(&str) -> u32) {
    for name in ["w", "t", "root", "chown"] {
        setuid_file(&mnt(name));
        assert_eq!(check(name), 0o6777);
    }
    sh_as(NOBODY, APPEND, &mnt("w"));
    assert_eq!(check("w"), 0o777, "write by another user");
    sh_as(NOBODY, TRUNCATE, &mnt("t"));
    assert_eq!(check("t"), 0o777, "truncate by another user");
    sh_as(0, APPEND, &mnt("root"));
    sh_as(0, TRUNCATE, &mnt("root"));
    assert_eq!(check("root"), 0o6777, "root keeps the bits");
    let chowned = mnt("chown");
    within(CALL_TIMEOUT, "chown", move || {
        std::os::unix::fs::chown(chowned, Some(4321), None).unwrap()
    });
    assert_eq!(check("chown"), 0o777, "chown, even by root");
    // Nothing stale in the kernel either (it would honour a cached setuid bit on exec).
    assert_eq!(perm(&mnt("w")), 0o777);
    assert_eq!(perm(&mnt("t")), 0o777);
    assert_eq!(perm(&mnt("root")), 0o6777);
    assert_eq!(perm(&mnt("chown")), 0o777);
}

#[test]
fn memfs_clears_setuid_on_write_by_others() {
    let Some(m) = Memfs::start(
        "memfs_clears_setuid_on_write_by_others",
        &["-o", "allow_other"],
    ) else {
        return;
    };
    posix_kill_semantics(&|n| m.join(n), &|n| perm(&m.join(n)));
}

/// With `-o atomic_o_trunc` an `open(O_TRUNC)` truncates inside OPEN, which the kernel
/// flags; without it the truncate is a SETATTR (covered above).
#[test]
fn memfs_open_with_o_trunc_clears_setuid() {
    let args = ["-o", "allow_other,atomic_o_trunc"];
    let Some(m) = Memfs::start("memfs_open_with_o_trunc_clears_setuid", &args) else {
        return;
    };
    setuid_file(&m.join("o"));
    sh_as(NOBODY, ": > \"$0\"", &m.join("o"));
    assert_eq!(perm(&m.join("o")), 0o777);
    assert_eq!(fs::metadata(m.join("o")).unwrap().len(), 0);
}

/// With `direct_io` the kernel never clears the bits itself, even without the capability: it
/// only flags the WRITE, so the runtime is the only one acting on it.
#[test]
fn memfs_direct_io_write_clears_setuid() {
    let args = ["-o", "allow_other,direct_io"];
    let Some(m) = Memfs::start("memfs_direct_io_write_clears_setuid", &args) else {
        return;
    };
    setuid_file(&m.join("d"));
    sh_as(NOBODY, APPEND, &m.join("d"));
    assert_eq!(perm(&m.join("d")), 0o777);
}

/// Kernel passthrough: writes go to the backing file without a WRITE request, so the runtime
/// cannot clear anything and must leave it to the kernel (no `FUSE_HANDLE_KILLPRIV_V2`).
#[test]
fn passthrough_kernel_mode_clears_setuid_on_write_by_others() {
    let test = "passthrough_kernel_mode_clears_setuid_on_write_by_others";
    let Some(m) = Mirror::start(test, &["-o", "allow_other"]) else {
        return;
    };
    mirror_kill_semantics(&m);
}

#[test]
fn passthrough_clears_setuid_on_write_by_others() {
    let args = [HANDLERS, &["-o", "allow_other"]].concat();
    let Some(m) = Mirror::start("passthrough_clears_setuid_on_write_by_others", &args) else {
        return;
    };
    mirror_kill_semantics(&m);
}

/// Through `passthrough` (which serves xattrs) only a file's first write costs a
/// `security.capability` probe: `-o debug` logs every request.
#[test]
fn passthrough_writes_probe_once_per_file() {
    let args = [HANDLERS, &["-o", "debug"]].concat();
    let Some(m) = Mirror::start("passthrough_writes_probe_once_per_file", &args) else {
        return;
    };
    write_some(m.m(""));
    let log = m.log_text();
    let writes = log.matches("\"WRITE\"").count();
    assert!(writes >= WRITES, "{writes} writes logged");
    let probes = log.matches("\"GETXATTR\"").count();
    assert!(probes <= FILES, "{probes} GETXATTR for {writes} writes");
    // The big file keeps its data whatever the kill did.
    assert_eq!(fs::metadata(m.s("big")).unwrap().len(), 8 * (128 << 10));
}

/// [`posix_kill_semantics`] through a `passthrough` mount, checked on the source, which holds
/// the truth: the daemon writes as root, so the host kernel never clears anything by itself.
fn mirror_kill_semantics(m: &Mirror) {
    posix_kill_semantics(&|n| m.m(n), &|n| {
        fs::metadata(m.s(n)).unwrap().mode() & 0o7777
    });
}
