//! Locks between processes on `memfs` (which serves them from `fusegen::locks`) and on
//! `passthrough` (which leaves them to the kernel): `EDEADLK` between two processes, `F_GETLK`
//! naming the holder, and `kill -9` freeing a holder's locks and a waiter.
//!
//! Every process that locks is a child of this test binary (`lock_child`, driven line by line
//! through its stdin), because POSIX locks belong to processes. Every wait is bounded: when a
//! child does not answer in time the mount's connection is aborted through fusectl (which
//! ends the stuck calls) and the test fails.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, Flock, FlockArg, fcntl};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::memfs::Memfs;
use crate::mount::common::{abort_connection, connection_number};
use crate::passthrough::Mirror;

/// The file `lock_child` opens.
const CHILD_FILE: &str = "FUSEGEN_LOCK_CHILD_FILE";

/// How long an answer that needs no waiting may take.
const ANSWER: Duration = Duration::from_secs(5);

/// Not a test of its own: a process taking locks on [`CHILD_FILE`] as its stdin says, one
/// answer line (`@@ …`) per command. Without [`CHILD_FILE`] it does nothing.
#[test]
fn lock_child() {
    let Ok(path) = std::env::var(CHILD_FILE) else {
        return;
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open the lock file");
    let mut flocked = None;
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "@@ {line}");
        let _ = out.flush();
    };
    say(format!("ready {}", std::process::id()));
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            [op @ ("set" | "wait" | "getlk"), typ, start, len] => {
                let typ = match *typ {
                    "r" => libc::F_RDLCK,
                    "w" => libc::F_WRLCK,
                    _ => libc::F_UNLCK,
                };
                let mut fl = libc::flock {
                    l_type: typ as i16,
                    l_whence: libc::SEEK_SET as i16,
                    l_start: start.parse().unwrap_or(0),
                    l_len: len.parse().unwrap_or(0),
                    l_pid: 0,
                };
                let r = match *op {
                    "set" => fcntl(&file, FcntlArg::F_SETLK(&fl)),
                    "wait" => fcntl(&file, FcntlArg::F_SETLKW(&fl)),
                    _ => fcntl(&file, FcntlArg::F_GETLK(&mut fl)),
                };
                match (r, *op) {
                    (Ok(_), "getlk") => format!(
                        "lock {} {} {} {}",
                        fl.l_type, fl.l_start, fl.l_len, fl.l_pid
                    ),
                    (Ok(_), _) => "ok".to_string(),
                    (Err(e), _) => format!("err {}", e as i32),
                }
            }
            ["flock", "ex"] => {
                let f = OpenOptions::new().read(true).open(&path);
                match f.map(|f| Flock::lock(f, FlockArg::LockExclusive)) {
                    Ok(Ok(l)) => {
                        flocked = Some(l);
                        "ok".to_string()
                    }
                    Ok(Err((_, e))) => format!("err {}", e as i32),
                    Err(e) => format!("err {}", e.raw_os_error().unwrap_or(0)),
                }
            }
            ["exit"] => break,
            _ => format!("bad command {line:?}"),
        };
        say(answer);
    }
    drop(flocked);
}

/// A `lock_child` process; killed with SIGKILL on drop (and if that does not end it, its
/// mount's connection is aborted, so a failing test never leaves a process stuck).
struct Locker {
    mount: PathBuf,
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    pid: u32,
}

impl Locker {
    fn start(file: &Path) -> Locker {
        let mount = file.parent().expect("a file in the mount").to_path_buf();
        let mut child = Command::new(std::env::current_exe().expect("test binary path"))
            .args([
                "--exact",
                "locks::lock_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_FILE, file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn a locking process");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may print its `test … ` prefix on the same line.
                if let Some((_, answer)) = line.split_once("@@ ")
                    && tx.send(answer.to_string()).is_err()
                {
                    break;
                }
            }
        });
        let mut l = Locker {
            mount,
            child,
            stdin,
            lines,
            pid: 0,
        };
        let ready = l.answer(ANSWER).expect("the locking process starts");
        l.pid = ready
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .expect("ready line");
        l
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").expect("write to the locking process");
    }

    /// The next answer, or `None` if none came within `timeout`.
    fn answer(&mut self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    fn kill9(&self) {
        let _ = kill(Pid::from_raw(self.pid as i32), Signal::SIGKILL);
    }

    /// Whether the process has ended (reaping it).
    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Locker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        for attempt in 0..2 {
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                if self.exited() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if attempt == 0 {
                eprintln!("a killed locking process is stuck: aborting its connection");
                if let Some(n) = connection_number(&self.mount) {
                    let _ = abort_connection(n);
                }
            }
        }
        eprintln!("a locking process (pid {}) stays stuck", self.pid);
    }
}

