//! INIT negotiation: from the kernel's offer, the mount options and the handlers a filesystem
//! declares, decide the protocol minor, the capability flags and the limits.
//!
//! Pure: takes the parsed INIT, returns the reply struct and the [`Negotiated`] settings the
//! rest of the session runs with.

use crate::api::operations::Handlers;
use crate::mount::MountOptions;
use crate::proto::abi::{self, *};
use crate::proto::request::{InitIn, Layout};

/// Highest protocol minor this library speaks.
pub(crate) const OUR_MINOR: u32 = abi::FUSE_KERNEL_MINOR_VERSION;
/// Lowest protocol minor accepted: 7.31 (Linux 5.4). Older kernels use request and reply
/// layouts this library does not implement.
pub(crate) const MIN_MINOR: u32 = 31;
/// Default largest WRITE request: 1 MiB, the kernel's default `max_pages_limit` (256 pages).
pub(crate) const DEFAULT_MAX_WRITE: u32 = 1 << 20;
const PAGE_SIZE: u32 = 4096;

/// What the session runs with after INIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Negotiated {
    pub minor: u32,
    /// Granted capability bits (kernel numbering, flags2 in the high half).
    pub flags: u64,
    pub max_write: u32,
    pub max_readahead: u32,
    pub layout: Layout,
}

impl Negotiated {
    pub(crate) fn has(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }

    /// Size of the read buffer: the largest request is a WRITE of `max_write` bytes plus its
    /// headers, and the kernel refuses reads into buffers below 8 KiB.
    pub(crate) fn buffer_size(&self) -> usize {
        let need = self.max_write as usize + PAGE_SIZE as usize;
        need.max(abi::FUSE_MIN_READ_BUFFER)
    }
}

/// Why INIT could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InitError {
    #[error(
        "the kernel speaks FUSE protocol {major}.{minor}; fusegen needs 7.{MIN_MINOR} or newer \
         (Linux 5.4+)"
    )]
    TooOld { major: u32, minor: u32 },
}

/// Flags requested whatever the filesystem: each is safe for any implementation.
const ALWAYS: u64 = FUSE_ASYNC_READ
    | FUSE_BIG_WRITES
    | FUSE_MAX_PAGES
    | FUSE_ASYNC_DIO
    | FUSE_AUTO_INVAL_DATA
    // READDIRPLUS where it pays: the kernel asks for attributes on a directory's first
    // batch and again after lookups in it (`ls -l`), plain READDIR otherwise (`ls`, `find`),
    // which spares the filesystem a lookup per entry. `readdir` serves both
    // (`ReaddirReply::is_plus`).
    | FUSE_DO_READDIRPLUS
    | FUSE_READDIRPLUS_AUTO
    | FUSE_PARALLEL_DIROPS
    // An ENOSYS from open/opendir then means "no open needed"; `dispatch` keeps the same
    // behaviour on kernels that do not offer these.
    | FUSE_NO_OPEN_SUPPORT
    | FUSE_NO_OPENDIR_SUPPORT
    | FUSE_ABORT_ERROR
    | FUSE_DIRECT_IO_ALLOW_MMAP
    | FUSE_HAS_EXPIRE_ONLY
    | FUSE_INIT_EXT;

/// Whether the server takes the clearing of setuid/setgid over (`server/killpriv.rs`, and asks
/// for `FUSE_HANDLE_KILLPRIV_V2`): the
/// `handle_killpriv` option is on and the filesystem can read and change modes.
pub(crate) fn killpriv_enabled(options: &MountOptions, handlers: Handlers) -> bool {
    options.handle_killpriv && handlers.contains(Handlers::GETATTR | Handlers::SETATTR)
}

/// The flags we would like, before intersecting with the kernel's offer.
pub(crate) fn wanted_flags(options: &MountOptions, handlers: Handlers) -> u64 {
    let mut f = ALWAYS;
    let mut add = |on: bool, flag: u64| {
        if on {
            f |= flag;
        }
    };
    // The kernel sends POSIX locks to the filesystem only if it can both test and set them.
    add(
        handlers.contains(Handlers::GETLK | Handlers::SETLK),
        FUSE_POSIX_LOCKS,
    );
    add(handlers.contains(Handlers::FLOCK), FUSE_FLOCK_LOCKS);
    add(handlers.contains(Handlers::IOCTL), FUSE_HAS_IOCTL_DIR);
    add(
        options.export_support && handlers.contains(Handlers::LOOKUP),
        FUSE_EXPORT_SUPPORT,
    );
    add(options.cache_symlinks, FUSE_CACHE_SYMLINKS);
    add(options.atomic_o_trunc, FUSE_ATOMIC_O_TRUNC);
    add(options.acl, FUSE_POSIX_ACL);
    add(options.writeback_cache, FUSE_WRITEBACK_CACHE);
    // The runtime clears setuid/setgid when the kernel flags a request (see `killpriv`), so
    // the kernel may stop probing `security.capability` before writes.
    add(killpriv_enabled(options, handlers), FUSE_HANDLE_KILLPRIV_V2);
    // Registering backing files needs CAP_SYS_ADMIN; asking without it only makes every
    // passthrough open fail, so don't.
    add(
        options.passthrough && !options.writeback_cache && nix::unistd::geteuid().is_root(),
        FUSE_PASSTHROUGH,
    );
    f
}

