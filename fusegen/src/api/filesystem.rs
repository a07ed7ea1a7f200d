//! [`Filesystem`]: a type's mount configuration, written by `#[derive(Filesystem)]` from its
//! `#[fuse(...)]` options, and what [`run`](crate::run) mounts with.

use crate::api::operations::Operations;

use crate::mount::MountOptions;
use std::time::Duration;

/// A filesystem with its default configuration.
///
/// `#[derive(Filesystem)]` implements it from `#[fuse(...)]` options; a hand-written
/// [`Operations`] implementation can use the defaults with an empty `impl Filesystem for T {}`.
///
/// ```
/// use fusegen::prelude::*;
///
/// #[derive(Filesystem)]
/// #[fuse(read_only, fsname = "demo", attr_timeout = 60, max_tasks = 8)]
/// struct Demo;
///
/// #[fusegen::handlers]
/// impl Demo {
///     async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
///         Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
///     }
/// }
///
/// let options = Demo::mount_options();
/// assert!(options.read_only);
/// assert_eq!(options.fsname.as_deref(), Some("demo"));
/// assert_eq!(options.attr_timeout, Some(std::time::Duration::from_secs(60)));
/// assert_eq!(Demo::workers().max, 8);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a fusegen filesystem",
    label = "expected a filesystem itself, by value",
    note = "pass the filesystem by value, not `&fs` or `Arc<Fs>`: the runtime shares it between requests internally",
    note = "a filesystem is a struct with `#[derive(fusegen::Filesystem)]` and a `#[fusegen::handlers]` impl block"
)]
pub trait Filesystem: IntoOperations {
    /// The mount options from `#[fuse(...)]` (defaults otherwise). Programs may change them
    /// before mounting, e.g. from `-o` arguments with [`MountOptions::set`].
    fn mount_options() -> MountOptions {
        MountOptions::default()
    }

    /// Worker limits from `#[fuse(min_tasks, max_tasks, shutdown_grace)]`.
    fn workers() -> Workers {
        Workers::default()
    }
}

/// What serves a [`Filesystem`]'s requests: the type itself when it implements
/// [`Operations`] (inode-level handlers), or, for a path-level filesystem written with
/// `#[fusegen::handlers(paths)]`, the [`PathFs`](crate::paths::PathFs) adapter that keeps its
/// inodes. [`run`](crate::run), `cli::run` and the test harness convert with
/// it, so both kinds are passed to them the same way.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no FUSE handlers",
    label = "no `#[fusegen::handlers]` block for `{Self}`",
    note = "write the handlers as `async fn`s in an `impl {Self} {{ ... }}` block marked `#[fusegen::handlers]` (inode level) or `#[fusegen::handlers(paths)]` (path level)"
)]
pub trait IntoOperations: Send + Sync + 'static {
    /// The inode-level filesystem that answers the kernel.
    type Operations: Operations;

    /// Turns the filesystem into the one that answers the kernel.
    fn into_operations(self) -> Self::Operations;
}

// Hidden from errors about other types: their fix is a handlers block, not `Operations`.
#[diagnostic::do_not_recommend]
impl<T: Operations> IntoOperations for T {
    type Operations = T;

    fn into_operations(self) -> T {
        self
    }
}

/// Worker task limits for [`Session::main`](crate::Session::main) (pyfuse3's `min_tasks` / `max_tasks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workers {
    /// Workers kept alive even when idle (at least 1).
    pub min: usize,
    /// Most requests served at once.
    pub max: usize,
    /// After `terminate()`, how long in-flight handlers may run before they are cancelled.
    pub grace: Duration,
}

impl Default for Workers {
    /// pyfuse3's defaults: 1 to 99 workers; 5 seconds of grace at shutdown.
    fn default() -> Workers {
        Workers {
            min: 1,
            max: 99,
            grace: Duration::from_secs(5),
        }
    }
}
