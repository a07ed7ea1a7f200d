//! The session lifecycle, pyfuse3's `init` / `main` / `terminate` / `close`: mount, answer
//! INIT, build the server (`server/`) and start the transports that feed it (`transport/`:
//! the `/dev/fuse` worker pool, io_uring queues), stop on request or on unmount, unmount.
//! It sits above both layers because it wires them together.

use std::future::Future;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_util::FutureExt;
use nix::sys::eventfd::{EfdFlags, EventFd};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::api::error::Error;
use crate::api::filesystem::Filesystem;
use crate::api::filesystem::Workers;
use crate::api::operations::{ConnectionInfo, Operations};
use crate::api::types::OpenFlags;
use crate::mount::{self, Mount, MountOptions};
use crate::proto::abi;
use crate::proto::init::{self, Negotiated};
use crate::proto::opcodes::opcode_name;
use crate::proto::reply::{self, Reply, ReplyPolicy, Response};
use crate::proto::request::{self, Operation};
use crate::server::inflight::{InFlight, InFlightRequest};
use crate::server::notify::{Notifier, NotifyChannel};
use crate::server::passthrough::Backings;
use crate::server::{self, Server};
use crate::transport::active::{self, ActiveTransport, RequestCounts, TransportStats};
use crate::transport::dev::{Device, ReadBuf, ReadOutcome};
use crate::transport::reader;
use crate::transport::splice_receive::SpliceReceive;
use crate::transport::stop::wake_on_stop;
use crate::transport::uring::{self, Plan};
use crate::transport::{Control, End, Runtime, send};

/// The stop signal shared by a session and its handles. Setting an atomic and writing to an
/// eventfd are both async-signal-safe, so [`SessionHandle::terminate`] may run anywhere.
#[derive(Debug)]
struct Shutdown {
    requested: AtomicBool,
    efd: EventFd,
}

/// A `Clone + Send + Sync` handle that stops [`Session::main`] from any thread, task or
/// signal handler.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    shutdown: Arc<Shutdown>,
    in_flight: Arc<InFlight>,
    connection: Arc<OnceLock<ConnectionInfo>>,
    stats: Arc<TransportStats>,
    ready: Arc<watch::Sender<bool>>,
    metrics: Arc<crate::server::metrics::Metrics>,
}

impl SessionHandle {
    /// Per-operation request counts, errors and latency histograms so far (requests the
    /// filesystem's handlers answered; INIT, and requests refused before a handler, such as
    /// `allow_root`'s, are not counted). Cheap enough to poll, e.g. for an exporter:
    /// [`MetricsSnapshot::prometheus`](crate::MetricsSnapshot::prometheus).
    pub fn metrics(&self) -> crate::MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// Waits until the session serves requests: `main` has answered the kernel's INIT and
    /// started its workers, so the mount is usable. Returns at once if that already happened;
    /// never returns for a session that never gets there, so race it against `main`.
    pub async fn ready(&self) {
        let mut ready = self.ready.subscribe();
        // The sender lives as long as `self`, so the wait cannot fail.
        let _ = ready.wait_for(|ready| *ready).await;
    }

    /// Makes `main` return (after in-flight requests finish, bounded by the grace period).
    /// The mount stays in the mount table until [`Session::close`] removes it, but once `main`
    /// has returned nothing serves it: accesses fail with `ENOTCONN`. Idempotent.
    pub fn terminate(&self) {
        self.shutdown.requested.store(true, Ordering::SeqCst);
        // Ignoring the result is right: the only failure is a full counter, which already
        // wakes the session.
        let _ = self.shutdown.efd.write(1);
    }

    /// The requests being handled right now, oldest first: what a stuck filesystem is doing
    /// (pyfuse3's `stacktrace`). `fusegen::run` logs this list on `SIGUSR1`.
    pub fn in_flight(&self) -> Vec<InFlightRequest> {
        self.in_flight.snapshot()
    }

    /// What the kernel agreed to at INIT (protocol version, capabilities, limits), once `main`
    /// has answered it. [`doctor::flag_names`](crate::doctor::flag_names) decodes the flags.
    pub fn connection(&self) -> Option<ConnectionInfo> {
        self.connection.get().copied()
    }

