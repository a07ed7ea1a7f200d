//! Path-level filesystems (`fusegen::paths`): the `kvfs` example as a user runs it, and a
//! small in-process one for what only the runtime can show (inodes it keeps and drops).

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use fusegen::paths::{DirEntry, PathFs, PathOperations};
use fusegen::{
    EntryAttributes, Errno, FileHandle, FileType, Handlers, Inode, RequestContext, Result,
};

use crate::examples::Example;
use crate::mount::common::{CALL_TIMEOUT, TestMount, eventually, fuse_available, within};
use crate::mount::gate::Gate;

fn on<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(CALL_TIMEOUT, what, f)
}

fn names(dir: &Path) -> Vec<String> {
    let dir = dir.to_path_buf();
    let mut names: Vec<String> = on("readdir", move || {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    });
    names.sort();
    names
}

#[test]
fn kvfs_renaming_a_directory_moves_everything_under_it() {
    let Some(()) = fuse_available("kvfs_renaming_a_directory_moves_everything_under_it") else {
        return;
    };
    let ex = Example::start("kvfs", &[]);
    let root = ex.path().to_path_buf();
    on("build a tree", {
        let root = root.clone();
        move || {
            fs::create_dir_all(root.join("users/admins")).unwrap();
            fs::write(root.join("users/1"), "alice").unwrap();
            fs::write(root.join("users/admins/2"), "bob").unwrap();
        }
    });
    // Held open across the rename: the runtime follows it.
    let mut held = on("open", {
        let root = root.clone();
        move || fs::File::open(root.join("users/admins/2")).unwrap()
    });
    on("rename", {
        let root = root.clone();
        move || fs::rename(root.join("users"), root.join("people")).unwrap()
    });
    assert_eq!(names(&root), ["people"]);
    assert_eq!(names(&root.join("people")), ["1", "admins"]);
    let read = |p: &str| {
        let p = root.join(p);
        on("read", move || fs::read_to_string(p).unwrap())
    };
    assert_eq!(read("people/1"), "alice");
    assert_eq!(read("people/admins/2"), "bob");
    let mut s = String::new();
    held.read_to_string(&mut s).unwrap();
    assert_eq!(s, "bob");
    let err = on("stat the old path", {
        let root = root.clone();
        move || fs::metadata(root.join("users/1")).unwrap_err()
    });
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    on("remove the tree", {
        let root = root.clone();
        move || fs::remove_dir_all(root.join("people")).unwrap()
    });
    assert!(names(&root).is_empty());
    ex.interrupt();
}

#[test]
fn kvfs_unlinked_and_replaced_files_stay_usable_through_their_descriptors() {
    let Some(()) =
        fuse_available("kvfs_unlinked_and_replaced_files_stay_usable_through_their_descriptors")
    else {
        return;
    };
    let ex = Example::start("kvfs", &[]);
    let root = ex.path().to_path_buf();
    let (nlink, data, replaced, new_content) = on("unlink and replace while open", move || {
        fs::write(root.join("gone"), "first").unwrap();
        let mut f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(root.join("gone"))
            .unwrap();
        fs::remove_file(root.join("gone")).unwrap();
        f.seek(SeekFrom::End(0)).unwrap();
        f.write_all(b"+more").unwrap();
        let nlink = f.metadata().unwrap().nlink();
        let mut data = String::new();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.read_to_string(&mut data).unwrap();

        fs::write(root.join("old"), "old").unwrap();
        let mut old = fs::File::open(root.join("old")).unwrap();
        fs::write(root.join("new"), "new").unwrap();
        fs::rename(root.join("new"), root.join("old")).unwrap();
        let mut replaced = String::new();
        old.read_to_string(&mut replaced).unwrap();
        (
            nlink,
            data,
            replaced,
            fs::read_to_string(root.join("old")).unwrap(),
        )
    });
    assert_eq!(nlink, 0, "fstat of an unlinked file");
    assert_eq!(data, "first+more");
    assert_eq!(replaced, "old", "the replaced file through its descriptor");
    assert_eq!(new_content, "new", "the name now holds the new file");
    ex.interrupt();
}

#[test]
fn kvfs_hard_links_are_one_inode() {
    let Some(()) = fuse_available("kvfs_hard_links_are_one_inode") else {
        return;
    };
    let ex = Example::start("kvfs", &[]);
    let root = ex.path().to_path_buf();
    let (a, b, after) = on("link", move || {
        fs::create_dir(root.join("d")).unwrap();
        fs::write(root.join("f"), "shared").unwrap();
        fs::hard_link(root.join("f"), root.join("d/g")).unwrap();
        let a = fs::metadata(root.join("f")).unwrap();
        let b = fs::metadata(root.join("d/g")).unwrap();
        fs::remove_file(root.join("f")).unwrap();
        let after = fs::read_to_string(root.join("d/g")).unwrap();
        ((a.ino(), a.nlink()), (b.ino(), b.nlink()), after)
    });
    assert_eq!(a, b, "one inode with two names");
    assert_eq!(a.1, 2);
    assert_eq!(after, "shared");
    ex.interrupt();
}

