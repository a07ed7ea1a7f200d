//! A filesystem that changes on its own, cached by the kernel for an hour and kept fresh with
//! notifications.
//!
//! ```text
//! cargo run --example notify -- -f /tmp/n       # ticks every second; Ctrl-C unmounts
//! cat /tmp/n/clock; sleep 1; cat /tmp/n/clock   # a new time each time
//! ls /tmp/n/log                                  # a new file every 5 ticks: 0001, 0002, …
//!
//! cargo run --example notify -- --no-notify -f /tmp/n
//! cat /tmp/n/clock; sleep 1; cat /tmp/n/clock   # the same time: the kernel's cached copy
//! ls /tmp/n/log                                  # the listing of the first `ls`, for an hour
//! ```
//!
//! `clock` holds the time of the last tick (UTC, fixed length); `log/` gains a file every
//! `--log-every` ticks, each holding its own creation time. Each tick prints one line on
//! standard output, `tick=N clock=TIME log=COUNT`, which shows what the filesystem holds, and so
//! the difference from what `cat` shows without notifications. `--interval-ms` sets the tick.
//!
//! What it demonstrates:
//!
//! - Long cache timeouts: attributes, names and "no such file" answers are cached for an hour
//!   (`attr_timeout`, `entry_timeout`, `negative_timeout`), files are opened with
//!   `keep_cache` (cached pages survive reopening, like the `kernel_cache` option) and
//!   directories with `CACHE_DIR` as well (the kernel caches listings). Without notifications
//!   every reader sees the first version it read, for an hour.
//! - Notifications from a background task, through the session's [`fusegen::Notifier`]: the
//!   clock's inode is invalidated (data and attributes) after each change; for a new file in
//!   `log/`, its name is invalidated (which drops a cached "no such file") and so is the
//!   directory's inode (its attributes and its cached listing). `Notifier::store` could push
//!   the clock's new bytes instead of dropping them, saving a READ, but would leave the cached
//!   mtime behind.
//! - The explicit lifecycle that gives access to the notifier: `fusegen::mount`,
//!   `Session::notifier`, `Session::main`, `SessionHandle::terminate` from a signal watcher,
//!   `Session::close`; with `fusegen::cli::Daemon` for detaching (without `-f`) before the
//!   runtime starts, and `fusegen::cli::MountArgs` for `-o`, `-f`, `-d` and the mountpoint.
//!
//! Notifications are written to `/dev/fuse` synchronously and the kernel may have to wait for
//! a page lock while handling one, so they are sent from a blocking thread
//! (`spawn_blocking`), never from a runtime thread that a handler may need.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use fusegen::Notifier;
use fusegen::cli::Daemon;
use fusegen::prelude::*;
use parking_lot::Mutex;

const CLOCK: Inode = Inode(2);
const LOG: Inode = Inode(3);
/// Log entry `n` (from 1) is inode `LOG_BASE + n`.
const LOG_BASE: u64 = 100;

#[derive(Filesystem)]
#[fuse(
    read_only,
    fsname = "notify",
    subtype = "notify",
    attr_timeout = 3600,
    entry_timeout = 3600,
    negative_timeout = 3600
)]
struct Ticking {
    state: Mutex<State>,
}

/// Everything that changes, under one lock so that each reply is consistent.
struct State {
    started: SystemTime,
    tick: u64,
    /// The content of `clock`: the time of the last tick, one line.
    clock: String,
    clock_mtime: SystemTime,
    /// The creation time of each log entry; entry `n` is `log[n - 1]`.
    log: Vec<SystemTime>,
}

/// What one tick changed, for the notifications and the printed line.
struct Change {
    tick: u64,
    clock: String,
    /// The name of the new log entry, if this tick made one.
    new_entry: Option<String>,
    entries: usize,
}

impl Ticking {
    fn new() -> Ticking {
        let now = SystemTime::now();
        Ticking {
            state: Mutex::new(State {
                started: now,
                tick: 0,
                clock: clock_line(now),
                clock_mtime: now,
                log: Vec::new(),
            }),
        }
    }

    /// Moves the clock forward and, every `log_every` ticks, adds a log entry.
    fn advance(&self, log_every: u64) -> Change {
        let now = SystemTime::now();
        let mut s = self.state.lock();
        s.tick += 1;
        s.clock = clock_line(now);
        s.clock_mtime = now;
        let new_entry = if s.tick.is_multiple_of(log_every) {
            s.log.push(now);
            Some(entry_name(s.log.len()))
        } else {
            None
        };
        Change {
            tick: s.tick,
            clock: s.clock.clone(),
            new_entry,
            entries: s.log.len(),
        }
    }

