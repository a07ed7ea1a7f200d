//! The command line FUSE filesystems share (feature `cli`):
//!
//! ```text
//! PROG [-o OPT[,OPT...]]... [-f] [-d] [PROGRAM'S OWN ARGUMENTS] [SOURCE] MOUNTPOINT
//! ```
//!
//! This is also the command line `mount(8)` uses through `mount.fuse3`, so every such program
//! can be mounted with `mount -t fuse.PROG SOURCE MOUNTPOINT -o OPTS` or from an fstab line
//! (`docs/operations.md`). A program without a source of its own accepts a `SOURCE` argument
//! (`none`, say) and ignores it.
//!
//! - `-o`: mount options, as for libfuse filesystems (`docs/mount.md` lists them); unknown
//!   names are errors with a "did you mean" suggestion.
//! - `-f`: stay in the foreground; Ctrl-C or SIGTERM unmounts.
//! - `-d`: debug: the `debug` mount option (every request logged) and debug-level logging on
//!   stderr; implies `-f`.
//! - without `-f`, the program detaches like libfuse filesystems: it returns once the
//!   filesystem is mounted (exit status 0), or prints why mounting failed (status 1), while a
//!   background process serves the mount until it is unmounted (`umount MOUNTPOINT` or
//!   `fusermount3 -u MOUNTPOINT`).
//!
//! Errors go to stderr with exit status 1; `--help` prints the usage with status 0.
//!
//! The easiest use is [`run`], a complete `main` for a filesystem without flags of its own:
//!
//! ```no_run
//! use fusegen::prelude::*;
//!
//! #[derive(Filesystem)]
//! #[fuse(read_only)]
//! struct Empty;
//!
//! #[fusegen::handlers]
//! impl Empty {
//!     async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
//!         Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
//!     }
//! }
//!
//! // Not `#[tokio::main]`: detaching must happen before the runtime starts its threads.
//! fn main() -> std::process::ExitCode {
//!     fusegen::cli::run(Empty)
//! }
//! ```
//!
//! A program with flags of its own flattens [`MountArgs`] into its clap parser, and serves
//! with [`Serve`]:
//!
//! ```no_run
//! # use fusegen::prelude::*;
//! # #[derive(Filesystem)]
//! # struct Sized;
//! # #[fusegen::handlers]
//! # impl Sized {}
//! # impl Sized { fn new(_limit: u64) -> Sized { Sized } }
//! use clap::Parser;
//!
//! /// A filesystem with a size limit.
//! #[derive(Parser)]
//! struct Args {
//!     /// Most bytes stored
//!     #[arg(long, default_value_t = 1 << 30)]
//!     size: u64,
//!     #[command(flatten)]
//!     mount: fusegen::cli::MountArgs,
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let args: Args = fusegen::cli::parse();
//!     fusegen::cli::Serve::new(Sized::new(args.size)).run(&args.mount)
//! }
//! ```
//!
//! [`Daemon`] is the detaching step alone, for programs that drive the session themselves.

mod daemon;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, FromArgMatches, Parser};

pub use daemon::Daemon;
pub use serve::Serve;

use crate::{Filesystem, MountError, MountOptions};