/// Decides the INIT reply.
pub(crate) fn negotiate(
    init: &InitIn,
    options: &MountOptions,
    handlers: Handlers,
) -> Result<(Negotiated, abi::fuse_init_out), InitError> {
    if init.major < 7 || (init.major == 7 && init.minor < MIN_MINOR) {
        return Err(InitError::TooOld {
            major: init.major,
            minor: init.minor,
        });
    }
    // A kernel with a newer major waits for a reply naming ours, then sends INIT again.
    let minor = if init.major > 7 {
        OUR_MINOR
    } else {
        init.minor.min(OUR_MINOR)
    };
    let mut flags = wanted_flags(options, handlers) & init.flags;
    if flags & FUSE_PASSTHROUGH != 0 {
        // Writes through a backing file never reach the filesystem as WRITE, so nothing
        // would clear setuid on them: the kernel must keep doing it (its SETATTR reaches
        // the handlers). Tested in tests/mount/killpriv.rs.
        flags &= !FUSE_HANDLE_KILLPRIV_V2;
    }
    if minor < 36 {
        // flags2 exists only from 7.36; below it the high half must stay clear.
        flags &= u64::from(u32::MAX) & !FUSE_INIT_EXT;
    }
    let max_write = options
        .max_write
        .unwrap_or(DEFAULT_MAX_WRITE)
        .max(PAGE_SIZE);
    let max_readahead = options
        .max_readahead
        .map_or(init.max_readahead, |r| r.min(init.max_readahead));
    let max_pages = u16::try_from(max_write.div_ceil(PAGE_SIZE)).unwrap_or(u16::MAX);
    let reply = abi::fuse_init_out {
        major: 7,
        minor,
        max_readahead,
        flags: (flags & u64::from(u32::MAX)) as u32,
        max_background: options.max_background.unwrap_or(0),
        congestion_threshold: options.congestion_threshold.unwrap_or(0),
        max_write,
        time_gran: 1,
        max_pages,
        map_alignment: 0,
        flags2: (flags >> 32) as u32,
        max_stack_depth: if flags & FUSE_PASSTHROUGH != 0 {
            options.max_stack_depth.unwrap_or(1)
        } else {
            0
        },
        request_timeout: 0,
        unused: [0; 11],
    };
    let negotiated = Negotiated {
        minor,
        flags,
        max_write,
        max_readahead,
        layout: Layout {
            setxattr_ext: flags & FUSE_SETXATTR_EXT != 0,
        },
    };
    Ok((negotiated, reply))
}

/// The protocol minor that introduced FUSE-over-io_uring.
pub(crate) const URING_MINOR: u32 = 42;

/// Why INIT cannot grant FUSE-over-io_uring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UringRefused {
    /// The kernel speaks an older protocol than [`URING_MINOR`].
    OldKernel { minor: u32 },
    /// The kernel did not offer `FUSE_OVER_IO_URING` (or the reply cannot carry `flags2`).
    NotOffered,
}