    fn attributes(&self, ino: Inode) -> Result<EntryAttributes> {
        let s = self.state.lock();
        let (attr, time) = match ino {
            Inode::ROOT => (
                EntryAttributes::new(ino, FileType::Directory, 0o555),
                s.started,
            ),
            CLOCK => (
                EntryAttributes::new(ino, FileType::RegularFile, 0o444)
                    .with_size(s.clock.len() as u64),
                s.clock_mtime,
            ),
            LOG => (
                EntryAttributes::new(ino, FileType::Directory, 0o555).with_size(s.log.len() as u64),
                s.log.last().copied().unwrap_or(s.started),
            ),
            _ => {
                let n = log_index(ino).ok_or(Errno::ENOENT)?;
                let created = *s.log.get(n - 1).ok_or(Errno::ENOENT)?;
                let content = entry_content(n, created);
                (
                    EntryAttributes::new(ino, FileType::RegularFile, 0o444)
                        .with_size(content.len() as u64),
                    created,
                )
            }
        };
        Ok(EntryAttributes {
            atime: time,
            mtime: time,
            ctime: time,
            btime: time,
            ..attr
        })
    }

    /// The entries of a directory, `.` and `..` included.
    fn entries(&self, dir: Inode) -> Result<Vec<(String, Inode)>> {
        let mut list = vec![(".".to_string(), dir), ("..".to_string(), Inode::ROOT)];
        match dir {
            Inode::ROOT => {
                list.push(("clock".into(), CLOCK));
                list.push(("log".into(), LOG));
            }
            LOG => {
                let count = self.state.lock().log.len();
                list.extend((1..=count).map(|n| (entry_name(n), Inode(LOG_BASE + n as u64))));
            }
            _ => return Err(Errno::ENOTDIR),
        }
        Ok(list)
    }
}

#[fusegen::handlers]
impl Ticking {
    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        let found = match (parent, name.to_str()) {
            (Inode::ROOT, Some("clock")) => Some(CLOCK),
            (Inode::ROOT, Some("log")) => Some(LOG),
            (LOG, Some(name)) => parse_entry_name(name).map(|n| Inode(LOG_BASE + n as u64)),
            _ => None,
        };
        match found.map(|ino| self.attributes(ino)) {
            Some(Ok(attr)) => Ok(attr),
            // A negative entry: the kernel remembers the absence (for `negative_timeout`),
            // until `invalidate_entry` drops it.
            _ => Ok(EntryAttributes::negative(Duration::from_secs(3600))),
        }
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.attributes(ino)
    }

    /// Cached pages survive reopening (as with the `kernel_cache` option).
    async fn open(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        Ok(FileInfo::new(0u64).keep_cache(true))
    }

    async fn read(&self, ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        let content = match ino {
            CLOCK => self.state.lock().clock.clone(),
            _ => {
                let n = log_index(ino).ok_or(Errno::EISDIR)?;
                let created = *self.state.lock().log.get(n - 1).ok_or(Errno::ENOENT)?;
                entry_content(n, created)
            }
        };
        let content = content.as_bytes();
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(content.len());
        let end = start.saturating_add(size as usize).min(content.len());
        Ok(Bytes::copy_from_slice(&content[start..end]))
    }

    /// The kernel may cache listings (`CACHE_DIR`) and keep them across opens.
    async fn opendir(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        let mut info = FileInfo::new(0u64).keep_cache(true);
        info.flags |= fusegen::OpenFlags::CACHE_DIR;
        Ok(info)
    }

    async fn readdir(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
    ) -> Result<()> {
        // Entries are only ever appended, so a position in the list is a stable offset.
        let entries = self.entries(ino)?;
        let listing = entries
            .iter()
            .map(|(name, child)| Ok((name, self.attributes(*child)?)))
            .collect::<Result<Vec<_>>>()?;
        out.add_listing(offset, listing);
        Ok(())
    }
}

fn entry_name(n: usize) -> String {
    format!("{n:04}")
}

/// `0001` → 1; anything not written by [`entry_name`] → `None`.
fn parse_entry_name(name: &str) -> Option<usize> {
    let n: usize = name.parse().ok()?;
    (n > 0 && entry_name(n) == name).then_some(n)
}

fn log_index(ino: Inode) -> Option<usize> {
    let n = ino.0.checked_sub(LOG_BASE)?;
    (n > 0).then_some(n as usize)
}

fn entry_content(n: usize, created: SystemTime) -> String {
    format!("entry {n} created at {}", clock_line(created))
}

