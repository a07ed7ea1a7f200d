//! metabench: the metadata and small-file workloads of `bench/run.sh`.
//!
//! ```text
//! metabench meta  --dir DIR --files N [--readdir-passes P] [--daemon-pid PID]
//! metabench small --dir DIR --files N [--size BYTES] [--daemon-pid PID]
//! ```
//!
//! `meta` creates N empty files in DIR (a fresh directory it makes), `stat`s each, lists the
//! directory P times and unlinks every file; `small` writes N files of BYTES (4 KiB) each,
//! then reads them back, then (untimed) removes them. Every call is relative to a descriptor
//! of DIR (`openat`, `fstatat`, `unlinkat`), so each operation costs one lookup of one name,
//! never a walk from the root. One thread; `sync(2)` (untimed) between phases so that one
//! phase's writeback does not land in the next one's time.
//!
//! Prints one JSON object per phase on stdout:
//! `{"phase":"create","ops":10000,"secs":0.41,"cpu":0.12,"vcsw":10012,"nvcsw":40,"migr":3}`
//! where `cpu` is the user + system time the process `--daemon-pid` spent during the phase
//! (from `/proc/PID/stat`), `vcsw` and `nvcsw` its voluntary and involuntary context switches
//! and `migr` its threads' moves between CPUs (summed over the threads alive at the end of
//! the phase, from `/proc/PID/task/*/status` and `.../sched`: a thread that exits during the
//! phase takes its counts with it), each `null` without `--daemon-pid`.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

struct Args {
    mode: String,
    dir: PathBuf,
    files: usize,
    size: usize,
    readdir_passes: usize,
    daemon_pid: Option<u32>,
    /// `--in-place`: use `--dir` as it is (an existing, empty directory such as the root of a
    /// filesystem without `mkdir`) instead of creating and removing it.
    in_place: bool,
}

const USAGE: &str = "usage: metabench meta|small --dir DIR --files N [--size BYTES] \
                     [--readdir-passes P] [--daemon-pid PID] [--in-place]";

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mode = it.next().ok_or(USAGE)?;
    if mode != "meta" && mode != "small" {
        return Err(format!("unknown mode `{mode}`\n{USAGE}"));
    }
    let mut args = Args {
        mode,
        dir: PathBuf::new(),
        files: 10_000,
        size: 4096,
        readdir_passes: 1,
        daemon_pid: None,
        in_place: false,
    };
    while let Some(flag) = it.next() {
        if flag == "--in-place" {
            args.in_place = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: `{value}` is not a number"))
        };
        match flag.as_str() {
            "--dir" => args.dir = PathBuf::from(&value),
            "--files" => args.files = num()?,
            "--size" => args.size = num()?,
            "--readdir-passes" => args.readdir_passes = num()?.max(1),
            "--daemon-pid" => args.daemon_pid = Some(num()? as u32),
            _ => return Err(format!("unknown option `{flag}`\n{USAGE}")),
        }
    }
    if args.dir.as_os_str().is_empty() {
        return Err(format!("--dir is required\n{USAGE}"));
    }
    Ok(args)
}

/// User + system CPU seconds of a process (all its threads, living and exited).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 (index 0 here); utime is 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some((utime + stime) as f64 / ticks.max(1) as f64)
}

/// Voluntary and involuntary context switches and CPU migrations of a process, summed over
/// its living threads. `None` when the process is gone; migrations are 0 when the kernel has
/// no `/proc/PID/task/TID/sched` (no CONFIG_SCHED_DEBUG).
fn sched_counts(pid: u32) -> Option<[u64; 3]> {
    let mut sum = [0u64; 3];
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(task) = task else { continue };
        // A thread may exit between the listing and the read: skip it.
        let Ok(status) = fs::read_to_string(task.path().join("status")) else { continue };
        for line in status.lines() {
            let (slot, rest) = if let Some(r) = line.strip_prefix("voluntary_ctxt_switches:") {
                (0, r)
            } else if let Some(r) = line.strip_prefix("nonvoluntary_ctxt_switches:") {
                (1, r)
            } else {
                continue;
            };
            sum[slot] += rest.trim().parse::<u64>().unwrap_or(0);
        }
        if let Ok(sched) = fs::read_to_string(task.path().join("sched")) {
            let migr = sched.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "se.nr_migrations").then(|| v.trim().parse::<u64>().ok())?
            });
            sum[2] += migr.unwrap_or(0);
        }
    }
    Some(sum)
}

fn cstr(name: &str) -> CString {
    CString::new(name).expect("file names have no NUL")
}

fn check(ret: libc::c_int, what: &str, name: &CString) -> io::Result<libc::c_int> {
    if ret < 0 {
        let e = io::Error::last_os_error();
        Err(io::Error::new(e.kind(), format!("{what} {name:?}: {e}")))
    } else {
        Ok(ret)
    }
}

fn open_dir(path: &PathBuf) -> io::Result<OwnedFd> {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).expect("path has no NUL");
    // SAFETY: `c` is a valid NUL-terminated string.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    check(fd, "open", &c)?;
    // SAFETY: `fd` was just returned by open(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

struct Phase<'a> {
    args: &'a Args,
}

