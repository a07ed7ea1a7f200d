//! The `notify` example: a clock and a growing log cached by the kernel for an hour. With
//! notifications readers see every change; with `--no-notify` they keep the cached copy.
//!
//! The example prints `tick=N clock=TIME log=COUNT` after each tick: what the filesystem holds,
//! read without going through the kernel's caches. Ticks are waited for by polling with a
//! generous bound; nothing depends on how long a tick takes.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::examples::example_binary;
use crate::mount::common::{CALL_TIMEOUT, fuse_available, is_mounted, wait_unmounted, within};

/// Fast ticks, a log entry on every tick.
const ARGS: [&str; 4] = ["--interval-ms", "50", "--log-every", "1"];

/// One line of the example's output.
#[derive(Debug, Clone, PartialEq)]
struct Tick {
    n: u64,
    /// The content of `clock` after this tick, without the newline.
    clock: String,
    /// Files in `log/` after this tick.
    log: usize,
}

fn parse_tick(line: &str) -> Option<Tick> {
    let mut n = None;
    let mut clock = None;
    let mut log = None;
    for field in line.split_whitespace() {
        match field.split_once('=')? {
            ("tick", v) => n = v.parse().ok(),
            ("clock", v) => clock = Some(v.to_string()),
            ("log", v) => log = v.parse().ok(),
            _ => {}
        }
    }
    Some(Tick {
        n: n?,
        clock: clock?,
        log: log?,
    })
}

/// The running example; killed and unmounted on drop, also when the test fails.
struct Ticking {
    child: Option<Child>,
    dir: tempfile::TempDir,
    last: Arc<Mutex<Option<Tick>>>,
    stderr: Arc<Mutex<String>>,
}

