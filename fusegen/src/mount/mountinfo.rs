//! Reading `/proc/self/mountinfo` to learn whether a path is a FUSE mount, without touching
//! the path itself (a `stat` on a FUSE mount whose daemon does not answer blocks forever).

use std::path::{Path, PathBuf};

/// One line of mountinfo, reduced to what mounting needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountEntry {
    /// Where it is mounted (field 5), unescaped.
    pub(crate) mount_point: PathBuf,
    /// The filesystem type (first field after the ` - ` separator), e.g. `fuse.sshfs`.
    pub(crate) fstype: String,
}

impl MountEntry {
    /// `fuse`, `fuse.TYPE`, `fuseblk`, `fuseblk.TYPE`, but not `fusectl` (the control fs).
    pub(crate) fn is_fuse(&self) -> bool {
        let base = self.fstype.split('.').next().unwrap_or_default();
        base == "fuse" || base == "fuseblk"
    }
}

/// Parses mountinfo text (see proc(5)); malformed lines are skipped.
pub(crate) fn parse(text: &str) -> Vec<MountEntry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<MountEntry> {
    let mut fields = line.split(' ');
    let mount_point = fields.nth(4)?;
    // Optional fields (shared:N, master:N, ...) come before a lone "-".
    let mut rest = fields.skip_while(|f| *f != "-");
    rest.next()?;
    let fstype = rest.next()?;
    Some(MountEntry {
        mount_point: PathBuf::from(unescape(mount_point)),
        fstype: unescape(fstype),
    })
}

/// The kernel writes space, tab, newline and backslash in paths as `\ooo` octal escapes.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(digits)) => {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads this process's mount table.
pub(crate) fn read() -> std::io::Result<Vec<MountEntry>> {
    Ok(parse(&std::fs::read_to_string("/proc/self/mountinfo")?))
}

/// Whether `path` (absolute) has a FUSE filesystem mounted on it; `None` if the table
/// cannot be read (callers then let the next step find out).
pub(crate) fn fuse_mounted_at(path: &Path) -> Option<bool> {
    match read() {
        Ok(entries) => Some(entries.iter().any(|e| e.is_fuse() && e.mount_point == path)),
        Err(err) => {
            tracing::debug!(error = %err, "cannot read /proc/self/mountinfo");
            None
        }
    }
}

/// What tells one mount at a path from a later one there, as mountinfo shows it: the mount
/// ID (field 1) and the device (field 3; `0:N` for FUSE, where N is also the connection's
/// number in fusectl), with the mount point as the kernel escapes it (field 5), so that
/// another reader can compare the raw fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// Field 1: unique among the mounts present, reused after an unmount.
    pub(crate) mount_id: String,
    /// Field 3, `major:minor`: the superblock's device, reused after it is destroyed.
    pub(crate) device: String,
    /// Field 5, escaped (`\040` for a space, ...).
    pub(crate) escaped_mount_point: String,
}

impl Identity {
    /// The connection number under `/sys/fs/fuse/connections`: the minor of an anonymous
    /// device (major 0), as FUSE mounts have.
    pub(crate) fn connection(&self) -> Option<u32> {
        self.device.strip_prefix("0:")?.parse().ok()
    }
}

/// The identity of the FUSE filesystem on top at `path` (absolute, canonical): the last
/// matching line, since a later mount over the same path hides the earlier ones.
pub(crate) fn identity(path: &Path) -> Option<Identity> {
    identity_in(&std::fs::read_to_string("/proc/self/mountinfo").ok()?, path)
}

fn identity_in(text: &str, path: &Path) -> Option<Identity> {
    let top = text
        .lines()
        .rfind(|l| parse_line(l).is_some_and(|e| e.mount_point == path))?;
    if !parse_line(top)?.is_fuse() {
        return None;
    }
    let mut fields = top.split(' ');
    let mount_id = fields.next()?.to_owned();
    let device = fields.nth(1)?.to_owned();
    let escaped_mount_point = fields.nth(1)?.to_owned();
    Some(Identity {
        mount_id,
        device,
        escaped_mount_point,
    })
}