impl Phase<'_> {
    /// Runs `body` (which returns the number of operations it did) as one timed phase.
    fn run(&self, name: &str, body: impl FnOnce() -> io::Result<usize>) -> io::Result<()> {
        // SAFETY: sync(2) has no preconditions.
        unsafe { libc::sync() };
        let cpu0 = self.args.daemon_pid.and_then(cpu_seconds);
        let sched0 = self.args.daemon_pid.and_then(sched_counts);
        let t0 = Instant::now();
        let ops = body()?;
        let secs = t0.elapsed().as_secs_f64();
        let cpu1 = self.args.daemon_pid.and_then(cpu_seconds);
        let sched1 = self.args.daemon_pid.and_then(sched_counts);
        let cpu = match (cpu0, cpu1) {
            (Some(a), Some(b)) => format!("{:.3}", b - a),
            _ => "null".to_string(),
        };
        // Differences as signed numbers: an exited thread can make one negative.
        let count = |i: usize| match (sched0, sched1) {
            (Some(a), Some(b)) => (b[i] as i64 - a[i] as i64).to_string(),
            _ => "null".to_string(),
        };
        let (vcsw, nvcsw, migr) = (count(0), count(1), count(2));
        println!(
            r#"{{"phase":"{name}","ops":{ops},"secs":{secs:.6},"cpu":{cpu},"vcsw":{vcsw},"nvcsw":{nvcsw},"migr":{migr}}}"#
        );
        Ok(())
    }
}

fn names(n: usize) -> Vec<CString> {
    (0..n).map(|i| cstr(&format!("f{i:07}"))).collect()
}

fn create_all(dir: &OwnedFd, names: &[CString], data: Option<&[u8]>) -> io::Result<usize> {
    for name in names {
        let flags = libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC;
        // SAFETY: valid directory descriptor and NUL-terminated name.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, 0o644 as libc::c_uint) };
        check(fd, "create", name)?;
        // SAFETY: `fd` was just returned by openat(2) and is owned by nobody else.
        let file = unsafe { OwnedFd::from_raw_fd(fd) };
        if let Some(data) = data {
            let mut done = 0;
            while done < data.len() {
                // SAFETY: the buffer is valid for `data.len() - done` bytes.
                let n = unsafe {
                    libc::write(
                        file.as_raw_fd(),
                        data[done..].as_ptr().cast(),
                        data.len() - done,
                    )
                };
                done += check(n as libc::c_int, "write", name)? as usize;
            }
        }
        drop(file);
    }
    Ok(names.len())
}

fn unlink_all(dir: &OwnedFd, names: &[CString]) -> io::Result<usize> {
    for name in names {
        // SAFETY: valid directory descriptor and NUL-terminated name.
        let r = unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) };
        check(r, "unlink", name)?;
    }
    Ok(names.len())
}

fn meta(args: &Args, dir: &OwnedFd) -> io::Result<()> {
    let names = names(args.files);
    let phase = Phase { args };
    phase.run("create", || create_all(dir, &names, None))?;
    phase.run("stat", || {
        for name in &names {
            // SAFETY: all-zero bytes are a valid `struct stat`.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: valid descriptor, name and out-pointer.
            let r = unsafe {
                libc::fstatat(dir.as_raw_fd(), name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW)
            };
            check(r, "stat", name)?;
        }
        Ok(names.len())
    })?;
    phase.run("readdir", || {
        let mut seen = 0;
        for _ in 0..args.readdir_passes {
            let mut files = 0;
            for entry in fs::read_dir(&args.dir)? {
                entry?;
                files += 1;
            }
            // In place, the directory may hold entries of its own (a filesystem's root).
            if files != names.len() && !(args.in_place && files > names.len()) {
                return Err(io::Error::other(format!(
                    "readdir listed {files} entries, expected {}",
                    names.len()
                )));
            }
            seen += files;
        }
        Ok(seen)
    })?;
    phase.run("unlink", || unlink_all(dir, &names))
}

fn small(args: &Args, dir: &OwnedFd) -> io::Result<()> {
    let names = names(args.files);
    let data: Vec<u8> = (0..args.size).map(|i| (i % 251) as u8).collect();
    let phase = Phase { args };
    phase.run("smallwrite", || create_all(dir, &names, Some(&data)))?;
    phase.run("smallread", || {
        let mut buf = vec![0u8; args.size + 4096];
        for name in &names {
            // SAFETY: valid directory descriptor and NUL-terminated name.
            let fd = unsafe {
                libc::openat(dir.as_raw_fd(), name.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC)
            };
            check(fd, "open", name)?;
            // SAFETY: `fd` was just returned by openat(2) and is owned by nobody else.
            let file = unsafe { OwnedFd::from_raw_fd(fd) };
            let mut total = 0;
            loop {
                // SAFETY: the buffer is valid for `buf.len() - total` bytes.
                let n = unsafe {
                    libc::read(file.as_raw_fd(), buf[total..].as_mut_ptr().cast(), buf.len() - total)
                };
                let n = check(n as libc::c_int, "read", name)? as usize;
                if n == 0 {
                    break;
                }
                total += n;
            }
            if total != args.size || buf[..total] != data[..] {
                return Err(io::Error::other(format!(
                    "{name:?}: read {total} bytes that differ from the {} written",
                    args.size
                )));
            }
        }
        Ok(names.len())
    })?;
    unlink_all(dir, &names)?;
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("metabench: {e}");
            return ExitCode::from(2);
        }
    };
    let made = if args.in_place {
        Ok(())
    } else {
        fs::create_dir(&args.dir)
            .map_err(|e| io::Error::new(e.kind(), format!("mkdir {}: {e}", args.dir.display())))
    };
    let result = made
        .and_then(|()| open_dir(&args.dir))
        .and_then(|dir| match args.mode.as_str() {
            "meta" => meta(&args, &dir),
            _ => small(&args, &dir),
        })
        .and_then(|()| {
            if args.in_place {
                Ok(())
            } else {
                fs::remove_dir(&args.dir)
            }
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("metabench: {e}");
            ExitCode::FAILURE
        }
    }
}