impl Ticking {
    /// Starts the example with `args` and a fresh mountpoint; returns once it serves.
    fn start(args: &[&str]) -> Ticking {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(example_binary("notify"))
            .arg("-f")
            .args(args)
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the notify example");
        let last = Arc::new(Mutex::new(None));
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn({
            let last = last.clone();
            move || {
                for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                    let tick = parse_tick(&line).unwrap_or_else(|| panic!("bad line {line:?}"));
                    *last.lock().unwrap() = Some(tick);
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        std::thread::spawn({
            let stderr = stderr.clone();
            move || {
                let mut buf = [0; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut buf) {
                    stderr
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let mut ex = Ticking {
            child: Some(child),
            dir,
            last,
            stderr,
        };
        ex.wait_for("the mount", |ex| is_mounted(ex.path()));
        // The first access waits until the session has answered INIT.
        let root = ex.path().to_path_buf();
        within(CALL_TIMEOUT, "first stat of the mount", move || {
            std::fs::metadata(root)
        })
        .expect("stat of the fresh mount");
        ex
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The last tick the example reported.
    fn last(&self) -> Option<Tick> {
        self.last.lock().unwrap().clone()
    }

    /// Polls `cond` (bounded); fails early if the example exits.
    fn wait_for(&mut self, what: &str, mut cond: impl FnMut(&Ticking) -> bool) {
        let deadline = Instant::now() + CALL_TIMEOUT;
        while !cond(self) {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "the example exited ({status}) while waiting for {what}; stderr:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; stderr:\n{}",
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the example has reported a tick that satisfies `cond`, and returns it.
    fn wait_for_tick(&mut self, what: &str, cond: impl Fn(&Tick) -> bool) -> Tick {
        self.wait_for(what, |ex| ex.last().is_some_and(|t| cond(&t)));
        self.last().unwrap()
    }

    /// Ctrl-C: the example must exit successfully and leave no mount.
    fn interrupt(mut self) {
        let mut child = self.child.take().unwrap();
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        let status = within(CALL_TIMEOUT, "the example to exit", move || child.wait()).unwrap();
        assert!(
            status.success(),
            "the example failed ({status}); stderr:\n{}",
            self.stderr.lock().unwrap()
        );
        assert!(
            wait_unmounted(self.path(), CALL_TIMEOUT),
            "Ctrl-C left the mount behind"
        );
    }
}

impl Drop for Ticking {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if is_mounted(self.path()) {
            let _ = nix::mount::umount2(self.path(), nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

fn read(path: PathBuf) -> String {
    within(CALL_TIMEOUT, "read", move || std::fs::read_to_string(path)).unwrap()
}

fn list(path: PathBuf) -> Vec<String> {
    let mut names: Vec<String> = within(CALL_TIMEOUT, "readdir", move || {
        std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    });
    names.sort();
    names
}

/// `stat`: `Ok(())` or the errno.
fn stat(path: PathBuf) -> Result<(), i32> {
    within(CALL_TIMEOUT, "stat", move || std::fs::metadata(path))
        .map(|_| ())
        .map_err(|e| e.raw_os_error().unwrap_or(0))
}

/// A log name that does not exist yet, looked up once so the kernel caches its absence.
/// Returns its number.
fn negative_lookup_of_a_future_entry(ex: &mut Ticking) -> usize {
    let now = ex.wait_for_tick("a first tick", |_| true);
    // Several ticks ahead, so that it does not appear between choosing and looking; should
    // it anyway, take the next one.
    let mut n = now.log + 5;
    while stat(ex.join(&format!("log/{n:04}"))).is_ok() {
        n += 1;
    }
    assert_eq!(
        stat(ex.join(&format!("log/{n:04}"))),
        Err(libc::ENOENT),
        "log/{n:04} does not exist yet"
    );
    n
}

fn names(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| format!("{n:04}")).collect()
}

#[test]
fn notify_example_readers_see_every_change_through_long_caches() {
    let Some(()) = fuse_available("notify_example_readers_see_every_change_through_long_caches")
    else {
        return;
    };
    let mut ex = Ticking::start(&ARGS);

    // clock: cached for an hour, yet a later read shows a later time.
    let first = read(ex.join("clock"));
    assert_eq!(first.len(), 25, "{first:?}");
    let clock = ex.join("clock");
    ex.wait_for("clock to change", |_| read(clock.clone()) != first);
    let later = read(ex.join("clock"));
    assert!(later > first, "{later:?} is later than {first:?}");

    // A name looked up before it existed becomes visible to stat and to readdir.
    let n = negative_lookup_of_a_future_entry(&mut ex);
    let entry = ex.join(&format!("log/{n:04}"));
    ex.wait_for("the new log entry to stat", |_| stat(entry.clone()).is_ok());
    let log = ex.join("log");
    ex.wait_for("the new log entry to be listed", |_| {
        list(log.clone()).contains(&format!("{n:04}"))
    });
    let listed = list(ex.join("log"));
    assert_eq!(listed[..n], names(1..=n), "entries appear in order");
    let content = read(entry);
    assert!(
        content.starts_with(&format!("entry {n} created at ")),
        "{content:?}"
    );

    ex.interrupt();
}

#[test]
fn notify_example_without_notifications_serves_stale_caches() {
    let Some(()) = fuse_available("notify_example_without_notifications_serves_stale_caches")
    else {
        return;
    };
    let mut args = vec!["--no-notify"];
    args.extend(ARGS);
    let mut ex = Ticking::start(&args);

    // Fill the caches: the clock's pages, the listing of log/, the absence of a future name.
    let clock = read(ex.join("clock"));
    let listing = list(ex.join("log"));
    let n = negative_lookup_of_a_future_entry(&mut ex);

    // The filesystem moves on: a new time, and the looked-up name now exists.
    let shown = clock.trim_end().to_string();
    let tick = ex.wait_for_tick("the clock to change and the entry to exist", |t| {
        t.clock != shown && t.log >= n
    });
    // Give the kernel every chance: a few more ticks.
    ex.wait_for_tick("three more ticks", |t| t.n >= tick.n + 3);

    assert_eq!(
        read(ex.join("clock")),
        clock,
        "without a notification the cached clock is served"
    );
    assert_eq!(
        list(ex.join("log")),
        listing,
        "without a notification the cached listing is served"
    );
    assert_eq!(
        stat(ex.join(&format!("log/{n:04}"))),
        Err(libc::ENOENT),
        "without a notification the cached absence is served"
    );

    ex.interrupt();
}

#[test]
fn tick_lines_parse() {
    assert_eq!(
        parse_tick("tick=3 clock=2025-01-31T12:34:56.789Z log=2"),
        Some(Tick {
            n: 3,
            clock: "2025-01-31T12:34:56.789Z".into(),
            log: 2
        })
    );
    assert_eq!(parse_tick("mounted"), None);
}