/// A mounted filesystem under test: the mountpoint, and the guard that unmounts it.
struct Mounted {
    path: PathBuf,
    _guard: Box<dyn Send>,
}

fn memfs(test: &str) -> Option<Mounted> {
    let m = Memfs::start(test, &[])?;
    Some(Mounted {
        path: m.path().to_path_buf(),
        _guard: Box::new(m),
    })
}

fn passthrough(test: &str) -> Option<Mounted> {
    let m = Mirror::start(test, &[])?;
    Some(Mounted {
        path: m.mnt().to_path_buf(),
        _guard: Box::new(m),
    })
}

impl Mounted {
    /// A fresh file on the mount for the test's lockers.
    fn file(&self, name: &str) -> PathBuf {
        let path = self.path.join(name);
        let p = path.clone();
        crate::mount::common::within(ANSWER, "create the lock file", move || {
            std::fs::write(p, [0u8; 64])
        })
        .expect("create the lock file");
        path
    }

    /// Fails the test after aborting the connection, so nothing stays blocked on it.
    fn stuck(&self, what: &str) -> ! {
        let Some(n) = connection_number(&self.path) else {
            panic!("{what}; the mount is gone");
        };
        let waiting = std::fs::read_to_string(format!("/sys/fs/fuse/connections/{n}/waiting"))
            .unwrap_or_else(|_| "?".into());
        let aborted = abort_connection(n);
        panic!(
            "{what}; requests waiting on the connection: {}; abort: {aborted:?}",
            waiting.trim()
        );
    }

    /// `locker`'s answer to `command`, within `timeout`.
    fn ask(&self, locker: &mut Locker, command: &str, timeout: Duration) -> String {
        locker.send(command);
        locker
            .answer(timeout)
            .unwrap_or_else(|| self.stuck(&format!("no answer to `{command}` in {timeout:?}")))
    }

    /// Sends a command that must block: no answer may come for a while.
    fn blocks(&self, locker: &mut Locker, command: &str) {
        locker.send(command);
        if let Some(a) = locker.answer(Duration::from_millis(300)) {
            panic!("`{command}` should wait, but answered {a:?}");
        }
    }
}

fn deadlock_between_two_processes(m: Mounted) {
    let file = m.file("deadlock");
    let (mut a, mut b) = (Locker::start(&file), Locker::start(&file));
    assert_eq!(m.ask(&mut a, "set w 0 1", ANSWER), "ok");
    assert_eq!(m.ask(&mut b, "set w 1 1", ANSWER), "ok");
    m.blocks(&mut a, "wait w 1 1");
    // b closing the cycle gets EDEADLK, as on tmpfs, and a stays waiting.
    let answer = m.ask(&mut b, "wait w 0 1", ANSWER);
    assert_eq!(answer, format!("err {}", Errno::EDEADLK as i32));
    // b giving up its lock lets a in.
    assert_eq!(m.ask(&mut b, "set u 1 1", ANSWER), "ok");
    let answer = a
        .answer(ANSWER)
        .unwrap_or_else(|| m.stuck("a was not granted"));
    assert_eq!(answer, "ok");
}

fn getlk_names_the_holder(m: Mounted) {
    let file = m.file("getlk");
    let (mut a, mut b) = (Locker::start(&file), Locker::start(&file));
    assert_eq!(m.ask(&mut a, "set w 10 10", ANSWER), "ok");
    let holder = m.ask(&mut b, "getlk r 0 0", ANSWER);
    assert_eq!(
        holder,
        format!("lock {} 10 10 {}", libc::F_WRLCK, a.pid),
        "type, start, length and pid of the holder"
    );
    let free = m.ask(&mut b, "getlk w 20 0", ANSWER);
    assert!(
        free.starts_with(&format!("lock {} ", libc::F_UNLCK)),
        "{free}"
    );
}

