//! Inode-level blocking handlers (`#[fusegen::handlers(blocking)]`): plain `fn`s run on
//! tokio's blocking pool, the filesystem reached there through the runtime's `Arc`.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};

use fusegen::prelude::*;

use crate::mount::common::{CALL_TIMEOUT, TestMount, eventually, within};
use crate::mount::gate::Gate;

fn on<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(CALL_TIMEOUT, what, f)
}

const FILES: u64 = 2000;

/// One flat directory of `FILES` files `f0`…, inode `i + 2` for `fi`, all in memory behind
/// a `std` mutex (the kind of lock a blocking handler may hold). A lookup of a name starting
/// with `slow` waits for the gate.
#[derive(Filesystem)]
struct Flat {
    data: Mutex<Vec<Vec<u8>>>,
    gate: Gate,
    /// The names of the threads `getattr` ran on.
    threads: Arc<Mutex<Vec<String>>>,
}

impl Flat {
    fn attr(&self, ino: Inode) -> Result<EntryAttributes> {
        if ino == Inode::ROOT {
            return Ok(EntryAttributes::new(ino, FileType::Directory, 0o755));
        }
        let data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        let file = ino
            .0
            .checked_sub(2)
            .and_then(|i| data.get(usize::try_from(i).ok()?))
            .ok_or(Errno::ENOENT)?;
        Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o644).with_size(file.len() as u64))
    }
}

#[fusegen::handlers(blocking)]
impl Flat {
    fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        if parent != Inode::ROOT {
            return Err(Errno::ENOENT);
        }
        let name = name.to_str().ok_or(Errno::ENOENT)?;
        if name.starts_with("slow") {
            self.gate.wait();
            return Err(Errno::ENOENT);
        }
        let i: u64 = name
            .strip_prefix('f')
            .and_then(|n| n.parse().ok())
            .ok_or(Errno::ENOENT)?;
        self.attr(Inode(i + 2))
    }

    fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        let thread = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_string();
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(thread);
        self.attr(ino)
    }

    fn readdir(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
    ) -> Result<()> {
        if ino != Inode::ROOT {
            return Err(Errno::ENOTDIR);
        }
        let dir = self.attr(Inode::ROOT)?;
        let mut entries = vec![(".".to_string(), dir), ("..".to_string(), dir)];
        for i in 0..FILES {
            // Full attributes: under READDIRPLUS the kernel caches them.
            entries.push((format!("f{i}"), self.attr(Inode(i + 2))?));
        }
        out.add_listing(offset, entries);
        Ok(())
    }

    fn read(&self, ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Vec<u8>> {
        let data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        let file = data
            .get(usize::try_from(ino.0 - 2).map_err(|_| Errno::EINVAL)?)
            .ok_or(Errno::ENOENT)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(file.len());
        let end = start.saturating_add(size as usize).min(file.len());
        Ok(file[start..end].to_vec())
    }

    fn write(&self, ino: Inode, _fh: FileHandle, offset: u64, data: &[u8]) -> Result<u32> {
        let mut files = self.data.lock().unwrap_or_else(|e| e.into_inner());
        let file = files
            .get_mut(usize::try_from(ino.0 - 2).map_err(|_| Errno::EINVAL)?)
            .ok_or(Errno::ENOENT)?;
        let start = usize::try_from(offset).map_err(|_| Errno::EFBIG)?;
        if file.len() < start + data.len() {
            file.resize(start + data.len(), 0);
        }
        file[start..start + data.len()].copy_from_slice(data);
        u32::try_from(data.len()).map_err(|_| Errno::EINVAL)
    }
}

fn mount() -> Option<(TestMount, Gate)> {
    let gate = Gate::default();
    let data = (0..FILES)
        .map(|i| format!("file {i}\n").into_bytes())
        .collect();
    let m = TestMount::mount(Flat {
        data: Mutex::new(data),
        gate: gate.clone(),
        threads: Arc::default(),
    })?;
    Some((m, gate))
}

#[test]
fn inode_level_blocking_handlers_serve_lookup_read_write_and_readdir() {
    let Some((m, _gate)) = mount() else {
        return;
    };
    let root = m.path().to_path_buf();
    // Over several READDIR requests: each fills a reply on the blocking pool.
    let mut names: Vec<String> = on("readdir", {
        let root = root.clone();
        move || {
            fs::read_dir(root)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        }
    });
    names.sort();
    names.dedup();
    assert_eq!(names.len(), FILES as usize);
    let f7 = root.join("f7");
    let (before, after) = on("read, write, read", move || {
        let before = fs::read_to_string(&f7).unwrap();
        let file = fs::OpenOptions::new().write(true).open(&f7).unwrap();
        file.write_all_at(b"FILE", 0).unwrap();
        file.write_all_at(b"seven\n", 7).unwrap();
        drop(file);
        (before, fs::read_to_string(&f7).unwrap())
    });
    assert_eq!(before, "file 7\n");
    assert_eq!(after, "FILE 7\nseven\n");
    // On `/dev/fuse` a blocking call runs on the reader thread that read its request; on
    // io_uring (whose queue threads serve a whole CPU each) it is handed to the blocking pool.
    let threads =
        m.with_fs(|fs: &fusegen::Blocking<Flat>| fs.get_ref().threads.lock().unwrap().clone());
    assert!(!threads.is_empty(), "getattr was called");
    match m.handle().transport() {
        Some(fusegen::ActiveTransport::Dev) => assert!(
            threads.iter().all(|t| t == "fusegen-reader"),
            "blocking getattr ran off the reader threads: {threads:?}"
        ),
        _ => assert!(
            threads.iter().all(|t| t != "fusegen-reader"),
            "blocking getattr ran on a /dev/fuse reader beside io_uring: {threads:?}"
        ),
    }
    let missing = root.join("nothing");
    let err = on("stat a missing name", move || {
        fs::metadata(missing).unwrap_err()
    });
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
}

#[test]
fn inode_level_blocking_handlers_run_off_the_workers() {
    let Some((m, gate)) = mount() else {
        return;
    };
    // Dropped before the mount, also when an assertion fails, so the blocked calls return.
    let _release = gate.open_on_drop();
    // More blocked calls than the runtime has worker threads: an async handler blocking its
    // thread like this would leave none to answer anything else.
    let blocked: Vec<_> = (0..8)
        .map(|i| {
            let p = m.join(&format!("slow{i}"));
            std::thread::spawn(move || fs::metadata(p).is_err())
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
    let f1 = m.join("f1");
    let read = on("read while 8 handlers block", move || {
        fs::read_to_string(f1).unwrap()
    });
    assert_eq!(read, "file 1\n");
    drop(_release);
    for t in blocked {
        assert!(t.join().unwrap(), "a released slow lookup answers");
    }
}