/// The innermost FUSE mount point that is `path` or one of its ancestors.
pub(crate) fn fuse_mount_containing(path: &Path) -> Option<PathBuf> {
    innermost_fuse_ancestor(&read().ok()?, path)
}

fn innermost_fuse_ancestor(entries: &[MountEntry], path: &Path) -> Option<PathBuf> {
    entries
        .iter()
        .filter(|e| e.is_fuse() && path.starts_with(&e.mount_point))
        .map(|e| e.mount_point.clone())
        .max_by_key(|p| p.components().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
36 22 0:32 / /tmp/with\\040space rw,nosuid,nodev - fuse.sshfs host:/ rw,user_id=0,group_id=0
37 22 0:33 / /mnt/plain rw,nosuid,nodev shared:5 master:2 - fuse fusegen rw,user_id=0
38 22 0:34 / /sys/fs/fuse/connections rw - fusectl fusectl rw
39 22 0:35 / /mnt/back\\134slash rw - fuseblk /dev/sdb rw
garbage line
";

    #[test]
    fn parses_fields_and_optional_tags() {
        let entries = parse(SAMPLE);
        assert_eq!(entries.len(), 5);
        assert_eq!(entries[0].mount_point, Path::new("/"));
        assert_eq!(entries[0].fstype, "ext4");
        assert_eq!(entries[2].mount_point, Path::new("/mnt/plain"));
        assert_eq!(entries[2].fstype, "fuse");
    }

    #[test]
    fn unescapes_octal() {
        let entries = parse(SAMPLE);
        assert_eq!(entries[1].mount_point, Path::new("/tmp/with space"));
        assert_eq!(entries[4].mount_point, Path::new("/mnt/back\\slash"));
        assert_eq!(unescape("a\\011b\\012c"), "a\tb\nc");
        assert_eq!(unescape("trailing\\01"), "trailing\\01");
    }

    #[test]
    fn recognises_fuse_types() {
        let fuse: Vec<bool> = parse(SAMPLE).iter().map(MountEntry::is_fuse).collect();
        assert_eq!(fuse, [false, true, true, false, true]);
    }

    #[test]
    fn finds_the_fuse_mount_above_a_path() {
        let entries = parse(SAMPLE);
        let inner = innermost_fuse_ancestor(&entries, Path::new("/mnt/plain/a/b"));
        assert_eq!(inner.as_deref(), Some(Path::new("/mnt/plain")));
        assert_eq!(
            innermost_fuse_ancestor(&entries, Path::new("/mnt/plainer")),
            None
        );
        assert_eq!(innermost_fuse_ancestor(&entries, Path::new("/etc")), None);
    }

    #[test]
    fn identity_is_the_top_mount_with_raw_fields() {
        let id = identity_in(SAMPLE, Path::new("/tmp/with space")).unwrap();
        assert_eq!((id.mount_id.as_str(), id.device.as_str()), ("36", "0:32"));
        assert_eq!(id.escaped_mount_point, "/tmp/with\\040space");
        assert_eq!(id.connection(), Some(32));
        // Mounted over: the later line is the one on top.
        let over = format!("{SAMPLE}40 37 0:36 / /mnt/plain rw - fuse x rw\n");
        let id = identity_in(&over, Path::new("/mnt/plain")).unwrap();
        assert_eq!((id.mount_id.as_str(), id.connection()), ("40", Some(36)));
        // Not FUSE on top, or not mounted: none.
        let hidden = format!("{SAMPLE}41 37 0:37 / /mnt/plain rw - tmpfs t rw\n");
        assert_eq!(identity_in(&hidden, Path::new("/mnt/plain")), None);
        assert_eq!(identity_in(SAMPLE, Path::new("/mnt")), None);
        // A block device's major is not 0: no connection number to derive.
        let blk = format!("{SAMPLE}42 22 8:17 / /mnt/blk rw - fuseblk /dev/sdb1 rw\n");
        let id = identity_in(&blk, Path::new("/mnt/blk")).unwrap();
        assert_eq!((id.device.as_str(), id.connection()), ("8:17", None));
    }

    #[test]
    fn root_is_not_a_fuse_mount() {
        assert_eq!(fuse_mounted_at(Path::new("/")), Some(false));
    }
}