/// The arguments every FUSE filesystem takes; `#[command(flatten)]` them into a clap parser.
///
/// A program with a positional argument of its own (a source directory, a data file) declares
/// it before the flattened `MountArgs`, so that `MOUNTPOINT` stays last.
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Args {
///     #[command(flatten)]
///     mount: fusegen::cli::MountArgs,
/// }
///
/// let args = Args::try_parse_from(["myfs", "-o", "ro,allow_other", "-o", "fsname=x", "-d", "/mnt"])?;
/// assert!(args.mount.debug && args.mount.stays_in_foreground());
/// let options = args.mount.mount_options(fusegen::MountOptions::default())?;
/// assert!(options.read_only && options.allow_other && options.debug);
/// assert_eq!(options.fsname.as_deref(), Some("x"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Args, Debug, Clone, Default, PartialEq)]
// This documentation is for Rust readers: it must not become the program's `--help` text.
// The optional SOURCE sits before the required MOUNTPOINT: `mount.fuse3` runs
// `PROG SOURCE MOUNTPOINT -o ...` also for filesystems that take no source.
#[command(about = None, long_about = None, allow_missing_positional = true)]
pub struct MountArgs {
    /// Mount options, comma-separated (e.g. `-o ro,allow_other`); may be repeated
    #[arg(short = 'o', value_name = "OPT[,OPT...]")]
    pub options: Vec<String>,
    /// Stay in the foreground (Ctrl-C unmounts); without it the program detaches once mounted
    #[arg(short = 'f', long)]
    pub foreground: bool,
    /// Debug: log every request on stderr (the `debug` mount option); implies -f
    #[arg(short = 'd', long)]
    pub debug: bool,
    /// The source `mount(8)` passes first (`none` for a filesystem without one); ignored.
    /// A program with a source of its own declares it before the flattened `MountArgs`,
    /// and that one receives it instead (its clap id is private, so a `source` field of the
    /// program does not clash).
    #[arg(id = "__fusegen_mount_source", value_name = "SOURCE", hide = true)]
    pub source: Option<std::ffi::OsString>,
    /// Directory to mount on (or `/dev/fd/N`: a `/dev/fuse` descriptor already mounted by
    /// the parent process)
    #[arg(value_name = "MOUNTPOINT")]
    pub mountpoint: PathBuf,
}

impl MountArgs {
    /// `base` (usually `FS::mount_options()`, from `#[fuse(...)]`) with every `-o` item
    /// applied in order, and `debug` set by `-d`. Errors name the bad item and suggest the
    /// closest valid option.
    pub fn mount_options(&self, base: MountOptions) -> Result<MountOptions, MountError> {
        let mut options = base;
        for item in &self.options {
            options.set(item)?;
        }
        if self.debug {
            options.debug = true;
        }
        Ok(options)
    }

    /// Whether the program stays attached to the terminal: `-f`, or `-d` (which implies it).
    pub fn stays_in_foreground(&self) -> bool {
        self.foreground || self.debug
    }

    /// Logs to stderr through `tracing`: the `RUST_LOG` filter if set, else `debug` with `-d`
    /// and `warn` without, plus the one `info` line that says the filesystem is mounted
    /// (`NAME: mounted on MOUNTPOINT`, target `fusegen::mounted`). Does nothing if the
    /// program already installed a subscriber.
    pub fn init_logging(&self) {
        use tracing_subscriber::EnvFilter;
        let default = if self.debug {
            "debug".to_string()
        } else {
            format!("warn,{}=info", crate::session::MOUNTED_TARGET)
        };
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init();
    }
}

/// Parses the command line into `T` like [`Parser::parse`], but with the exit statuses of
/// FUSE filesystems: usage errors print on stderr and exit with status 1 (clap's own is 2);
/// `--help` and `--version` print on stdout and exit with status 0.
pub fn parse<T: Parser>() -> T {
    exit_on_error(T::try_parse())
}

/// The command line of a filesystem without flags of its own, named after the running binary.
fn parse_mount_args() -> MountArgs {
    let command = MountArgs::augment_args(clap::Command::new(program_name()))
        .about("A FUSE filesystem: mounts it on MOUNTPOINT");
    exit_on_error(
        command
            .try_get_matches()
            .and_then(|m| MountArgs::from_arg_matches(&m)),
    )
}

fn exit_on_error<T>(parsed: Result<T, clap::Error>) -> T {
    match parsed {
        Ok(value) => value,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    }
}

/// The running binary's file name, for messages (`hello: ...`).
pub(crate) fn program_name() -> String {
    crate::session::process_name()
}

/// A complete `main` for a filesystem without flags of its own: parses
/// `PROG [-o OPTS] [-f] [-d] MOUNTPOINT`, then mounts and serves `fs` with its `#[fuse(...)]`
/// configuration plus the `-o` options, detached unless `-f` or `-d` is given.
///
/// Call it from a plain `fn main`, not from inside a tokio runtime: it starts its own runtime
/// after detaching. `fs` is built before detaching, so it must not start threads itself.
pub fn run<FS: Filesystem>(fs: FS) -> ExitCode {
    let args = parse_mount_args();
    Serve::new(fs).run(&args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[derive(Parser, Debug)]
    struct WithSource {
        #[arg(long)]
        size: Option<u64>,
        source: PathBuf,
        #[command(flatten)]
        mount: MountArgs,
    }

    #[derive(Parser, Debug)]
    struct Alone {
        #[command(flatten)]
        mount: MountArgs,
    }

    #[test]
    fn flags_and_options_parse_in_any_order() {
        let a = Alone::try_parse_from(["p", "/mnt", "-oro", "-f", "-o", "allow_other,fsname=a"])
            .unwrap();
        assert_eq!(a.mount.mountpoint, PathBuf::from("/mnt"));
        assert!(a.mount.foreground && !a.mount.debug);
        assert_eq!(a.mount.options, ["ro", "allow_other,fsname=a"]);
        let o = a.mount.mount_options(MountOptions::default()).unwrap();
        assert!(o.read_only && o.allow_other && !o.debug);
        assert_eq!(o.fsname.as_deref(), Some("a"));
    }

    #[test]
    fn debug_sets_the_option_and_implies_foreground() {
        let a = Alone::try_parse_from(["p", "-d", "/mnt"]).unwrap();
        assert!(!a.mount.foreground && a.mount.stays_in_foreground());
        assert!(
            a.mount
                .mount_options(MountOptions::default())
                .unwrap()
                .debug
        );
        let b = Alone::try_parse_from(["p", "/mnt"]).unwrap();
        assert!(!b.mount.stays_in_foreground());
    }

    #[test]
    fn command_line_options_override_the_program_defaults() {
        let a = Alone::try_parse_from(["p", "-o", "rw,attr_timeout=2", "/mnt"]).unwrap();
        let base = MountOptions::default().read_only(true);
        let o = a.mount.mount_options(base).unwrap();
        assert!(!o.read_only);
        assert_eq!(o.attr_timeout, Some(std::time::Duration::from_secs(2)));
    }

    #[test]
    fn an_unknown_option_suggests_the_closest_one() {
        let a = Alone::try_parse_from(["p", "-o", "alow_other", "/mnt"]).unwrap();
        let err = a
            .mount
            .mount_options(MountOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("alow_other") && err.contains("did you mean `allow_other`?"),
            "{err}"
        );
    }

    #[test]
    fn a_source_argument_comes_before_the_mountpoint() {
        let a = WithSource::try_parse_from(["p", "--size", "5", "/src", "/mnt", "-f"]).unwrap();
        assert_eq!(a.source, PathBuf::from("/src"));
        assert_eq!(a.mount.mountpoint, PathBuf::from("/mnt"));
        assert_eq!(a.size, Some(5));
        assert!(WithSource::try_parse_from(["p", "/mnt"]).is_err());
    }

    #[test]
    fn mount8_command_lines_parse() {
        // What mount.fuse3 runs for `mount -t fuse.memfs none /mnt -o noatime,_netdev`.
        let a = Alone::try_parse_from(["p", "none", "/mnt", "-o", "rw,noatime,dev,suid"]).unwrap();
        assert_eq!(
            a.mount.source.as_deref(),
            Some(std::ffi::OsStr::new("none"))
        );
        assert_eq!(a.mount.mountpoint, PathBuf::from("/mnt"));
        let o = a.mount.mount_options(MountOptions::default()).unwrap();
        assert!(o.dev && o.suid);
        let b = Alone::try_parse_from(["p", "/mnt"]).unwrap();
        assert_eq!(
            (b.mount.source, b.mount.mountpoint),
            (None, PathBuf::from("/mnt"))
        );
        assert!(Alone::try_parse_from(["p", "a", "b", "c"]).is_err());
        // A program with a source of its own gets it; nothing is left for MountArgs.
        let c = WithSource::try_parse_from(["p", "/src", "/mnt", "-o", "rw,nosuid"]).unwrap();
        assert_eq!(c.source, PathBuf::from("/src"));
        assert_eq!(
            (c.mount.source, c.mount.mountpoint),
            (None, PathBuf::from("/mnt"))
        );
        let text = Alone::command().render_long_help().to_string();
        assert!(
            !text.contains("SOURCE"),
            "the ignored source shows in --help:\n{text}"
        );
    }

    #[test]
    fn usage_errors_go_to_stderr_and_help_to_stdout() {
        let missing = Alone::try_parse_from(["p"]).unwrap_err();
        assert!(missing.use_stderr());
        let unknown = Alone::try_parse_from(["p", "-x", "/mnt"]).unwrap_err();
        assert!(unknown.use_stderr());
        let help = Alone::try_parse_from(["p", "--help"]).unwrap_err();
        assert!(!help.use_stderr());
        let text = Alone::command().render_long_help().to_string();
        assert!(
            !text.contains("flatten"),
            "the struct's rustdoc leaked into --help:\n{text}"
        );
        for flag in [
            "-o <OPT[,OPT...]>",
            "-f, --foreground",
            "-d, --debug",
            "<MOUNTPOINT>",
        ] {
            assert!(text.contains(flag), "{flag} missing from:\n{text}");
        }
    }
}