/// At INIT, once the transport has rings to offer: accepts `FUSE_OVER_IO_URING` in the reply
/// (`out`) and in the negotiated flags when the kernel offers it, speaks 7.42+ and uses the
/// extended flags.
pub(crate) fn grant_uring(
    init: &InitIn,
    out: &mut fuse_init_out,
    negotiated: &mut Negotiated,
) -> Result<(), UringRefused> {
    let offered = init.flags & FUSE_OVER_IO_URING != 0;
    if !offered || out.minor < URING_MINOR || !negotiated.has(FUSE_INIT_EXT) {
        return Err(if init.minor < URING_MINOR {
            UringRefused::OldKernel { minor: init.minor }
        } else {
            UringRefused::NotOffered
        });
    }
    out.flags2 |= (FUSE_OVER_IO_URING >> 32) as u32;
    negotiated.flags |= FUSE_OVER_IO_URING;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(minor: u32, flags: u64) -> InitIn {
        InitIn {
            major: 7,
            minor,
            max_readahead: 128 * 1024,
            flags,
        }
    }

    #[test]
    fn replies_with_the_common_minor() {
        let opts = MountOptions::default();
        let (n, out) = negotiate(&offer(45, u64::MAX), &opts, Handlers::empty()).unwrap();
        assert_eq!((out.major, out.minor, n.minor), (7, 45, 45));
        let (_, out) = negotiate(&offer(38, u64::MAX), &opts, Handlers::empty()).unwrap();
        assert_eq!(out.minor, 38);
    }

    #[test]
    fn too_old_kernel_is_refused() {
        let opts = MountOptions::default();
        let err = negotiate(&offer(26, u64::MAX), &opts, Handlers::empty()).unwrap_err();
        assert!(err.to_string().contains("7.31"), "{err}");
    }

    #[test]
    fn only_offered_flags_are_granted() {
        let opts = MountOptions::default();
        let offered = FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_INIT_EXT | FUSE_PASSTHROUGH;
        let (n, out) = negotiate(&offer(45, offered), &opts, Handlers::empty()).unwrap();
        assert_eq!(n.flags, FUSE_ASYNC_READ | FUSE_INIT_EXT);
        assert_eq!(out.flags2, 0);
    }

    #[test]
    fn lock_flags_follow_declared_handlers() {
        let opts = MountOptions::default();
        let all = offer(45, u64::MAX);
        let (n, _) = negotiate(&all, &opts, Handlers::empty()).unwrap();
        assert!(!n.has(FUSE_POSIX_LOCKS) && !n.has(FUSE_FLOCK_LOCKS));
        let both = Handlers::GETLK | Handlers::SETLK | Handlers::FLOCK;
        let (n, _) = negotiate(&all, &opts, both).unwrap();
        assert!(n.has(FUSE_POSIX_LOCKS) && n.has(FUSE_FLOCK_LOCKS));
        let (n, _) = negotiate(&all, &opts, Handlers::GETLK).unwrap();
        assert!(
            !n.has(FUSE_POSIX_LOCKS),
            "getlk alone does not enable POSIX locks"
        );
    }

    #[test]
    fn killpriv_v2_needs_attribute_handlers_and_the_option() {
        let all = offer(45, u64::MAX);
        let attrs = Handlers::GETATTR | Handlers::SETATTR;
        let (n, out) = negotiate(&all, &MountOptions::default(), attrs).unwrap();
        assert!(n.has(FUSE_HANDLE_KILLPRIV_V2));
        assert_ne!(
            out.flags as u64 & FUSE_HANDLE_KILLPRIV_V2,
            0,
            "a low-half flag"
        );
        let (n, _) = negotiate(&all, &MountOptions::default(), Handlers::GETATTR).unwrap();
        assert!(
            !n.has(FUSE_HANDLE_KILLPRIV_V2),
            "no setattr: nothing to clear with"
        );
        let off = MountOptions::parse(["no_handle_killpriv"]).unwrap();
        let (n, _) = negotiate(&all, &off, attrs).unwrap();
        assert!(!n.has(FUSE_HANDLE_KILLPRIV_V2));
        // Not with kernel passthrough, whose writes bypass the runtime.
        let pt = MountOptions::parse(["passthrough"]).unwrap();
        if nix::unistd::geteuid().is_root() {
            let (n, _) = negotiate(&all, &pt, attrs).unwrap();
            assert!(n.has(FUSE_PASSTHROUGH) && !n.has(FUSE_HANDLE_KILLPRIV_V2));
        }
        // Never the first version, whose semantics (kill on every write) differ.
        let (n, _) = negotiate(&all, &MountOptions::default(), attrs).unwrap();
        assert!(!n.has(FUSE_HANDLE_KILLPRIV));
    }

    #[test]
    fn max_write_sets_max_pages_and_buffer() {
        let opts = MountOptions::default();
        let (n, out) = negotiate(&offer(45, u64::MAX), &opts, Handlers::empty()).unwrap();
        assert_eq!(out.max_write, 1 << 20);
        assert_eq!(out.max_pages, 256);
        assert!(n.buffer_size() >= (1 << 20) + 80);
    }

    #[test]
    fn flags2_only_from_7_36() {
        let opts = MountOptions::parse(["writeback_cache"]).unwrap();
        let (n, out) = negotiate(&offer(33, u64::MAX), &opts, Handlers::empty()).unwrap();
        assert!(!n.has(FUSE_INIT_EXT));
        assert_eq!(out.flags2, 0);
        assert!(n.has(FUSE_WRITEBACK_CACHE));
    }

    #[test]
    fn io_uring_is_granted_only_when_offered_on_7_42_with_init_ext() {
        let options = MountOptions::default();
        let grant = |minor: u32, flags: u64| {
            let init = offer(minor, flags);
            let (mut negotiated, mut out) = negotiate(&init, &options, Handlers::empty()).unwrap();
            let r = grant_uring(&init, &mut out, &mut negotiated);
            (r, out.flags2, negotiated.has(FUSE_OVER_IO_URING))
        };
        let ext = FUSE_INIT_EXT | FUSE_OVER_IO_URING;
        let (ok, flags2, has) = grant(45, ext);
        assert_eq!(ok, Ok(()));
        assert_ne!(flags2 & (FUSE_OVER_IO_URING >> 32) as u32, 0);
        assert!(has);
        assert_eq!(grant(45, FUSE_INIT_EXT).0, Err(UringRefused::NotOffered));
        assert_eq!(grant(41, ext).0, Err(UringRefused::OldKernel { minor: 41 }));
    }
}
