//! `TestFs`: a small read-only filesystem for lifecycle and concurrency tests.
//!
//! The root holds regular files with fixed contents. Reads of files whose name starts with
//! `slow` wait at a gate the test controls (those starting with `polite` wait there too, or
//! until their request is interrupted, and then answer `EINTR`), reads of files whose name starts with `blocking`
//! block their thread for 100 ms without awaiting (as a handler making a slow system call
//! does), reads of files whose name starts with `pipe` block their thread in `read(2)` on a
//! pipe the test writes to (and count an `EINTR` there), and every read updates an in-flight counter and
//! its peak, so tests can observe real concurrency without timing assertions.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use fusegen::{
    Bytes, EntryAttributes, Errno, FileHandle, FileType, Inode, Operations, ReadData, ReaddirReply,
    RequestContext, Result,
};
use tokio::sync::Semaphore;

/// Observations shared between the filesystem and the test.
#[derive(Debug, Default)]
pub struct Probe {
    pub in_flight: AtomicUsize,
    pub peak: AtomicUsize,
    pub reads: AtomicUsize,
    pub destroyed: AtomicBool,
    pub initialized: AtomicBool,
    /// Reads whose handler future was dropped before finishing (interrupted).
    pub cancelled: AtomicUsize,
    /// Reads of `polite*` files that saw their interrupt and gave up.
    pub saw_interrupt: AtomicUsize,
    /// READDIRPLUS and plain READDIR requests served.
    pub readdir_plus: AtomicUsize,
    pub readdir_plain: AtomicUsize,
    /// `read(2)` calls of `pipe*` handlers that a signal interrupted.
    pub pipe_eintr: AtomicUsize,
}

/// Keeps `in_flight` right even when a handler's future is dropped mid-way.
struct InFlight<'a> {
    probe: &'a Probe,
    finished: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.probe.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !self.finished {
            self.probe.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

pub struct TestFs {
    files: BTreeMap<String, (Inode, Vec<u8>)>,
    /// Reads of `slow*` files take one permit each; the test adds permits to release them.
    pub gate: Arc<Semaphore>,
    pub probe: Arc<Probe>,
    /// The read end that `pipe*` reads block on.
    pub pipe: Arc<std::sync::Mutex<Option<std::os::fd::OwnedFd>>>,
}

impl TestFs {
    pub fn new(files: &[(&str, &[u8])]) -> TestFs {
        let files = files
            .iter()
            .enumerate()
            .map(|(i, (name, data))| (name.to_string(), (Inode(i as u64 + 2), data.to_vec())))
            .collect();
        TestFs {
            files,
            gate: Arc::new(Semaphore::new(0)),
            probe: Arc::default(),
            pipe: Arc::default(),
        }
    }

    fn by_ino(&self, ino: Inode) -> Option<(&str, &[u8])> {
        self.files
            .iter()
            .find(|(_, (i, _))| *i == ino)
            .map(|(n, (_, d))| (n.as_str(), &d[..]))
    }

    fn attr(&self, ino: Inode) -> Result<EntryAttributes> {
        if ino == Inode::ROOT {
            return Ok(EntryAttributes::new(ino, FileType::Directory, 0o755));
        }
        let (_, data) = self.by_ino(ino).ok_or(Errno::ENOENT)?;
        let mut attr =
            EntryAttributes::new(ino, FileType::RegularFile, 0o644).with_size(data.len() as u64);
        // Short timeouts: tests look at fresh kernel state.
        attr.attr_timeout = Duration::ZERO;
        attr.entry_timeout = Duration::ZERO;
        Ok(attr)
    }
}

impl Operations for TestFs {
    async fn init(&self, _info: &fusegen::ConnectionInfo) -> Result<()> {
        self.probe.initialized.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn destroy(&self) {
        self.probe.destroyed.store(true, Ordering::SeqCst);
    }

    async fn lookup(
        &self,
        parent: Inode,
        name: &OsStr,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        if parent != Inode::ROOT {
            return Err(Errno::ENOENT);
        }
        let name = name.to_str().ok_or(Errno::ENOENT)?;
        let (ino, _) = self.files.get(name).ok_or(Errno::ENOENT)?;
        self.attr(*ino)
    }

    async fn getattr(
        &self,
        ino: Inode,
        _fh: Option<FileHandle>,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        self.attr(ino)
    }

    async fn read(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        ctx: &RequestContext,
    ) -> Result<ReadData> {
        let (name, data) = self.by_ino(ino).ok_or(Errno::ENOENT)?;
        if name == "panic" {
            panic!("deliberate panic in a read handler");
        }
        let now = self.probe.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let mut guard = InFlight {
            probe: &self.probe,
            finished: false,
        };
        self.probe.peak.fetch_max(now, Ordering::SeqCst);
        self.probe.reads.fetch_add(1, Ordering::SeqCst);
        if name.starts_with("blocking") {
            std::thread::sleep(Duration::from_millis(100));
        }
        if name.starts_with("pipe") {
            let pipe = self.pipe.lock().unwrap();
            let fd = pipe.as_ref().expect("the test gave the pipe");
            let mut byte = [0u8; 1];
            if nix::unistd::read(fd, &mut byte) == Err(nix::errno::Errno::EINTR) {
                self.probe.pipe_eintr.fetch_add(1, Ordering::SeqCst);
            }
        }
        if name.starts_with("polite") {
            tokio::select! {
                permit = self.gate.acquire() => {
                    if let Ok(permit) = permit {
                        permit.forget();
                    }
                }
                () = ctx.interrupted() => {
                    assert!(ctx.is_interrupted());
                    self.probe.saw_interrupt.fetch_add(1, Ordering::SeqCst);
                    guard.finished = true;
                    return Err(Errno::EINTR);
                }
            }
        }
        if name.starts_with("slow") {
            // Holding the permit forever is fine: each slow read consumes one.
            if let Ok(permit) = self.gate.acquire().await {
                permit.forget();
            }
        }
        guard.finished = true;
        drop(guard);
        let start = (offset as usize).min(data.len());
        let end = start.saturating_add(size as usize).min(data.len());
        Ok(Bytes::copy_from_slice(&data[start..end]).into())
    }

    async fn readdir(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
        _ctx: &RequestContext,
    ) -> Result<()> {
        if ino != Inode::ROOT {
            return Err(Errno::ENOTDIR);
        }
        let counter = if out.is_plus() {
            &self.probe.readdir_plus
        } else {
            &self.probe.readdir_plain
        };
        counter.fetch_add(1, Ordering::SeqCst);
        let root = self.attr(Inode::ROOT)?;
        let mut entries = vec![(".".to_string(), root), ("..".to_string(), root)];
        for (name, (ino, _)) in &self.files {
            entries.push((name.clone(), self.attr(*ino)?));
        }
        out.add_listing(offset, entries);
        Ok(())
    }
}