    /// The transport serving the session (`/dev/fuse` or io_uring), once `main` has set it up
    /// after INIT.
    pub fn transport(&self) -> Option<ActiveTransport> {
        self.stats.active()
    }

    /// How many requests each transport has delivered so far.
    pub fn requests_served(&self) -> RequestCounts {
        self.stats.counts()
    }

    /// Whether `terminate` has been called.
    pub fn is_terminated(&self) -> bool {
        self.shutdown.requested.load(Ordering::SeqCst)
    }
}

/// A mounted filesystem (pyfuse3 after `init`): serve it with [`main`](Session::main), stop it
/// with a [`SessionHandle`], unmount it with [`close`](Session::close) or by dropping it.
pub struct Session<FS: Operations> {
    fs: Arc<FS>,
    options: MountOptions,
    device: Option<OwnedFd>,
    mount: Option<Mount>,
    mountpoint: PathBuf,
    shutdown: Arc<Shutdown>,
    destroyed: Arc<AtomicBool>,
    notify: Arc<NotifyChannel>,
    in_flight: Arc<InFlight>,
    connection: Arc<OnceLock<ConnectionInfo>>,
    stats: Arc<TransportStats>,
    /// Set once `main` serves (see [`SessionHandle::ready`]).
    ready: Arc<watch::Sender<bool>>,
    metrics: Arc<crate::server::metrics::Metrics>,
}

impl<FS: Operations> std::fmt::Debug for Session<FS> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("mountpoint", &self.mountpoint)
            .field("mounted", &self.mount.is_some())
            .finish_non_exhaustive()
    }
}

/// Mounts `fs` at `mountpoint` (pyfuse3's `init`). Requests are served once
/// [`Session::main`] runs; until then, access to the mountpoint waits.
///
/// A mountpoint of the form `/dev/fd/N` names a `/dev/fuse` descriptor that the parent
/// process already mounted and passed down (libfuse 3.3+'s convention); the session serves
/// it as [`Session::from_fd`] does.
///
/// ```no_run
/// # async fn demo(fs: impl fusegen::Operations) -> Result<(), fusegen::Error> {
/// let mut session = fusegen::mount(fs, "/mnt/x", fusegen::MountOptions::default())?;
/// let handle = session.handle(); // terminate() from anywhere
/// session.main(fusegen::Workers::default()).await?;
/// session.close(true);
/// # Ok(()) }
/// ```
pub fn mount<FS: Operations>(
    fs: FS,
    mountpoint: impl AsRef<Path>,
    options: MountOptions,
) -> Result<Session<FS>, Error> {
    let mountpoint = mountpoint.as_ref().to_path_buf();
    let (device, mount) = match mount::inherited_device(&mountpoint) {
        Some(device) => {
            options.validate()?;
            (device?, None)
        }
        None => {
            let (device, mount) = mount::mount(&mountpoint, &options)?;
            (device, Some(mount))
        }
    };
    tracing::debug!(mountpoint = %mountpoint.display(), "mounted");
    Session::new(fs, device, mount, mountpoint, options)
}

