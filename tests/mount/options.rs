//! Mount options reach the kernel: visible in /proc/mounts and in behaviour.

use fusegen::{MountMethod, MountOptions, Workers};

use crate::mount::common::{CALL_TIMEOUT, TestMount, fuse_available, within};
use crate::mount::fixture::TestFs;

/// The /proc/self/mounts line of `path`: (source, type, options).
fn mounts_entry(path: &std::path::Path) -> (String, String, String) {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let target = path.to_string_lossy();
    mounts
        .lines()
        .map(|l| l.split(' ').map(str::to_string).collect::<Vec<_>>())
        .find(|f| f.get(1).map(String::as_str) == Some(target.as_ref()))
        .map(|f| (f[0].clone(), f[2].clone(), f[3].clone()))
        .unwrap_or_else(|| panic!("{target} not in /proc/self/mounts"))
}

#[test]
fn fsname_subtype_and_flags_are_visible_in_proc_mounts() {
    let Some(()) = fuse_available("fsname_subtype_and_flags_are_visible_in_proc_mounts") else {
        return;
    };
    for method in [MountMethod::Direct, MountMethod::Fusermount] {
        let mut options = MountOptions::parse(["ro,fsname=myfs,subtype=demo,allow_other"]).unwrap();
        options.method = method;
        let m = TestMount::start(TestFs::new(&[("f", b"x")]), options, Workers::default()).unwrap();
        let (source, fstype, opts) = mounts_entry(m.path());
        assert_eq!(source, "myfs", "{method:?}");
        assert_eq!(fstype, "fuse.demo", "{method:?}");
        let opts: Vec<&str> = opts.split(',').collect();
        for want in [
            "ro",
            "nosuid",
            "nodev",
            "default_permissions",
            "allow_other",
        ] {
            assert!(
                opts.contains(&want),
                "{method:?}: {want} missing from {opts:?}"
            );
        }
    }
}

#[test]
fn read_only_mount_refuses_writes_with_erofs() {
    let Some(()) = fuse_available("read_only_mount_refuses_writes_with_erofs") else {
        return;
    };
    let options = MountOptions::parse(["ro"]).unwrap();
    let m = TestMount::start(TestFs::new(&[("f", b"x")]), options, Workers::default()).unwrap();
    let new = m.join("new");
    let err = within(CALL_TIMEOUT, "create on ro", move || {
        std::fs::write(new, b"y")
    })
    .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EROFS));
}

#[test]
fn default_mount_is_read_write_and_unknown_ops_are_enosys() {
    let Some(()) = fuse_available("default_mount_is_read_write_and_unknown_ops_are_enosys") else {
        return;
    };
    let m = TestMount::new(TestFs::new(&[("f", b"x")]));
    let (_, _, opts) = mounts_entry(m.path());
    assert!(opts.split(',').any(|o| o == "rw"), "{opts}");
    // TestFs has no mkdir handler: the kernel passes the default ENOSYS through.
    let dir = m.join("d");
    let err = within(CALL_TIMEOUT, "mkdir", move || std::fs::create_dir(dir)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOSYS));
}

/// `cat PATH` as the `nobody` user; returns its exit status and stderr.
fn cat_as_nobody(path: &std::path::Path) -> (bool, String) {
    use std::os::unix::process::CommandExt;
    let path = path.to_path_buf();
    let out = within(CALL_TIMEOUT, "cat as nobody", move || {
        std::process::Command::new("cat")
            .arg(path)
            .uid(65534)
            .gid(65534)
            .output()
    })
    .expect("run cat");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn allow_other_admits_and_allow_root_refuses_other_users() {
    let Some(()) = fuse_available("allow_other_admits_and_allow_root_refuses_other_users") else {
        return;
    };
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipping: needs root to run a command as nobody");
        return;
    }
    let fs = || TestFs::new(&[("f", b"shared")]);
    let m = TestMount::start(
        fs(),
        MountOptions::parse(["allow_other"]).unwrap(),
        Workers::default(),
    )
    .unwrap();
    let (ok, err) = cat_as_nobody(&m.join("f"));
    assert!(ok, "allow_other: nobody can read: {err}");
    drop(m);

    let m = TestMount::start(
        fs(),
        MountOptions::parse(["allow_root"]).unwrap(),
        Workers::default(),
    )
    .unwrap();
    let (ok, err) = cat_as_nobody(&m.join("f"));
    assert!(
        !ok && err.contains("Permission denied"),
        "allow_root: nobody is refused: {err}"
    );
    let f = m.join("f");
    assert_eq!(
        within(CALL_TIMEOUT, "read as root", move || std::fs::read(f)).unwrap(),
        b"shared"
    );
}
