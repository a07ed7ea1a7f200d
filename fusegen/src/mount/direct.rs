//! Privileged mounting: open `/dev/fuse` and call `mount(2)` ourselves, and unmount with
//! `umount2(2)`. Needs `CAP_SYS_ADMIN`; the unprivileged path is `fusermount.rs`.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};

use super::error::from_path_errno;
use super::{Atime, MountError, MountOptions};

/// The device every FUSE session talks through.
pub(crate) const DEVICE: &str = "/dev/fuse";

/// Mount source (the "device" column) when no `fsname` is given.
pub(crate) const DEFAULT_FSNAME: &str = "fusegen";

/// Why a direct mount failed, split so that `MountMethod::Auto` knows when to retry through
/// `fusermount3`.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Not privileged enough (`EPERM`/`EACCES`); the setuid helper may succeed.
    NotPermitted(MountError),
    /// Anything else; retrying another way would fail the same.
    Fatal(MountError),
}

impl Failure {
    pub(crate) fn into_error(self) -> MountError {
        match self {
            Failure::NotPermitted(e) | Failure::Fatal(e) => e,
        }
    }
}

/// Opens `/dev/fuse` read-write with `O_CLOEXEC` (std always sets it), so the session fd does
/// not leak into programs the filesystem spawns.
pub(crate) fn open_device() -> Result<OwnedFd, Failure> {
    match OpenOptions::new().read(true).write(true).open(DEVICE) {
        Ok(file) => Ok(OwnedFd::from(file)),
        Err(err) => Err(device_error(err)),
    }
}

fn device_error(err: io::Error) -> Failure {
    match err.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ENOENT | Errno::ENODEV | Errno::ENXIO) => {
            Failure::Fatal(MountError::DeviceUnavailable {
                detail: format!(
                    "{err}; the fuse kernel module is probably not loaded: load it with `modprobe fuse`"
                ),
            })
        }
        Some(Errno::EACCES | Errno::EPERM) => {
            Failure::NotPermitted(MountError::DeviceUnavailable {
                detail: format!(
                    "{err}; run as root, give /dev/fuse its usual mode (`chmod 0666 /dev/fuse`), \
                 or mount through fusermount3 (`mount_method=fusermount`)"
                ),
            })
        }
        _ => Failure::Fatal(MountError::io("opening /dev/fuse", err)),
    }
}

/// The `data` argument of `mount(2)`: the session fd, the root's file type (`S_IFDIR` in
/// octal), the mounting user, and the kernel-side options. The kernel parses this in
/// `fs/fuse/inode.c` (`fuse_parse_param`); it has no escaping, so only numbers and fixed
/// words go in here (fsname and subtype travel as `source` and `fstype`).
pub(crate) fn kernel_data(
    fd: i32,
    root_mode: u32,
    uid: u32,
    gid: u32,
    opts: &MountOptions,
) -> String {
    let mut data = format!(
        "fd={fd},rootmode={:o},user_id={uid},group_id={gid}",
        root_mode & libc::S_IFMT
    );
    if opts.default_permissions {
        data.push_str(",default_permissions");
    }
    // The kernel has no `allow_root`: it is `allow_other` plus a check in the session.
    if opts.allow_other || opts.allow_root {
        data.push_str(",allow_other");
    }
    if let Some(n) = opts.max_read {
        data.push_str(&format!(",max_read={n}"));
    }
    if let Some(n) = opts.blksize {
        data.push_str(&format!(",blksize={n}"));
    }
    data
}

/// `fsname`, or `fusegen`.
pub(crate) fn source(opts: &MountOptions) -> &str {
    opts.fsname.as_deref().unwrap_or(DEFAULT_FSNAME)
}

/// `fuse`, or `fuse.SUBTYPE`.
pub(crate) fn fstype(opts: &MountOptions) -> String {
    match &opts.subtype {
        Some(subtype) => format!("fuse.{subtype}"),
        None => "fuse".to_owned(),
    }
}