impl<FS: Operations> Session<FS> {
    /// A session on `device`, a `/dev/fuse` descriptor that someone else opened and mounted
    /// (a privileged helper, a container runtime, a CSI driver). `options` apply as far as
    /// they concern the session (caching, timeouts, transport...); the mount-time ones were
    /// the mounter's choice. Unmounting is the mounter's job too: [`close`](Session::close)
    /// only releases the descriptor, and [`mountpoint`](Session::mountpoint) is
    /// `/dev/fd/N`. `main` returns when the mount goes away.
    ///
    /// ```no_run
    /// # async fn demo(fs: impl fusegen::Operations, fd: std::os::fd::OwnedFd) -> Result<(), fusegen::Error> {
    /// let mut session = fusegen::Session::from_fd(fs, fd, fusegen::MountOptions::default())?;
    /// session.main(fusegen::Workers::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn from_fd(fs: FS, device: OwnedFd, options: MountOptions) -> Result<Session<FS>, Error> {
        use std::os::fd::AsRawFd;
        let n = device.as_raw_fd();
        mount::check_device(&device, n)?;
        options.validate()?;
        let mountpoint = PathBuf::from(format!("/dev/fd/{n}"));
        Session::new(fs, device, None, mountpoint, options)
    }

    fn new(
        fs: FS,
        device: OwnedFd,
        mount: Option<Mount>,
        mountpoint: PathBuf,
        options: MountOptions,
    ) -> Result<Session<FS>, Error> {
        let efd = EventFd::from_value_and_flags(0, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
            .map_err(|e| Error::Device(e.into()))?;
        let in_flight = Arc::new(InFlight::new(options.intr));
        let notify = NotifyChannel::new(device.try_clone().map_err(Error::Device)?);
        Ok(Session {
            fs: Arc::new(fs),
            options,
            device: Some(device),
            mount,
            mountpoint,
            shutdown: Arc::new(Shutdown {
                requested: AtomicBool::new(false),
                efd,
            }),
            destroyed: Arc::new(AtomicBool::new(false)),
            notify,
            in_flight,
            connection: Arc::default(),
            stats: Arc::default(),
            ready: Arc::new(watch::channel(false).0),
            metrics: Arc::default(),
        })
    }
}

