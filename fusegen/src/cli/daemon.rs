//! [`Daemon`]: detaching from the terminal the way libfuse filesystems do, with the mount's
//! outcome reported back to the command that started it.
//!
//! The process forks before any thread exists (a forked multi-threaded process keeps only
//! one thread, and every lock the others held stays locked). The parent then waits on a pipe:
//! the child writes one byte `0` once the filesystem is mounted, or `1` followed by the error
//! message, and the parent exits with status 0 or prints the message and exits with status 1.
//! If the child dies without writing, the parent reports how it ended.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;

use nix::fcntl::OFlag;
use nix::sys::wait::{WaitStatus, waitpid};

use crate::sys::{Forked, fork_single_threaded};

const MOUNTED: u8 = 0;
const FAILED: u8 = 1;

/// The detaching step of a FUSE program: in the background process, the channel that tells
/// the waiting command how mounting went; in the foreground, messages go to stderr.
///
/// ```no_run
/// use fusegen::cli::Daemon;
/// # #[derive(fusegen::Filesystem)]
/// # struct X;
/// # #[fusegen::handlers]
/// # impl X {}
/// # fn build_fs() -> X { X }
///
/// fn main() -> std::process::ExitCode {
///     let foreground = false;
///     // Before any runtime or thread starts; the command's process waits in here and exits.
///     let mut daemon = Daemon::start(foreground, "myfs").unwrap_or_else(|e| {
///         eprintln!("myfs: {e}");
///         std::process::exit(1)
///     });
///     let runtime = tokio::runtime::Runtime::new().expect("runtime");
///     runtime.block_on(async {
///         let options = fusegen::MountOptions::default();
///         let mut session = match fusegen::mount(build_fs(), "/mnt/x", options) {
///             Ok(session) => session,
///             Err(e) => return daemon.failed(&e.to_string()),
///         };
///         daemon.mounted(); // the command exits 0 now; this process carries on
///         let _ = session.main(fusegen::Workers::default()).await;
///         session.close(true);
///         std::process::ExitCode::SUCCESS
///     })
/// }
/// ```
#[derive(Debug)]
pub struct Daemon {
    name: String,
    /// The pipe to the waiting parent; `None` in the foreground or once reported.
    report: Option<OwnedFd>,
}

impl Daemon {
    /// In the foreground, returns at once. Otherwise forks: the calling process waits until
    /// the new one calls [`mounted`](Self::mounted) (then exits with status 0) or
    /// [`failed`](Self::failed) (prints the message on stderr as `NAME: message`, exits with
    /// status 1); only the new process returns, in a new session (`setsid`), so that the
    /// terminal's Ctrl-C no longer reaches it.
    ///
    /// Fails without forking if the process already runs more than one thread: call it
    /// before starting a tokio runtime or any thread.
    pub fn start(foreground: bool, name: &str) -> std::io::Result<Daemon> {
        let name = name.to_string();
        if foreground {
            return Ok(Daemon { name, report: None });
        }
        let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        match fork_single_threaded()? {
            Forked::Parent(child) => {
                drop(write_end);
                std::process::exit(wait_for_mount(&name, read_end, child))
            }
            Forked::Child => {
                drop(read_end);
                nix::unistd::setsid()?;
                Ok(Daemon {
                    name,
                    report: Some(write_end),
                })
            }
        }
    }

    /// Whether this process detached (and so has a command waiting for its report).
    pub fn is_detached(&self) -> bool {
        self.report.is_some()
    }

    /// The filesystem is mounted: detached, lets the waiting command exit with status 0, and
    /// moves this process off the terminal (stdin, stdout and stderr to `/dev/null`) and off
    /// the current directory (to `/`), as libfuse does. Later calls do nothing.
    ///
    /// Relative paths stop working after this call in a detached process: resolve them first.
    pub fn mounted(&mut self) {
        let Some(pipe) = self.report.take() else {
            return;
        };
        if let Err(e) = detach_stdio() {
            tracing::warn!("detaching from the terminal: {e}");
        }
        // Not fatal: the filesystem works from any directory; "/" only avoids pinning one.
        let _ = nix::unistd::chdir("/");
        // If the command is gone, nobody waits for the answer.
        let _ = std::fs::File::from(pipe).write_all(&[MOUNTED]);
    }

    /// Mounting failed: detached, sends `message` to the waiting command, which prints it
    /// and exits with status 1; in the foreground, prints it on stderr. Returns the exit
    /// status for this process (1).
    pub fn failed(&mut self, message: &str) -> std::process::ExitCode {
        match self.report.take() {
            Some(pipe) => {
                let mut bytes = vec![FAILED];
                bytes.extend_from_slice(message.as_bytes());
                let _ = std::fs::File::from(pipe).write_all(&bytes);
            }
            None => eprintln!("{}: {message}", self.name),
        }
        std::process::ExitCode::FAILURE
    }
}

/// The parent's side: the exit status for the command, after printing any failure.
fn wait_for_mount(name: &str, read_end: OwnedFd, child: nix::unistd::Pid) -> i32 {
    let mut pipe = std::fs::File::from(read_end);
    let mut first = [0u8; 1];
    // One byte first: success needs no end of file (a process the child started could hold
    // a copy of the pipe).
    let read = loop {
        match pipe.read(&mut first) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => break other,
        }
    };
    match read {
        Ok(1) if first[0] == MOUNTED => 0,
        Ok(1) => {
            let mut message = Vec::new();
            let _ = pipe.read_to_end(&mut message);
            eprintln!("{name}: {}", String::from_utf8_lossy(&message));
            1
        }
        Err(e) => {
            eprintln!("{name}: waiting for the background process to mount: {e}");
            1
        }
        Ok(_) => {
            let how = match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => format!("exited with status {code}"),
                Ok(WaitStatus::Signaled(_, signal, _)) => format!("was killed by {signal}"),
                Ok(other) => format!("ended ({other:?})"),
                Err(e) => format!("could not be waited for ({e})"),
            };
            eprintln!("{name}: the background process {how} before mounting");
            1
        }
    }
}

fn detach_stdio() -> std::io::Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    nix::unistd::dup2_stdin(&null)?;
    nix::unistd::dup2_stdout(&null)?;
    nix::unistd::dup2_stderr(&null)?;
    Ok(())
}
