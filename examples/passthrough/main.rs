//! passthrough: mirrors a source directory at a mountpoint, every operation carried out on the
//! source through file descriptors.
//!
//! ```text
//! cargo run --release --example passthrough -- [OPTIONS] SOURCE MOUNTPOINT
//!     -o OPTIONS                  mount options (docs/mount.md), e.g. -o allow_other,attr_timeout=0
//!     -f                          stay in the foreground (Ctrl-C unmounts); -d: also log requests
//!     --no-kernel-passthrough     serve reads and writes through the handlers even when the
//!                                 kernel could do them (FUSE passthrough, Linux 6.9+, root)
//!     --blocking inline|block-in-place|spawn, --threads N   where system calls run
//! ```
//!
//! Returns once mounted and serves detached until `umount MOUNTPOINT`; with `-f` it stays in
//! the foreground and Ctrl-C (or SIGTERM) unmounts. No path is ever rebuilt from the
//! root: each inode the kernel knows is an `O_PATH` descriptor, and every operation is an
//! `*at` call relative to one (or goes through `/proc/self/fd/N`, which needs `/proc`), so
//! renames in the source cannot redirect an operation to another file. Running as root, files
//! are created owned by the caller. `docs/passthrough.md` explains the choices (caching,
//! blocking, ownership, locks, kernel passthrough) and the measurements behind them.
//!
//! Modules: `handlers` (the `#[fusegen::handlers]` block), `core` (the shared state and the
//! system-call sequences of the handlers), `inodes` (the inode table and lookup counts), `files` (open files and directory streams), `sys` (system-call helpers: blocking, caller identity, `stat` conversion).

mod core;
mod files;
mod handlers;
mod inodes;
mod sys;

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use fusegen::prelude::*;
use nix::fcntl::OFlag;
use nix::sys::stat::{FileStat, Mode};

use crate::core::{Config, Core};
use crate::sys::Blocking;

/// The filesystem: everything lives in [`Core`], which blocking sections share.
///
/// Options: symlinks can only be replaced, never changed, so their targets may be cached.
/// Timeouts stay at the per-reply default of 1 s, so changes made directly in the source show
/// within a second. Not `atomic_o_trunc`: with it the kernel sends `O_TRUNC` inside OPEN and
/// checks for a running executable only afterwards, so `open(O_RDONLY | O_TRUNC)` would empty
/// a running program before failing with `ETXTBSY`. 16 workers stay alive: the runtime
/// allocates a 1 MiB request buffer for each new worker, and starting one per request cut the
/// throughput of small requests about 5-fold (docs/passthrough.md).
#[derive(Filesystem)]
#[fuse(
    fsname = "passthrough",
    subtype = "passthrough",
    cache_symlinks,
    min_tasks = 16
)]
pub struct Passthrough {
    core: Arc<Core>,
}

impl Passthrough {
    /// Mirrors the directory `root` (an `O_PATH` descriptor whose `stat` is `st`).
    pub fn new(root: OwnedFd, st: &FileStat, config: Config) -> Passthrough {
        Passthrough {
            core: Arc::new(Core::new(root, st, config)),
        }
    }
}

/// Mirror SOURCE at MOUNTPOINT through FUSE.
#[derive(Debug, Parser)]
#[command(name = "passthrough", version)]
struct Args {
    /// Let the kernel read and write open files directly on the source (FUSE passthrough,
    /// Linux 6.9+, root); the default unless `-o writeback_cache` is given.
    #[arg(long, overrides_with = "no_kernel_passthrough")]
    kernel_passthrough: bool,
    /// Serve every read and write through the handlers.
    #[arg(long, overrides_with = "kernel_passthrough")]
    no_kernel_passthrough: bool,
    /// Answer every xattr request with ENOSYS (xattrs unsupported): saves the
    /// `security.capability` lookup the kernel makes before each write.
    #[arg(long)]
    no_xattr: bool,
    /// Where system calls run: on the runtime's threads, or handed to tokio's blocking pool.
    #[arg(long, value_enum, default_value = "inline")]
    blocking: Blocking,
    /// Runtime worker threads (default: one per CPU). With `--blocking inline` each system
    /// call in progress holds one: raise it for sources on slow or network storage.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The directory to mirror.
    source: PathBuf,
    /// `-o`, `-f`, `-d` and MOUNTPOINT, as for every FUSE filesystem.
    #[command(flatten)]
    mount: fusegen::cli::MountArgs,
}

fn main() -> ExitCode {
    let args: Args = fusegen::cli::parse();
    args.mount.init_logging();
    match prepare(args) {
        // Detaches (without -f), then starts the runtime and serves.
        Ok((serve, mount)) => serve.run(&mount),
        Err(e) => {
            eprintln!("passthrough: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Everything that happens before detaching: opening the source, options, the runtime's shape.
fn prepare(
    args: Args,
) -> Result<(fusegen::cli::Serve<Passthrough>, fusegen::cli::MountArgs), String> {
    let source = &args.source;
    let root = nix::fcntl::open(
        source,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("{}: {e}", source.display()))?;
    let st = sys::stat_fd(&root).map_err(|e| format!("{}: {e}", source.display()))?;

    // Modes arrive with the caller's umask applied; ours must not remove more bits.
    nix::sys::stat::umask(Mode::empty());
    // Before any thread starts: they inherit it.
    let as_caller = sys::init_credentials().map_err(|e| format!("securebits: {e}"))?;

    let mut options = Passthrough::mount_options();
    let fsname = source.display().to_string();
    if !fsname.contains([',', '\\', ' ']) {
        options.fsname = Some(fsname);
    }
    let mut options = args
        .mount
        .mount_options(options)
        .map_err(|e| e.to_string())?;
    if !options.default_permissions {
        // The source is accessed with the daemon's rights: the kernel must check the caller's.
        tracing::warn!("default_permissions is required by passthrough and stays on");
        options.default_permissions = true;
    }
    // Keeping cached data is decided per open (kernel passthrough refuses it), not mount-wide.
    let config = Config {
        keep_cache: options.kernel_cache || options.auto_cache,
        xattr: !args.no_xattr,
    };
    options.kernel_cache = false;
    if options.auto_cache {
        options.auto_cache = false;
        options.attr_timeout = options.attr_timeout.or(options.ac_attr_timeout);
    }
    options.passthrough = if args.no_kernel_passthrough {
        false
    } else {
        args.kernel_passthrough || !options.writeback_cache
    };
    if !as_caller {
        tracing::info!("not running as root: new files belong to the daemon's user");
    }

    sys::set_blocking(args.blocking);
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        runtime.worker_threads(n.max(1));
    }
    let fs = Passthrough::new(root, &st, config);
    let serve = fusegen::cli::Serve::new(fs)
        .final_options(options)
        .runtime(runtime);
    Ok((serve, args.mount))
}