/// The generic mount flags: `nosuid,nodev` unless `suid`/`dev` are asked for (as libfuse
/// mounts), plus `ro`, `noexec`, `sync`, `dirsync`, the atime mode, `nodiratime`, `lazytime`.
pub(crate) fn flags(opts: &MountOptions) -> MsFlags {
    let mut flags = MsFlags::empty();
    for (on, flag) in [
        (!opts.suid, MsFlags::MS_NOSUID),
        (!opts.dev, MsFlags::MS_NODEV),
        (opts.read_only, MsFlags::MS_RDONLY),
        (opts.noexec, MsFlags::MS_NOEXEC),
        (opts.sync, MsFlags::MS_SYNCHRONOUS),
        (opts.dirsync, MsFlags::MS_DIRSYNC),
        (opts.atime == Atime::Noatime, MsFlags::MS_NOATIME),
        (opts.atime == Atime::Strictatime, MsFlags::MS_STRICTATIME),
        (opts.nodiratime, MsFlags::MS_NODIRATIME),
        (opts.lazytime, MsFlags::MS_LAZYTIME),
    ] {
        flags.set(flag, on);
    }
    flags
}

/// Opens the device and mounts it on `mountpoint` (an existing, canonical directory whose
/// `st_mode` is `root_mode`). Returns the session fd.
pub(crate) fn mount(
    mountpoint: &Path,
    root_mode: u32,
    opts: &MountOptions,
) -> Result<OwnedFd, Failure> {
    let device = open_device()?;
    let data = kernel_data(
        device.as_raw_fd(),
        root_mode,
        nix::unistd::getuid().as_raw(),
        nix::unistd::getgid().as_raw(),
        opts,
    );
    tracing::debug!(mountpoint = %mountpoint.display(), %data, "mount(2)");
    // On failure `device` is dropped here, which is all the cleanup a failed mount needs.
    nix::mount::mount(
        Some(source(opts)),
        mountpoint,
        Some(fstype(opts).as_str()),
        flags(opts),
        Some(data.as_str()),
    )
    .map_err(|errno| mount_error(mountpoint, errno, opts))?;
    Ok(device)
}

fn mount_error(mountpoint: &Path, errno: Errno, opts: &MountOptions) -> Failure {
    match errno {
        Errno::EPERM => Failure::NotPermitted(MountError::PermissionDenied {
            path: mountpoint.to_path_buf(),
            detail: "mount(2) needs CAP_SYS_ADMIN; run as root, or let fusermount3 mount \
                     (`mount_method=auto` or `mount_method=fusermount`)"
                .into(),
        }),
        Errno::ENODEV => Failure::Fatal(MountError::DeviceUnavailable {
            detail: "the kernel does not know the `fuse` filesystem type; load the module with `modprobe fuse`"
                .into(),
        }),
        // Linux accepts blksize only for fuseblk (block-device) mounts: see fuse_parse_param.
        Errno::EINVAL if opts.blksize.is_some() => Failure::Fatal(blksize_error(opts)),
        Errno::EINVAL => {
            Failure::Fatal(MountError::io("mount(2) rejected the kernel mount options", io::Error::from(errno)))
        }
        other => Failure::Fatal(from_path_errno(mountpoint, other, "mount(2) failed")),
    }
}

/// The kernel refuses `blksize` on a non-block FUSE mount; say so instead of "invalid argument".
pub(crate) fn blksize_error(opts: &MountOptions) -> MountError {
    MountError::invalid(
        format!("blksize={}", opts.blksize.unwrap_or_default()),
        "the kernel accepts `blksize` only for block-device (fuseblk) mounts, which fusegen does \
         not make; remove it (report a block size to programs through `st_blksize` in attributes)",
    )
}