/// `2025-01-31T12:34:56.789Z` and a newline: UTC, always 25 bytes (until the year 10000).
fn clock_line(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z\n",
        s / 3600,
        s / 60 % 60,
        s % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Tells the kernel what a tick changed. `ENOENT` only means the kernel has nothing cached
/// for that inode or name, which is fine.
fn notify(notifier: &Notifier, change: &Change) {
    let report = |what: &str, result: Result<()>| match result {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(e) => tracing::warn!(error = %e, "notification about {what} failed"),
    };
    report("clock", notifier.invalidate_inode(CLOCK, false));
    if let Some(name) = &change.new_entry {
        // A reader that looked for this name before it existed has a cached "no such file".
        report(
            "a new log name",
            notifier.invalidate_entry(LOG, OsStr::new(name)),
        );
        // The listing and the attributes (mtime, size) of log/ changed too.
        report("log/", notifier.invalidate_inode(LOG, false));
    }
}

/// The background task: ticks forever (until aborted).
async fn tick(fs: Arc<Ticking>, notifier: Option<Notifier>, interval: Duration, log_every: u64) {
    let mut timer = tokio::time::interval(interval);
    // After a stall, tick once rather than in a burst: every tick must change the clock.
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer.tick().await; // The first tick is immediate.
    loop {
        timer.tick().await;
        let change = Arc::new(fs.advance(log_every));
        if let Some(notifier) = &notifier {
            let (notifier, change) = (notifier.clone(), change.clone());
            let _ = tokio::task::spawn_blocking(move || notify(&notifier, &change)).await;
        }
        println!(
            "tick={} clock={} log={}",
            change.tick,
            change.clock.trim_end(),
            change.entries
        );
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "notify",
    about = "A clock and a growing log, cached for an hour and kept fresh by notifications"
)]
struct Args {
    /// Do not send notifications: readers keep seeing what the kernel cached first
    #[arg(long)]
    no_notify: bool,
    /// Milliseconds between ticks of the clock
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    interval_ms: u64,
    /// Add a file to log/ every this many ticks
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    log_every: u64,
    /// `-o`, `-f`, `-d` and MOUNTPOINT, as for every FUSE filesystem
    #[command(flatten)]
    mount: fusegen::cli::MountArgs,
}

fn main() -> ExitCode {
    let args: Args = fusegen::cli::parse();
    args.mount.init_logging();
    let options = match args.mount.mount_options(Ticking::mount_options()) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("notify: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Before the runtime starts its threads: forking a multi-threaded process is unsound.
    let mut daemon = match Daemon::start(args.mount.stays_in_foreground(), "notify") {
        Ok(daemon) => daemon,
        Err(e) => {
            eprintln!("notify: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return daemon.failed(&format!("starting the runtime: {e}")),
    };
    runtime.block_on(serve(&args, options, &mut daemon))
}

/// `fusegen::cli::Serve::run` with the notifier and the ticking task added.
async fn serve(args: &Args, options: MountOptions, daemon: &mut Daemon) -> ExitCode {
    use tokio::signal::unix::{SignalKind, signal};
    // Installed before mounting, so that Ctrl-C never leaves a mount without a server.
    let signals =
        signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
    let (mut sigint, mut sigterm) = match signals {
        Ok(signals) => signals,
        Err(e) => return daemon.failed(&format!("installing signal handlers: {e}")),
    };
    let mountpoint = match std::path::absolute(&args.mount.mountpoint) {
        Ok(path) => path,
        Err(e) => return daemon.failed(&format!("{}: {e}", args.mount.mountpoint.display())),
    };
    let mut session = match fusegen::mount(Ticking::new(), &mountpoint, options) {
        Ok(session) => session,
        Err(e) => return daemon.failed(&e.to_string()),
    };
    daemon.mounted();
    let handle = session.handle();
    let watcher = tokio::spawn(async move {
        tokio::select! {
            _ = sigint.recv() => {}
            _ = sigterm.recv() => {}
        }
        handle.terminate();
    });
    let notifier = (!args.no_notify).then(|| session.notifier());
    let ticker = tokio::spawn(tick(
        session.filesystem().clone(),
        notifier,
        Duration::from_millis(args.interval_ms),
        args.log_every,
    ));

    let result = session.main(Ticking::workers()).await;
    ticker.abort();
    watcher.abort();
    session.close(true);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("notify: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_lines_are_utc_and_fixed_length() {
        let at = |secs: u64, millis: u64| {
            clock_line(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z\n");
        assert_eq!(at(951_825_600, 5), "2000-02-29T12:00:00.005Z\n");
        assert_eq!(at(1_735_689_599, 999), "2024-12-31T23:59:59.999Z\n");
        assert_eq!(at(4_102_444_800, 0), "2100-01-01T00:00:00.000Z\n");
        assert_eq!(at(1_735_689_599, 999).len(), 25);
    }

    #[test]
    fn entry_names_round_trip() {
        assert_eq!(entry_name(1), "0001");
        assert_eq!(parse_entry_name("0001"), Some(1));
        assert_eq!(parse_entry_name("12345"), Some(12_345));
        assert_eq!(parse_entry_name("1"), None);
        assert_eq!(parse_entry_name("0000"), None);
        assert_eq!(parse_entry_name("+001"), None);
    }

    #[test]
    fn a_log_entry_appears_every_log_every_ticks() {
        let fs = Ticking::new();
        let made: Vec<Option<String>> = (0..6).map(|_| fs.advance(3).new_entry).collect();
        assert_eq!(
            made,
            [
                None,
                None,
                Some("0001".into()),
                None,
                None,
                Some("0002".into())
            ]
        );
        assert_eq!(fs.entries(LOG).unwrap().len(), 4);
        assert!(fs.attributes(Inode(LOG_BASE + 2)).is_ok());
        assert_eq!(fs.attributes(Inode(LOG_BASE + 3)), Err(Errno::ENOENT));
    }
}
