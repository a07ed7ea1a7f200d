//! FUSE-over-io_uring (Linux 6.14+, protocol 7.42): requests arrive on io_uring ring entries
//! instead of `read(/dev/fuse)`. See `docs/io_uring.md`.
//!
//! The life of the transport in a session:
//! 1. Before INIT, [`prepare`] decides whether to try (option, `FUSEGEN_TRANSPORT`, the `fuse`
//!    module's `enable_uring`) and creates one ring per possible CPU, so that io_uring being
//!    unusable (sysctl, seccomp) is known before the kernel is promised anything.
//! 2. At INIT, [`Plan::grant`] adds `FUSE_OVER_IO_URING` to the reply when the kernel offers it.
//!    From then on the kernel holds requests back until every queue has a registered entry.
//! 3. After INIT, [`start`] registers the entries; each queue then runs on a thread of its
//!    own, pinned to its CPU (`queue.rs`). FORGET, INTERRUPT and notifications keep using `/dev/fuse`, so the device
//!    workers keep running beside the queues.

mod entry;
mod queue;

use std::os::fd::AsRawFd;
use std::sync::Arc;

pub(crate) use queue::Queue;
use queue::Ring;

use crate::api::error::Error;
use crate::api::operations::Operations;
use crate::mount::Transport;
use crate::proto::abi;
use crate::proto::init::{self, Negotiated};
use crate::proto::request::InitIn;
use crate::transport::Runtime;

/// Entries per queue when `uring_queue_depth` is not set.
pub(crate) const DEFAULT_DEPTH: u16 = 16;
const ENABLE_PARAM: &str = "/sys/module/fuse/parameters/enable_uring";

/// What the session will try, decided before INIT.
pub(crate) struct Plan {
    /// `transport = io_uring`: failing to get the ring fails `main`.
    pub(crate) required: bool,
    rings: Vec<Ring>,
    depth: u16,
    /// Why io_uring is not tried, when it is not.
    unavailable: Option<String>,
}

/// Decides whether to use io_uring and creates the rings (one per possible CPU).
pub(crate) fn prepare(transport: Transport, depth: Option<u16>) -> Plan {
    let depth = depth.unwrap_or(DEFAULT_DEPTH).max(1);
    let mut plan = Plan {
        required: transport == Transport::IoUring,
        rings: Vec::new(),
        depth,
        unavailable: None,
    };
    if transport == Transport::Dev {
        return plan;
    }
    if let Some(reason) = parameter_missing() {
        plan.unavailable = Some(reason);
        return plan;
    }
    let queues = match possible_cpus() {
        Ok(n) => n,
        Err(e) => {
            plan.unavailable = Some(format!("cannot count the possible CPUs: {e}"));
            return plan;
        }
    };
    for _ in 0..queues {
        match Ring::new(u32::from(depth)) {
            Ok(ring) => plan.rings.push(ring),
            Err(e) => {
                plan.rings.clear();
                plan.unavailable = Some(setup_failure(&e));
                return plan;
            }
        }
    }
    plan
}

impl Plan {
    /// Entries per queue.
    pub(crate) fn depth(&self) -> usize {
        usize::from(self.depth)
    }

    /// Whether rings are ready to be offered to the kernel.
    pub(crate) fn wanted(&self) -> bool {
        !self.rings.is_empty()
    }

    /// At INIT: accepts `FUSE_OVER_IO_URING` if rings exist and the protocol allows it
    /// (`init::grant_uring`).
    /// Returns why io_uring will not be used, when it will not.
    pub(crate) fn grant(
        &mut self,
        init: &InitIn,
        out: &mut abi::fuse_init_out,
        negotiated: &mut Negotiated,
    ) -> Result<(), String> {
        if let Some(reason) = &self.unavailable {
            return Err(reason.clone());
        }
        if !self.wanted() {
            return Err("io_uring transport not requested".into());
        }
        init::grant_uring(init, out, negotiated).map_err(|refused| {
            self.rings.clear();
            let reason = match refused {
                init::UringRefused::OldKernel { minor } => format!(
                    "the kernel speaks FUSE 7.{minor}; FUSE-over-io_uring needs 7.{} (Linux 6.14+)",
                    init::URING_MINOR
                ),
                init::UringRefused::NotOffered => format!(
                    "the kernel did not offer FUSE_OVER_IO_URING at INIT (is {ENABLE_PARAM} Y?)"
                ),
            };
            self.unavailable = Some(reason.clone());
            reason
        })
    }
}

