//! The systemd readiness protocol (`sd_notify(3)`), without libsystemd: one datagram per
//! state change to the unix socket named by `$NOTIFY_SOCKET`. [`run`](crate::run) and the
//! `cli` module send `READY=1` once the filesystem serves and `STOPPING=1` when it unmounts,
//! so a `Type=notify` unit works without code of its own; `docs/operations.md` has unit
//! files.
//!
//! Nothing here reads or writes anything when `$NOTIFY_SOCKET` is unset.

use std::ffi::OsStr;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The environment variable systemd sets for a `Type=notify` service.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Longest socket name: `sun_path` holds 108 bytes, one of them the terminating NUL (or,
/// for an abstract name, the leading NUL).
const MAX_NAME: usize = 107;

/// Sends `state` (newline-separated `KEY=VALUE` assignments such as `READY=1` or
/// `STATUS=...`) to the service manager. Returns `Ok(false)` when `$NOTIFY_SOCKET` is unset
/// (not started by systemd), `Ok(true)` once sent.
///
/// `$NOTIFY_SOCKET` is a socket path (`/run/systemd/notify`) or an abstract name written with
/// a leading `@`; anything else (including the `vsock:` addresses of virtual machines) is an
/// `InvalidInput` error.
///
/// ```
/// // Outside systemd this sends nothing and returns `false`.
/// let sent = fusegen::systemd::notify("STATUS=loading the index")?;
/// # let _ = sent;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn notify(state: &str) -> io::Result<bool> {
    let Some(socket) = std::env::var_os(NOTIFY_SOCKET) else {
        return Ok(false);
    };
    let address = address(&socket)?;
    let datagram = UnixDatagram::unbound()?;
    datagram.send_to_addr(state.as_bytes(), &address)?;
    Ok(true)
}

/// `notify`, logging a failure at `warn` instead of returning it: a broken notification
/// socket must not stop the filesystem.
pub(crate) fn notify_or_warn(state: &str) {
    if let Err(e) = notify(state) {
        tracing::warn!(error = %e, state, "cannot notify systemd through $NOTIFY_SOCKET");
    }
}

/// Parses `$NOTIFY_SOCKET`: `/path` or `@abstract-name`, at most 107 bytes, no NUL.
fn address(value: &OsStr) -> io::Result<SocketAddr> {
    let bytes = value.as_bytes();
    let invalid = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("${NOTIFY_SOCKET} = {value:?}: {why}"),
        )
    };
    if bytes.contains(&0) {
        return Err(invalid("contains a NUL byte"));
    }
    match bytes.split_first() {
        Some((b'@', name)) if !name.is_empty() && name.len() <= MAX_NAME => {
            SocketAddr::from_abstract_name(name)
        }
        Some((b'/', _)) if bytes.len() <= MAX_NAME => SocketAddr::from_pathname(value),
        Some((b'@' | b'/', _)) => Err(invalid("too long for a unix socket address")),
        _ => Err(invalid(
            "not a unix socket path (`/...`) or abstract name (`@...`)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;
    use std::time::Duration;

    #[test]
    fn addresses_are_paths_or_abstract_names() {
        let path = address(OsStr::new("/run/systemd/notify")).unwrap();
        assert_eq!(
            path.as_pathname(),
            Some(std::path::Path::new("/run/systemd/notify"))
        );
        let abs = address(OsStr::new("@fusegen/notify")).unwrap();
        assert_eq!(abs.as_abstract_name(), Some(&b"fusegen/notify"[..]));
        let longest = format!("/{}", "a".repeat(MAX_NAME - 1));
        assert!(address(OsStr::new(&longest)).is_ok());
        for bad in [
            "",
            "@",
            "relative/path",
            "vsock:2:1234",
            "/with\0nul",
            &format!("/{}", "a".repeat(MAX_NAME)),
            &format!("@{}", "a".repeat(MAX_NAME + 1)),
        ] {
            let err = address(OsStr::new(bad)).expect_err(bad);
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}: {err}");
        }
    }

    /// Sends to a real datagram socket, by path and by abstract name, through the same code
    /// `notify` uses once it has read the variable (the environment is process-wide, so the
    /// variable itself is exercised by the mount tests, in child processes).
    #[test]
    fn datagrams_arrive_at_path_and_abstract_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let name = format!("@fusegen-test-{}", std::process::id());
        let by_path = UnixDatagram::bind(&path).unwrap();
        let by_name = UnixDatagram::bind_addr(
            &SocketAddr::from_abstract_name(&name.as_bytes()[1..]).unwrap(),
        )
        .unwrap();
        for (receiver, value) in [(&by_path, path.as_os_str()), (&by_name, OsStr::new(&name))] {
            receiver
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let sender = UnixDatagram::unbound().unwrap();
            sender
                .send_to_addr(b"READY=1\nSTATUS=x", &address(value).unwrap())
                .unwrap();
            let mut buf = [0u8; 64];
            let n = receiver.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"READY=1\nSTATUS=x");
        }
    }
}