#[test]
fn kvfs_lists_a_large_directory_over_several_readdir_requests() {
    let Some(()) = fuse_available("kvfs_lists_a_large_directory_over_several_readdir_requests")
    else {
        return;
    };
    let ex = Example::start("kvfs", &[]);
    let root = ex.path().to_path_buf();
    const FILES: usize = 3000;
    on("create files", {
        let root = root.clone();
        move || {
            for i in 0..FILES {
                fs::write(root.join(format!("file-with-a-long-name-{i:05}")), "x").unwrap();
            }
        }
    });
    let listed = names(&root);
    assert_eq!(listed.len(), FILES);
    listed.windows(2).for_each(|w| assert_ne!(w[0], w[1]));
    // Sizes come from READDIRPLUS attributes or lookups; either way every entry has one.
    let sizes = on("stat every entry", move || {
        fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum::<u64>()
    });
    assert_eq!(sizes, FILES as u64);
    ex.interrupt();
}

/// A read-only path filesystem of `count` empty files in the root.
struct Flat {
    count: usize,
}

impl PathOperations for Flat {
    const HANDLERS: Handlers = Handlers::GETATTR.union(Handlers::READDIR);

    async fn getattr(
        &self,
        path: &Path,
        _fh: Option<FileHandle>,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        let mut attr = match path.to_str() {
            Some("/") => EntryAttributes::new(Inode(0), FileType::Directory, 0o755),
            Some(p)
                if self
                    .names()
                    .any(|n| p.strip_prefix('/') == Some(n.as_str())) =>
            {
                EntryAttributes::new(Inode(0), FileType::RegularFile, 0o644)
            }
            _ => return Err(Errno::ENOENT),
        };
        // Long timeouts: the kernel keeps what it looked up until caches are dropped.
        attr.entry_timeout = std::time::Duration::from_secs(3600);
        attr.attr_timeout = std::time::Duration::from_secs(3600);
        Ok(attr)
    }

    async fn readdir(
        &self,
        _path: &Path,
        _fh: FileHandle,
        _ctx: &RequestContext,
    ) -> Result<Vec<DirEntry>> {
        Ok(self
            .names()
            .map(|n| DirEntry::new(n, FileType::RegularFile))
            .collect())
    }
}

impl Flat {
    fn names(&self) -> impl Iterator<Item = String> {
        (0..self.count).map(|i| format!("f{i}"))
    }
}

#[test]
fn path_fs_drops_the_inodes_the_kernel_forgets() {
    let Some(()) = fuse_available("path_fs_drops_the_inodes_the_kernel_forgets") else {
        return;
    };
    const FILES: usize = 500;
    let m = TestMount::new(PathFs::new(Flat { count: FILES }));
    let root = m.path().to_path_buf();
    let stated = on("stat every file", move || {
        (0..FILES)
            .filter(|i| fs::metadata(root.join(format!("f{i}"))).is_ok())
            .count()
    });
    assert_eq!(stated, FILES);
    let held = m.with_fs(|fs: &PathFs<Flat>| fs.inodes());
    assert!(held > FILES, "{held} inodes held after {FILES} lookups");
    // Dropping the kernel's dentry and inode caches makes it FORGET them.
    fs::write("/proc/sys/vm/drop_caches", "2").unwrap();
    eventually("the forgotten inodes to be dropped", || {
        m.with_fs(|fs: &PathFs<Flat>| fs.inodes()) < 10
    });
}

/// A synchronous path filesystem written with the macros: `getattr` of a name starting with
/// `slow` blocks its thread until the test opens the gate.
#[derive(fusegen::Filesystem)]
struct Gated {
    gate: Gate,
}

#[fusegen::handlers(paths, blocking)]
impl Gated {
    fn getattr(&self, path: &Path, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        let name = path.to_str().ok_or(Errno::ENOENT)?;
        if name == "/" {
            return Ok(EntryAttributes::new(Inode(0), FileType::Directory, 0o755));
        }
        if name.starts_with("/slow") {
            self.gate.wait();
        }
        if name == "/panic" {
            panic!("deliberate panic in a blocking handler");
        }
        Ok(EntryAttributes::new(Inode(0), FileType::RegularFile, 0o644))
    }
}

#[test]
fn blocking_handlers_run_off_the_workers() {
    let Some(()) = fuse_available("blocking_handlers_run_off_the_workers") else {
        return;
    };
    let gate = Gate::default();
    // Mounted as users mount it: the harness serves it through `PathFs` and `Blocking`.
    let Some(m) = TestMount::mount(Gated { gate: gate.clone() }) else {
        return;
    };
    // Dropped before the mount, also when an assertion fails: the blocked handlers return
    // and the mount can go instead of leaving their callers waiting.
    let _release = gate.open_on_drop();
    // More blocked calls than the runtime has worker threads: an async handler blocking its
    // thread like this would leave none to answer anything else.
    let blocked: Vec<_> = (0..8)
        .map(|i| {
            let p = m.join(&format!("slow{i}"));
            std::thread::spawn(move || fs::metadata(p).is_ok())
        })
        .collect();
    eventually("the slow lookups to be in their handlers", || {
        m.handle()
            .in_flight()
            .iter()
            .filter(|r| r.opcode == "LOOKUP")
            .count()
            == 8
    });
    let fast = m.join("fast");
    assert!(on("stat while 8 handlers block", move || fs::metadata(
        fast
    )
    .is_ok()));
    let p = m.join("panic");
    let err = on("stat of a panicking handler", move || {
        fs::metadata(p).unwrap_err()
    });
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    drop(_release);
    for t in blocked {
        assert!(t.join().unwrap(), "a released slow lookup succeeds");
    }
}
