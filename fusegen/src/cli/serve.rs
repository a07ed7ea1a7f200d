//! [`Serve`]: from parsed [`MountArgs`] to a served mount: options, logging, detaching, the
//! runtime, signals, unmounting.

use std::process::ExitCode;

use super::{Daemon, MountArgs, program_name};
use crate::{Error, Filesystem, MountOptions, Operations, Workers};

/// Mounts and serves a filesystem as the command line asks; [`run`](Self::run) is the last
/// call of a `main`.
///
/// In order, `run`: installs logging on stderr ([`MountArgs::init_logging`], unless the
/// program installed its own), applies `-o` to the mount options (an error exits with status
/// 1), detaches unless `-f`/`-d` ([`Daemon`]), starts a tokio runtime, mounts, serves until
/// Ctrl-C, SIGTERM or an external unmount (SIGUSR1 logs the requests in flight and the
/// request metrics), and unmounts; with `-o stats` it then prints the request metrics on
/// stderr.
///
/// ```no_run
/// # use fusegen::prelude::*;
/// # #[derive(Filesystem)]
/// # struct MyFs;
/// # #[fusegen::handlers]
/// # impl MyFs {}
/// # let args = fusegen::cli::MountArgs::default(); // from the program's clap parser
/// let mut runtime = tokio::runtime::Builder::new_multi_thread();
/// runtime.worker_threads(4);
/// let status = fusegen::cli::Serve::new(MyFs)
///     .options(MyFs::mount_options().fsname("data"))
///     .runtime(runtime)
///     .run(&args);
/// # let _ = status;
/// ```
pub struct Serve<FS> {
    fs: FS,
    options: MountOptions,
    workers: Workers,
    runtime: Option<tokio::runtime::Builder>,
    name: String,
    /// Whether `run` still has to apply the command line's `-o` and `-d` to `options`.
    apply_args: bool,
}

impl<FS: Operations> Serve<FS> {
    /// Serves `fs` with its `#[fuse(...)]` mount options and worker limits (a path-level
    /// filesystem through the adapter that keeps its inodes).
    pub fn new<F: Filesystem<Operations = FS>>(fs: F) -> Serve<FS> {
        Serve::with(fs.into_operations(), F::mount_options(), F::workers())
    }

    /// Serves `fs`, an [`Operations`] implementation without `#[derive(Filesystem)]`, with
    /// explicit options and limits.
    pub fn with(fs: FS, options: MountOptions, workers: Workers) -> Serve<FS> {
        Serve {
            fs,
            options,
            workers,
            runtime: None,
            name: program_name(),
            apply_args: true,
        }
    }

    /// The mount options that `-o` items then change (default: the `#[fuse(...)]` ones).
    pub fn options(mut self, options: MountOptions) -> Self {
        self.options = options;
        self
    }

    /// Options that already include the command line's (from [`MountArgs::mount_options`],
    /// then adjusted by the program): `run` mounts with them as they are.
    pub fn final_options(mut self, options: MountOptions) -> Self {
        self.options = options;
        self.apply_args = false;
        self
    }

    /// Worker limits (default: the `#[fuse(min_tasks, max_tasks)]` ones).
    pub fn workers(mut self, workers: Workers) -> Self {
        self.workers = workers;
        self
    }

    /// The runtime to serve on (default: tokio's multi-threaded runtime). I/O and timers are
    /// enabled on it.
    pub fn runtime(mut self, builder: tokio::runtime::Builder) -> Self {
        self.runtime = Some(builder);
        self
    }