fn sigkill_of_a_holder_frees_its_locks(m: Mounted) {
    let file = m.file("holder");
    let (mut a, mut b) = (Locker::start(&file), Locker::start(&file));
    assert_eq!(m.ask(&mut a, "set w 0 0", ANSWER), "ok");
    assert_eq!(m.ask(&mut a, "flock ex", ANSWER), "ok");
    m.blocks(&mut b, "wait w 5 1");
    // The kernel closes the killed process's files: FLUSH releases its POSIX locks, RELEASE
    // its flock lock.
    a.kill9();
    let answer = b
        .answer(Duration::from_secs(1))
        .unwrap_or_else(|| m.stuck("the killed holder's lock was not released within 1 s"));
    assert_eq!(answer, "ok");
    let answer = m.ask(&mut b, "flock ex", Duration::from_secs(2));
    assert_eq!(answer, "ok", "the killed holder's flock lock was released");
}

fn sigkill_of_a_waiter(m: Mounted) {
    let file = m.file("waiter");
    let (mut a, mut b) = (Locker::start(&file), Locker::start(&file));
    assert_eq!(m.ask(&mut a, "set w 0 0", ANSWER), "ok");
    m.blocks(&mut b, "wait w 0 0");
    b.kill9();
    let deadline = Instant::now() + Duration::from_secs(1);
    while !b.exited() {
        if Instant::now() > deadline {
            m.stuck("a process killed while waiting in F_SETLKW did not end within 1 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // The killed waiter took nothing: once a lets go, another process gets the lock.
    assert_eq!(m.ask(&mut a, "set u 0 0", ANSWER), "ok");
    let mut c = Locker::start(&file);
    assert_eq!(m.ask(&mut c, "set w 0 0", ANSWER), "ok");
    // The same for a waiter in flock(LOCK_EX).
    assert_eq!(m.ask(&mut a, "flock ex", ANSWER), "ok");
    let mut d = Locker::start(&file);
    m.blocks(&mut d, "flock ex");
    d.kill9();
    let deadline = Instant::now() + Duration::from_secs(1);
    while !d.exited() {
        if Instant::now() > deadline {
            m.stuck("a process killed while waiting in flock did not end within 1 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn memfs_deadlock_between_two_processes_gets_edeadlk() {
    if let Some(m) = memfs("memfs_deadlock_between_two_processes_gets_edeadlk") {
        deadlock_between_two_processes(m);
    }
}

#[test]
fn passthrough_deadlock_between_two_processes_gets_edeadlk() {
    if let Some(m) = passthrough("passthrough_deadlock_between_two_processes_gets_edeadlk") {
        deadlock_between_two_processes(m);
    }
}

#[test]
fn memfs_getlk_names_the_holder() {
    if let Some(m) = memfs("memfs_getlk_names_the_holder") {
        getlk_names_the_holder(m);
    }
}

#[test]
fn passthrough_getlk_names_the_holder() {
    if let Some(m) = passthrough("passthrough_getlk_names_the_holder") {
        getlk_names_the_holder(m);
    }
}

#[test]
fn memfs_sigkill_of_a_holder_frees_its_locks() {
    if let Some(m) = memfs("memfs_sigkill_of_a_holder_frees_its_locks") {
        sigkill_of_a_holder_frees_its_locks(m);
    }
}

#[test]
fn passthrough_sigkill_of_a_holder_frees_its_locks() {
    if let Some(m) = passthrough("passthrough_sigkill_of_a_holder_frees_its_locks") {
        sigkill_of_a_holder_frees_its_locks(m);
    }
}

/// Needs the runtime to cancel a waiting SETLKW/flock on FUSE_INTERRUPT (issue 17); the kernel
/// sends one when the waiter is killed.
#[test]
fn memfs_sigkill_frees_a_waiter_in_setlkw() {
    if let Some(m) = memfs("memfs_sigkill_frees_a_waiter_in_setlkw") {
        sigkill_of_a_waiter(m);
    }
}

#[test]
fn passthrough_sigkill_frees_a_waiter_in_setlkw() {
    if let Some(m) = passthrough("passthrough_sigkill_frees_a_waiter_in_setlkw") {
        sigkill_of_a_waiter(m);
    }
}