impl<FS: Operations> Session<FS> {
    /// A handle whose `terminate()` makes `main` return.
    pub fn handle(&self) -> SessionHandle {
        SessionHandle {
            shutdown: self.shutdown.clone(),
            in_flight: self.in_flight.clone(),
            connection: self.connection.clone(),
            stats: self.stats.clone(),
            ready: self.ready.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// A [`Notifier`] for cache invalidation and other kernel notifications; usable from any
    /// task or thread until the session ends.
    pub fn notifier(&self) -> Notifier {
        Notifier::new(self.notify.clone())
    }

    /// Where the filesystem is mounted.
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// How the filesystem was mounted (`Direct` or `Fusermount`); `None` once closed, and for
    /// a session on a descriptor someone else mounted ([`Session::from_fd`]).
    pub fn mount_method(&self) -> Option<crate::MountMethod> {
        self.mount.as_ref().map(Mount::method)
    }

    /// The filesystem being served; clone the `Arc` to inspect it from other tasks while
    /// `main` runs.
    pub fn filesystem(&self) -> &Arc<FS> {
        &self.fs
    }

    /// Serves requests until [`SessionHandle::terminate`] is called or the filesystem is
    /// unmounted from outside (`fusermount3 -u`, `umount`). Runs once per session.
    pub async fn main(&mut self, workers: Workers) -> Result<(), Error> {
        let fd = self.device.take().ok_or(Error::NotRunning(
            "main() already ran or close() was called",
        ))?;
        let workers = Workers {
            min: workers.min.max(1),
            max: workers.max.max(workers.min.max(1)),
            ..workers
        };
        let transport = active::resolve(self.options.transport)?;
        let dev = Device::new(fd).map_err(Error::Device)?;
        let efd = self
            .shutdown
            .efd
            .as_fd()
            .try_clone_to_owned()
            .map_err(Error::Device)?;
        let wakeup = crate::sys::register_async_fd(efd, tokio::io::Interest::READABLE)
            .map_err(Error::Device)?;
        if self.handle().is_terminated() {
            return Ok(());
        }
        let mut plan = uring::prepare(transport, self.options.uring_queue_depth);
        let (negotiated, init_out, no_uring) = tokio::select! {
            r = self.handshake(&dev, &mut plan) => r?,
            _ = wakeup.readable() => return Ok(()),
        };
        let backings = if negotiated.has(abi::FUSE_PASSTHROUGH) {
            Some(Backings::new(dev.as_fd()).map_err(Error::Device)?)
        } else {
            if self.options.passthrough {
                tracing::info!(
                    "kernel passthrough unavailable (needs Linux 6.9+, root, and no writeback_cache); \
                     reads and writes go through the handlers"
                );
            }
            None
        };
        let (stop_tx, stop) = watch::channel(false);
        let (control, mut control_rx) = mpsc::unbounded_channel();
        let stop_fd = Arc::new(
            EventFd::from_flags(EfdFlags::EFD_CLOEXEC).map_err(|e| Error::Device(e.into()))?,
        );
        let runtime = tokio::runtime::Handle::current();
        // Readers only need the wake-up: at a runtime shutdown `main` is gone already.
        let _ = wake_on_stop(stop.clone(), stop_fd.clone(), &runtime);
        let server = Server {
            fs: self.fs.clone(),
            negotiated,
            policy: reply_policy(&self.options),
            backings,
            noforget: self.options.noforget,
            killpriv: init::killpriv_enabled(&self.options, FS::HANDLERS),
            allow_root_owner: self
                .options
                .allow_root
                .then(|| nix::unistd::getuid().as_raw()),
            debug: self.options.debug,
            notify: self.notify.clone(),
            in_flight: self.in_flight.clone(),
            metrics: self.metrics.clone(),
        };
        let rt = Arc::new(Runtime {
            server,
            dev: Arc::new(dev),
            detached: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            sleepers: Default::default(),
            alive: AtomicUsize::new(workers.min),
            idle: AtomicUsize::new(0),
            workers,
            stop,
            stop_fd,
            control,
            splice: SpliceReceive::new(
                FS::HANDLERS.contains(crate::api::operations::Handlers::WRITE_DATA),
                negotiated.buffer_size(),
            ),
            buffers: Default::default(),
            stats: self.stats.clone(),
            permits: Arc::new(tokio::sync::Semaphore::new(workers.max)),
            handlers: Default::default(),
        });
        let mut tasks = JoinSet::new();
        for queue in self.start_transport(plan, &rt, &init_out, no_uring)? {
            let runtime = runtime.clone();
            tasks.spawn_blocking(move || queue.serve(runtime));
        }
        // Reader threads are not tokio tasks: one blocked in `read(2)` must not hold up the
        // runtime's shutdown. Their exits come back as `Control::ReaderLeft`.
        let mut readers = 0usize;
        let start_reader = |readers: &mut usize| match reader::start(rt.clone(), runtime.clone()) {
            Ok(()) => *readers += 1,
            Err(e) => {
                rt.alive.fetch_sub(1, Ordering::SeqCst);
                tracing::error!(error = %e, "starting a reader thread failed");
            }
        };
        for _ in 0..workers.min {
            start_reader(&mut readers);
        }
        self.ready.send_replace(true);
        let end = loop {
            tokio::select! {
                r = wakeup.readable() => {
                    match r {
                        Ok(mut guard) if self.handle().is_terminated() => { guard.clear_ready(); break End::Terminated }
                        Ok(mut guard) => guard.clear_ready(),
                        Err(e) => break End::Failed(Error::Device(e)),
                    }
                }
                Some(msg) = control_rx.recv() => match msg {
                    Control::Spawn => start_reader(&mut readers),
                    Control::ReaderLeft => readers -= 1,
                    Control::End(end) => break end,
                },
                Some(joined) = tasks.join_next() => {
                    if let Err(e) = joined {
                        tracing::error!(error = %e, "io_uring queue thread failed");
                    }
                }
            }
            if readers == 0 && tasks.is_empty() {
                // The last reader may have said why it stopped (e.g. unmounted) just before
                // leaving; that message wins over "no readers left".
                let mut told = None;
                while let Ok(msg) = control_rx.try_recv() {
                    if let Control::End(end) = msg {
                        told = Some(end);
                        break;
                    }
                }
                break told.unwrap_or(End::Failed(Error::NotRunning("all workers stopped")));
            }
        };
        rt.stopping.store(true, Ordering::SeqCst);
        let _ = stop_tx.send(true);
        // Readers and queues leave at once (a handler running in place finishes first); then
        // the handlers that became tasks get what is left of the grace period.
        let deadline = tokio::time::Instant::now() + workers.grace;
        let threads_done = tokio::time::timeout_at(deadline, async {
            while tasks.join_next().await.is_some() {}
            // Readers asleep in `read(2)` need the wake signal; it is sent again until they
            // are gone, since one can land just before a thread enters `read(2)`.
            let mut nudge = tokio::time::interval(std::time::Duration::from_millis(10));
            while readers > 0 {
                tokio::select! {
                    msg = control_rx.recv() => match msg {
                        Some(Control::ReaderLeft) => readers -= 1,
                        Some(_) => {}
                        None => break,
                    },
                    _ = nudge.tick() => rt.sleepers.interrupt(),
                }
            }
        })
        .await
        .is_ok();
        let mut handlers =
            std::mem::take(&mut *rt.handlers.lock().unwrap_or_else(|e| e.into_inner()));
        let handlers_done = threads_done
            && tokio::time::timeout_at(deadline, async {
                while handlers.join_next().await.is_some() {}
            })
            .await
            .is_ok();
        if !handlers_done {
            tracing::warn!(grace = ?workers.grace, "handlers still running after the grace period, cancelling them");
            rt.detached.store(true, Ordering::SeqCst);
            handlers.abort_all();
            while handlers.join_next().await.is_some() {}
            while tasks.join_next().await.is_some() {}
        }
        drop(rt);
        self.notify.close();
        match end {
            End::Terminated => {
                self.destroy().await;
                Ok(())
            }
            End::Unmounted => {
                tracing::debug!(mountpoint = %self.mountpoint.display(), "unmounted from outside");
                self.destroy().await;
                Ok(())
            }
            End::Failed(e) => Err(e),
        }
    }

    /// After INIT: registers the io_uring queues when INIT granted the ring, and records and
    /// logs which transport serves the session. Fails only for `transport = io_uring`.
    fn start_transport(
        &self,
        plan: Plan,
        rt: &Arc<Runtime<FS>>,
        out: &abi::fuse_init_out,
        no_uring: Option<String>,
    ) -> Result<Vec<uring::Queue<FS>>, Error> {
        if let Some(reason) = no_uring {
            if plan.required {
                return Err(uring::unavailable(&reason));
            }
            tracing::info!(reason = %reason, "serving through /dev/fuse");
            self.stats.set_active(ActiveTransport::Dev);
            return Ok(Vec::new());
        }
        let required = plan.required;
        let depth = plan.depth();
        let (queues, result) = uring::start(plan, rt, out);
        match result {
            Ok(()) => {
                tracing::info!(queues = queues.len(), depth, "serving through io_uring");
                self.stats.set_active(ActiveTransport::IoUring {
                    queues: queues.len(),
                    depth,
                });
                Ok(queues)
            }
            Err(reason) if required => Err(uring::unavailable(&reason)),
            Err(reason) => {
                // The kernel fell back to /dev/fuse; registered queues stay harmlessly idle.
                tracing::warn!(reason = %reason, "io_uring setup failed, serving through /dev/fuse");
                self.stats.set_active(ActiveTransport::Dev);
                Ok(queues)
            }
        }
    }

    /// Reads requests until INIT, negotiates (including the io_uring transport), calls the
    /// filesystem's `init`, replies. Also returns the INIT reply and why io_uring is not used.
    async fn handshake(
        &self,
        dev: &Device,
        plan: &mut Plan,
    ) -> Result<(Negotiated, abi::fuse_init_out, Option<String>), Error> {
        let mut buf = ReadBuf::new(abi::FUSE_MIN_READ_BUFFER * 2);
        loop {
            let n = match dev
                .read_async(buf.as_mut_bytes())
                .await
                .map_err(Error::Device)?
            {
                ReadOutcome::Request(n) => n,
                ReadOutcome::Ended => return Err(Error::Protocol("unmounted before INIT".into())),
            };
            let bytes = &buf.as_mut_bytes()[..n];
            let header = match request::parse_header(bytes) {
                Ok(header) => header,
                Err(e) => {
                    tracing::warn!(error = %e, "unreadable request before INIT, left unanswered");
                    continue;
                }
            };
            let req = match request::parse_args(header, bytes, Default::default()) {
                Ok(req) => req,
                Err(e) => {
                    tracing::warn!(error = %e, "malformed request before INIT");
                    send(dev, &server::malformed(&header));
                    continue;
                }
            };
            let answer = |reply| Response::to(&header, reply);
            let Operation::Init { arg } = req.op else {
                tracing::warn!(opcode = opcode_name(header.opcode), "request before INIT");
                send(dev, &answer(Reply::Error(crate::Errno::EIO)));
                continue;
            };
            let (mut negotiated, mut out) = match init::negotiate(&arg, &self.options, FS::HANDLERS)
            {
                Ok(v) => v,
                Err(e) => {
                    send(dev, &answer(Reply::Error(crate::Errno::EPROTO)));
                    return Err(Error::Protocol(e.to_string()));
                }
            };
            let no_uring = plan.grant(&arg, &mut out, &mut negotiated).err();
            if let Some(reason) = &no_uring
                && plan.required
            {
                send(dev, &answer(Reply::Error(crate::Errno::EPROTO)));
                return Err(uring::unavailable(reason));
            }
            let info = ConnectionInfo {
                proto_major: out.major,
                proto_minor: out.minor,
                capabilities: negotiated.flags,
                max_write: negotiated.max_write,
                max_readahead: negotiated.max_readahead,
            };
            let init = AssertUnwindSafe(self.fs.init(&info)).catch_unwind().await;
            let failure = match init {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some((e, format!("the filesystem's init handler failed: {e}"))),
                Err(_) => Some((
                    crate::Errno::EIO,
                    "the filesystem's init handler panicked".to_string(),
                )),
            };
            if let Some((errno, message)) = failure {
                send(dev, &answer(Reply::Error(errno)));
                return Err(Error::Protocol(message));
            }
            send(dev, &answer(reply::fixed(&out)));
            let _ = self.connection.set(info);
            tracing::debug!(
                minor = out.minor,
                flags = format_args!("{:#x}", negotiated.flags),
                max_write = out.max_write,
                "INIT negotiated"
            );
            return Ok((negotiated, out, no_uring));
        }
    }

    async fn destroy(&self) {
        if !self.destroyed.swap(true, Ordering::SeqCst)
            && AssertUnwindSafe(self.fs.destroy())
                .catch_unwind()
                .await
                .is_err()
        {
            tracing::error!("the filesystem's destroy handler panicked");
        }
    }

    /// Cleans up: unmounts (unless `unmount` is false, which leaves the mount in place) and
    /// releases the device. Idempotent, never panics; errors are logged. Dropping the session
    /// does the same with `unmount = true`.
    pub fn close(&mut self, unmount: bool) {
        self.handle().terminate();
        if let Some(mut m) = self.mount.take() {
            if unmount {
                if let Err(e) = m.unmount() {
                    tracing::warn!(mountpoint = %self.mountpoint.display(), error = %e, "unmount failed");
                }
            } else {
                // Keeps the mount (and, for auto_unmount, fusermount3's watch) alive.
                std::mem::forget(m);
            }
        }
        self.device = None;
        self.notify.close();
    }
}

impl<FS: Operations> Drop for Session<FS> {
    fn drop(&mut self) {
        self.close(true);
    }
}

fn reply_policy(o: &MountOptions) -> ReplyPolicy {
    let mut open_flags = OpenFlags::empty();
    open_flags.set(OpenFlags::DIRECT_IO, o.direct_io);
    open_flags.set(OpenFlags::KEEP_CACHE, o.kernel_cache || o.auto_cache);
    ReplyPolicy {
        entry_timeout: o.entry_timeout,
        attr_timeout: if o.auto_cache {
            o.ac_attr_timeout.or(o.attr_timeout)
        } else {
            o.attr_timeout
        },
        negative_timeout: o.negative_timeout,
        uid: o.uid,
        gid: o.gid,
        umask: o.umask,
        open_flags,
    }
}

/// Mounts `fs` with its `#[fuse(...)]` configuration, serves it until Ctrl-C (SIGINT) or
/// SIGTERM, then unmounts. Nothing happens until the returned [`Run`] is awaited. `fs` is
/// taken by value: the runtime shares it between requests itself.
///
/// ```no_run
/// # async fn demo(fs: impl fusegen::Filesystem) -> Result<(), fusegen::Error> {
/// fusegen::run(fs, "/mnt/x").await
/// # }
/// ```
pub fn run<FS: Filesystem>(fs: FS, mountpoint: impl AsRef<Path>) -> Run {
    let (options, workers) = (FS::mount_options(), FS::workers());
    run_with(fs.into_operations(), mountpoint, options, workers)
}

/// The future of [`run`] and [`run_with`]: resolves once the filesystem is unmounted.
///
/// A named type rather than `async fn`'s anonymous one, for two messages: a forgotten
/// `.await` names the fix, and passing `&fs` or `Arc<Fs>` is one error (the anonymous
/// future would repeat it at the call and at the `.await`).
#[must_use = "`fusegen::run` does nothing until it is awaited: write `fusegen::run(fs, mountpoint).await`"]
pub struct Run(Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>);

impl Future for Run {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run").finish_non_exhaustive()
    }
}

/// The `tracing` target of the one line that says a filesystem is mounted and serving.
pub(crate) const MOUNTED_TARGET: &str = "fusegen::mounted";

/// Once `handle`'s session serves: logs `NAME: mounted on MOUNTPOINT` at `info` (target
/// `fusegen::mounted`) and tells systemd `READY=1` if `$NOTIFY_SOCKET` is set.
pub(crate) async fn announce_ready(handle: SessionHandle, name: String, mountpoint: PathBuf) {
    handle.ready().await;
    tracing::info!(target: MOUNTED_TARGET, "{name}: mounted on {}", mountpoint.display());
    crate::systemd::notify_or_warn(&format!(
        "READY=1\nSTATUS=mounted on {}",
        mountpoint.display()
    ));
}

/// The file name of the running binary, for messages.
pub(crate) fn process_name() -> String {
    std::env::args_os()
        .next()
        .map(PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "fusegen".to_string())
}

fn log_in_flight(handle: &SessionHandle) {
    let requests = handle.in_flight();
    tracing::info!(count = requests.len(), "requests in flight (SIGUSR1)");
    for r in requests {
        tracing::info!(unique = r.unique, opcode = r.opcode, nodeid = r.nodeid, age = ?r.age, "in flight");
    }
}

/// [`run`] with explicit mount options and worker limits. `SIGINT`/`SIGTERM` stop it;
/// `SIGUSR1` logs the requests in flight. Once serving, it logs `NAME: mounted on PATH`
/// (`info`, target `fusegen::mounted`) and, under systemd, sends `READY=1` to
/// `$NOTIFY_SOCKET`; `STOPPING=1` when it unmounts ([`systemd`](crate::systemd)).
pub fn run_with<FS: Operations>(
    fs: FS,
    mountpoint: impl AsRef<Path>,
    options: MountOptions,
    workers: Workers,
) -> Run {
    let mountpoint = mountpoint.as_ref().to_path_buf();
    Run(Box::pin(serve_until_signal(
        fs, mountpoint, options, workers,
    )))
}

/// [`run_with`]'s body.
async fn serve_until_signal<FS: Operations>(
    fs: FS,
    mountpoint: PathBuf,
    options: MountOptions,
    workers: Workers,
) -> Result<(), Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut session = mount(fs, mountpoint, options)?;
    let handle = session.handle();
    let announce = tokio::spawn(announce_ready(
        handle.clone(),
        process_name(),
        session.mountpoint().to_path_buf(),
    ));
    let mut sigint = signal(SignalKind::interrupt()).map_err(Error::Device)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(Error::Device)?;
    let mut sigusr1 = signal(SignalKind::user_defined1()).map_err(Error::Device)?;
    let watcher = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = sigint.recv() => break,
                _ = sigterm.recv() => break,
                // What is the filesystem doing? List the requests in flight.
                _ = sigusr1.recv() => log_in_flight(&handle),
            }
        }
        handle.terminate();
    });
    let result = session.main(workers).await;
    watcher.abort();
    announce.abort();
    crate::systemd::notify_or_warn("STOPPING=1");
    session.close(true);
    result
}
