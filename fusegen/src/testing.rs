//! Test support for filesystems built with fusegen (feature `testing`): mount a filesystem on a
//! fresh temporary directory, wait until the kernel has finished INIT, run calls against it
//! with timeouts, and always unmount, also when the test panics.
//!
//! ```no_run
//! use fusegen::prelude::*;
//! use fusegen::testing::TestMount;
//!
//! #[derive(Filesystem)]
//! struct Empty;
//!
//! #[fusegen::handlers]
//! impl Empty {
//!     async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
//!         Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
//!     }
//! }
//!
//! #[test]
//! fn root_is_a_directory() {
//!     // Skips with a printed reason without FUSE; fails instead under `CI=true`.
//!     let Some(mount) = TestMount::mount(Empty) else { return };
//!     let meta = mount.run(|root| std::fs::metadata(root)).unwrap();
//!     assert!(meta.is_dir());
//! }
//! ```
//!
//! Every call through [`TestMount::run`] or [`within`] has a timeout, so a hung daemon fails
//! one test instead of hanging the run. When FUSE is unavailable, [`fuse_available`] prints
//! why and the test returns early, except under `CI=true`, where it panics: a mount test
//! that cannot mount must not pass silently in CI.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{Filesystem, MountOptions, Operations, SessionHandle, Workers};

/// Generous bound for one filesystem call; only reached when something hangs.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether mount tests can run here; `None` means skip (a reason was printed).
/// Under `CI=true` an unavailable FUSE is a test failure, never a silent pass.
pub fn fuse_available(test: &str) -> Option<()> {
    let reason = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        Ok(_) => return Some(()),
        Err(e) => format!("/dev/fuse cannot be opened: {e}"),
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: FUSE is required in CI but unavailable: {reason}");
    }
    eprintln!("skipping {test}: {reason}");
    None
}

/// Runs `f` on its own thread and panics if it takes longer than `timeout`.
pub fn within<T: Send + 'static>(
    timeout: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(timeout) {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {timeout:?}"),
    }
}

/// A filesystem mounted for the duration of a test; unmounted on drop.
pub struct TestMount {
    fs: std::sync::Arc<dyn std::any::Any + Send + Sync>,
    notifier: crate::Notifier,
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    handle: SessionHandle,
    server: Option<JoinHandle<Result<(), String>>>,
}

/// Where test mountpoints live: short paths (pjdfstest-style socket tests need them).
fn temp_root() -> PathBuf {
    std::env::temp_dir()
}

impl TestMount {
    /// Mounts `fs` with `options` and starts serving it with `workers`.
    pub fn start<FS: Operations>(
        fs: FS,
        options: MountOptions,
        workers: Workers,
    ) -> Result<TestMount, crate::Error> {
        let dir = tempfile::Builder::new()
            .prefix("fusegen-")
            .tempdir_in(temp_root())
            .expect("creating a temporary mountpoint");
        // Other users must be able to reach the mountpoint for allow_other/allow_root tests.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod 755 on the mountpoint");
        let path = dir.path().to_path_buf();
        let session = crate::mount(fs, &path, options)?;
        let handle = session.handle();
        let fs = session.filesystem().clone();
        let notifier = session.notifier();
        let server = std::thread::spawn(move || serve(session, workers));
        let mount = TestMount {
            fs,
            notifier,
            dir: Some(dir),
            path,
            handle,
            server: Some(server),
        };
        mount.wait_ready();
        Ok(mount)
    }

    /// Mounts `fs` with its `#[fuse(...)]` configuration, for a test; `None` when FUSE is
    /// unavailable here (a reason is printed; under `CI=true` this panics instead).
    pub fn mount<FS: Filesystem>(fs: FS) -> Option<TestMount> {
        fuse_available(std::thread::current().name().unwrap_or("test"))?;
        Some(
            TestMount::start(fs.into_operations(), FS::mount_options(), FS::workers())
                .unwrap_or_else(|e| panic!("mounting the filesystem under test failed: {e}")),
        )
    }

    /// Runs `f` with the mountpoint on another thread, bounded by [`CALL_TIMEOUT`].
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce(&Path) -> T + Send + 'static) -> T {
        let path = self.path.clone();
        within(CALL_TIMEOUT, "a call on the test mount", move || f(&path))
    }

    /// Mounts with default options and worker limits; panics if mounting fails.
    pub fn new<FS: Operations>(fs: FS) -> TestMount {
        TestMount::start(fs, MountOptions::default(), Workers::default())
            .unwrap_or_else(|e| panic!("mount failed: {e}"))
    }

    /// The mountpoint.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `path` joined to the mountpoint.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.path.join(rel)
    }

    /// Runs `f` on the mounted filesystem (to read counters it keeps).
    pub fn with_fs<FS: 'static, R>(&self, f: impl FnOnce(&FS) -> R) -> R {
        f(self
            .fs
            .downcast_ref::<FS>()
            .expect("with_fs: wrong filesystem type"))
    }

    /// The session's notifier.
    pub fn notifier(&self) -> crate::Notifier {
        self.notifier.clone()
    }

    /// The session's handle (terminate from anywhere).
    pub fn handle(&self) -> SessionHandle {
        self.handle.clone()
    }

    /// A `stat` of the root only succeeds once INIT has been answered.
    fn wait_ready(&self) {
        let root = self.path.clone();
        within(CALL_TIMEOUT, "first stat of the mount (INIT)", move || {
            std::fs::metadata(&root).map(|_| ())
        })
        .unwrap_or_else(|e| panic!("stat of the fresh mount failed: {e}"));
    }

    /// Waits for the server thread to finish (after terminate or an external unmount) and
    /// returns what `main` returned.
    pub fn join_server(&mut self, timeout: Duration) -> Result<(), String> {
        let server = self.server.take().expect("server already joined");
        let deadline = Instant::now() + timeout;
        while !server.is_finished() {
            assert!(
                Instant::now() < deadline,
                "session did not stop within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        server
            .join()
            .unwrap_or_else(|_| Err("server thread panicked".into()))
    }
}

fn serve<FS: Operations>(mut session: crate::Session<FS>, workers: Workers) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let result = rt.block_on(session.main(workers));
    session.close(true);
    result.map_err(|e| e.to_string())
}

impl Drop for TestMount {
    fn drop(&mut self) {
        self.handle.terminate();
        if let Some(server) = self.server.take() {
            let deadline = Instant::now() + CALL_TIMEOUT;
            while !server.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if server.is_finished() {
                let _ = server.join();
            }
        }
        if is_mounted(&self.path) {
            // The session could not unmount (or is stuck): detach so nothing stale remains,
            // and leak the directory rather than delete under a live mount.
            let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
            if let Some(dir) = self.dir.take() {
                let _ = dir.keep();
            }
        }
    }
}

/// Whether `path` is a mount point in this process's mount namespace.
pub fn is_mounted(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let target = path.to_string_lossy();
    info.lines()
        .any(|line| line.split(' ').nth(4) == Some(target.as_ref()))
}

/// Polls until `path` is no longer a mount point.
pub fn wait_unmounted(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while is_mounted(path) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}