/// `umount2(2)`; when the filesystem is busy, detaches it lazily instead (it disappears from
/// the namespace now and is torn down when the last user lets go). `UMOUNT_NOFOLLOW` so a
/// symlink swapped in for the mountpoint cannot redirect us.
pub(crate) fn unmount(mountpoint: &Path) -> nix::Result<()> {
    match nix::mount::umount2(mountpoint, MntFlags::UMOUNT_NOFOLLOW) {
        Err(Errno::EBUSY) => {
            tracing::debug!(mountpoint = %mountpoint.display(), "busy, detaching lazily");
            nix::mount::umount2(mountpoint, MntFlags::UMOUNT_NOFOLLOW | MntFlags::MNT_DETACH)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_data_minimal() {
        let o = MountOptions::default().default_permissions(false);
        assert_eq!(
            kernel_data(7, libc::S_IFDIR | 0o755, 1000, 100, &o),
            "fd=7,rootmode=40000,user_id=1000,group_id=100"
        );
    }

    #[test]
    fn kernel_data_with_options() {
        let o = MountOptions::parse([
            "allow_root,max_read=131072,blksize=4096,fsname=x,subtype=y,ro,nonempty",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            kernel_data(3, libc::S_IFDIR, 0, 0, &o),
            "fd=3,rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other,max_read=131072,blksize=4096"
        );
        assert_eq!(source(&o), "x");
        assert_eq!(fstype(&o), "fuse.y");
        assert_eq!(
            flags(&o),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_RDONLY
        );
    }

    #[test]
    fn defaults_for_source_type_flags() {
        let o = MountOptions::default();
        assert_eq!(source(&o), "fusegen");
        assert_eq!(fstype(&o), "fuse");
        assert_eq!(flags(&o), MsFlags::MS_NOSUID | MsFlags::MS_NODEV);
    }

    #[test]
    fn generic_options_become_mount_flags() {
        let o = MountOptions::parse(["suid,dev,noexec,sync,dirsync,noatime,nodiratime,lazytime"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            flags(&o),
            MsFlags::MS_NOEXEC
                | MsFlags::MS_SYNCHRONOUS
                | MsFlags::MS_DIRSYNC
                | MsFlags::MS_NOATIME
                | MsFlags::MS_NODIRATIME
                | MsFlags::MS_LAZYTIME
        );
        let strict = MountOptions::parse(["strictatime,_netdev"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            flags(&strict),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_STRICTATIME
        );
    }

    #[test]
    fn mount_errnos_are_mapped() {
        let p = Path::new("/mnt/x");
        let o = MountOptions::default();
        assert!(matches!(
            mount_error(p, Errno::EPERM, &o),
            Failure::NotPermitted(MountError::PermissionDenied { .. })
        ));
        assert!(matches!(
            mount_error(p, Errno::ENODEV, &o),
            Failure::Fatal(MountError::DeviceUnavailable { .. })
        ));
        assert!(matches!(
            mount_error(p, Errno::ENOENT, &o),
            Failure::Fatal(MountError::MountpointMissing(_))
        ));
        assert!(matches!(
            mount_error(p, Errno::EINVAL, &o),
            Failure::Fatal(MountError::Io { .. })
        ));
        let mut with_blksize = o.clone();
        with_blksize.blksize = Some(4096);
        let err = mount_error(p, Errno::EINVAL, &with_blksize)
            .into_error()
            .to_string();
        assert!(
            err.contains("`blksize=4096`") && err.contains("fuseblk"),
            "{err}"
        );
    }

    #[test]
    fn device_errnos_are_mapped() {
        let enoent = device_error(io::Error::from_raw_os_error(libc::ENOENT))
            .into_error()
            .to_string();
        assert!(enoent.contains("modprobe fuse"), "{enoent}");
        assert!(matches!(
            device_error(io::Error::from_raw_os_error(libc::EACCES)),
            Failure::NotPermitted(_)
        ));
        assert!(matches!(
            device_error(io::Error::from_raw_os_error(libc::EIO)),
            Failure::Fatal(MountError::Io { .. })
        ));
    }
}