    /// The name that prefixes error messages (default: the binary's file name).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Mounts and serves as `args` ask; returns the process's exit status: success after a
    /// clean unmount, failure (with the reason on stderr) otherwise. Without `-f`, the
    /// command's process exits inside this call once the mount is live (see [`Daemon`]).
    pub fn run(self, args: &MountArgs) -> ExitCode {
        // Starting our runtime inside the caller's would panic in tokio, and detaching (fork)
        // with its threads running is unsound anyway: refuse with the fix instead.
        if tokio::runtime::Handle::try_current().is_ok() {
            eprintln!(
                "{}: `fusegen::cli::run` starts its own tokio runtime and cannot be called inside \
                 one (such as `#[tokio::main]`): call it from a plain `fn main`, or use \
                 `fusegen::run(fs, mountpoint).await`",
                self.name
            );
            return ExitCode::FAILURE;
        }
        args.init_logging();
        let options = if self.apply_args {
            match args.mount_options(self.options) {
                Ok(options) => options,
                Err(e) => {
                    eprintln!("{}: {e}", self.name);
                    return ExitCode::FAILURE;
                }
            }
        } else {
            self.options
        };
        let mut daemon = match Daemon::start(args.stays_in_foreground(), &self.name) {
            Ok(daemon) => daemon,
            Err(e) => {
                eprintln!("{}: {e}", self.name);
                return ExitCode::FAILURE;
            }
        };
        let mut builder = self
            .runtime
            .unwrap_or_else(tokio::runtime::Builder::new_multi_thread);
        let runtime = match builder.enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => return daemon.failed(&format!("starting the tokio runtime: {e}")),
        };
        let served = runtime.block_on(serve(
            self.fs,
            &self.name,
            args,
            options,
            self.workers,
            &mut daemon,
        ));
        match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure::Mount(e)) => daemon.failed(&e.to_string()),
            Err(Failure::Serve(e)) => {
                // Detached, stderr is /dev/null by now: the log is where this shows.
                tracing::error!("{e}");
                eprintln!("{}: {e}", self.name);
                ExitCode::FAILURE
            }
        }
    }
}

enum Failure {
    /// Before the mount was live: the waiting command reports it.
    Mount(Error),
    /// After: the mount was live and the session ended with an error.
    Serve(Error),
}

async fn serve<FS: Operations>(
    fs: FS,
    name: &str,
    args: &MountArgs,
    options: MountOptions,
    workers: Workers,
    daemon: &mut Daemon,
) -> Result<(), Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind| signal(kind).map_err(|e| Failure::Mount(Error::Device(e)));
    // Installed before mounting, so that a signal never leaves a mount without a server.
    let mut sigint = listen(SignalKind::interrupt())?;
    let mut sigterm = listen(SignalKind::terminate())?;
    let mut sigusr1 = listen(SignalKind::user_defined1())?;
    // Absolute: a detached process moves to `/` once mounted, and unmounts by this path.
    let mountpoint = std::path::absolute(&args.mountpoint).unwrap_or(args.mountpoint.clone());
    let stats = options.stats;
    let mut session = crate::mount(fs, &mountpoint, options).map_err(Failure::Mount)?;
    daemon.mounted();
    let handle = session.handle();
    let announce = tokio::spawn(crate::session::announce_ready(
        handle.clone(),
        name.to_string(),
        mountpoint.clone(),
    ));
    let watcher = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = sigint.recv() => break,
                _ = sigterm.recv() => break,
                _ = sigusr1.recv() => {
                    for r in handle.in_flight() {
                        tracing::info!(unique = r.unique, opcode = r.opcode, nodeid = r.nodeid, age = ?r.age, "in flight (SIGUSR1)");
                    }
                    tracing::info!("requests served so far (SIGUSR1):\n{}", handle.metrics());
                }
            }
        }
        handle.terminate();
    });
    let result = session.main(workers).await;
    watcher.abort();
    announce.abort();
    crate::systemd::notify_or_warn("STOPPING=1");
    session.close(true);
    if stats {
        eprint!("{name}: requests served\n{}", session.handle().metrics());
    }
    result.map_err(Failure::Serve)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Empty;
    impl Operations for Empty {}
    impl Filesystem for Empty {}

    #[tokio::test]
    async fn inside_a_runtime_is_an_error_not_a_panic() {
        let code = Serve::new(Empty).run(&MountArgs::default());
        assert_eq!(code, ExitCode::FAILURE);
    }
}