/// The size of an entry's payload buffer: what the kernel requires at REGISTER
/// (`max(FUSE_MIN_READ_BUFFER, max_write, max_pages * PAGE_SIZE)`).
fn payload_size(out: &abi::fuse_init_out) -> usize {
    let max_pages = usize::from(out.max_pages.max(1)) * 4096;
    abi::FUSE_MIN_READ_BUFFER
        .max(out.max_write as usize)
        .max(max_pages)
}

/// After INIT granted io_uring: registers every queue's entries. Returns the queues to run;
/// an error when the ring could not be set up completely (the kernel then serves requests
/// through `/dev/fuse`, as it does when a REGISTER fails).
pub(crate) fn start<FS: Operations>(
    plan: Plan,
    rt: &Arc<Runtime<FS>>,
    out: &abi::fuse_init_out,
) -> (Vec<Queue<FS>>, Result<(), String>) {
    let capacity = payload_size(out);
    let mut queues = Vec::new();
    let mut failure = None;
    for (qid, ring) in plan.rings.into_iter().enumerate() {
        let qid = u16::try_from(qid).unwrap_or(u16::MAX);
        let entries: Result<Vec<_>, _> = (0..usize::from(plan.depth))
            .map(|i| entry::Entry::new(i, capacity))
            .collect();
        let entries = match entries {
            Ok(e) => e,
            Err(e) => {
                let mut ring = ring;
                queue::abandon(&mut ring, rt.dev.as_fd().as_raw_fd());
                failure.get_or_insert(format!("mapping the entry buffers failed: {e}"));
                continue;
            }
        };
        let (queue, refused) = Queue::register(rt.clone(), ring, qid, entries);
        queues.extend(queue);
        if let Some(r) = refused {
            failure.get_or_insert(r);
        }
    }
    let result = match failure {
        None => Ok(()),
        Some(f) => Err(f),
    };
    (queues, result)
}

/// Why the kernel cannot offer io_uring, judged from the `fuse` module parameter.
fn parameter_missing() -> Option<String> {
    match std::fs::read_to_string(ENABLE_PARAM) {
        Ok(v) if v.trim() == "Y" || v.trim() == "1" => None,
        Ok(_) => Some(format!(
            "the fuse module parameter enable_uring is off (as root: echo Y > {ENABLE_PARAM})"
        )),
        Err(_) => Some(format!(
            "this kernel has no FUSE-over-io_uring ({ENABLE_PARAM} is missing: needs Linux 6.14+ \
             built with CONFIG_FUSE_IO_URING)"
        )),
    }
}

fn setup_failure(e: &std::io::Error) -> String {
    let hint = match e.raw_os_error() {
        Some(libc::EPERM) => {
            " (io_uring is disabled for this process: sysctl kernel.io_uring_disabled, or a \
             seccomp filter such as a container's)"
        }
        Some(libc::ENOSYS) => " (the kernel has no io_uring)",
        Some(libc::ENOMEM) => " (locked-memory limit: raise RLIMIT_MEMLOCK)",
        _ => "",
    };
    format!("creating an io_uring failed: {e}{hint}")
}

/// The kernel's number of possible CPUs: it makes one queue per possible CPU and becomes
/// ready only when every one of them has an entry.
fn possible_cpus() -> std::io::Result<usize> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible")?;
    cpu_count(&text).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unreadable CPU list {text:?}"),
        )
    })
}

/// Counts the CPUs of a list such as `0-3,6,8-9`.
fn cpu_count(list: &str) -> Option<usize> {
    let mut n = 0;
    for part in list.trim().split(',') {
        n += match part.split_once('-') {
            Some((a, b)) => b.parse::<usize>().ok()?.checked_sub(a.parse().ok()?)? + 1,
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
    }
    (n > 0).then_some(n)
}

/// The error `main` returns when `transport = io_uring` cannot be had.
pub(crate) fn unavailable(reason: &str) -> Error {
    Error::Transport(format!("transport=io_uring is unavailable: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_count("0-1\n"), Some(2));
        assert_eq!(cpu_count("0"), Some(1));
        assert_eq!(cpu_count("0-3,6,8-9"), Some(7));
        assert_eq!(cpu_count(""), None);
        assert_eq!(cpu_count("3-1"), None);
    }

    #[test]
    fn payload_covers_max_write_and_max_pages() {
        let out = abi::fuse_init_out {
            max_write: 1 << 20,
            max_pages: 256,
            ..Default::default()
        };
        assert_eq!(payload_size(&out), 1 << 20);
        let small = abi::fuse_init_out {
            max_write: 4096,
            max_pages: 1,
            ..Default::default()
        };
        assert_eq!(payload_size(&small), abi::FUSE_MIN_READ_BUFFER);
    }

    #[test]
    fn dev_transport_plans_no_ring() {
        let plan = prepare(Transport::Dev, None);
        assert!(!plan.wanted() && !plan.required);
    }
}
