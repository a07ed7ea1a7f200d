//! The transport-neutral core that turns a request into a reply: [`Server`] holds what is
//! constant for a session (the filesystem, the negotiated settings, the mount-wide policy) and
//! [`respond`] parses one request, applies `allow_root` and interrupts, calls the handler
//! through `dispatch.rs` and catches its panic. Both transports (`transport/`) hold a server
//! and call `respond`; nothing here knows which one delivered the bytes.
//!
//! The rest of the folder: dispatch to the handlers (`dispatch.rs`), requests in flight and
//! their interrupts (`inflight.rs`, `interrupt.rs`), kernel conventions the server applies
//! itself (`killpriv.rs`, `passthrough.rs`), the outbound channel (`notify.rs`) and
//! per-operation metrics (`metrics.rs`).

pub(crate) mod dispatch;
pub(crate) mod inflight;
pub(crate) mod interrupt;
pub(crate) mod killpriv;
pub(crate) mod metrics;
pub(crate) mod notify;
pub(crate) mod passthrough;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tracing::Instrument;

use crate::api::interruption;
use crate::api::operations::Operations;
use crate::api::write_data::WriteData;
use crate::proto::init::Negotiated;
use crate::proto::opcodes::{gets_reply, opcode_name};
use crate::proto::reply::{Reply, ReplyPolicy, Response};
use crate::proto::request::{self, Header, Operation};
use dispatch::dispatch;
use inflight::{InFlight, Interrupt};
use metrics::Metrics;
use notify::NotifyChannel;
use passthrough::Backings;

/// What is constant for one running session, shared by every request whichever transport
/// delivered it; `dispatch` reads it by reference.
pub(crate) struct Server<FS> {
    pub(crate) fs: Arc<FS>,
    pub(crate) negotiated: Negotiated,
    pub(crate) policy: ReplyPolicy,
    /// Backing files of open files, when the kernel granted passthrough.
    pub(crate) backings: Option<Backings>,
    pub(crate) noforget: bool,
    /// The server clears setuid/setgid when the kernel asks (`init::killpriv_enabled`).
    pub(crate) killpriv: bool,
    /// With `allow_root`, the only users besides root who may use the mount (its owner).
    pub(crate) allow_root_owner: Option<u32>,
    /// The `debug` option: log every request at info level.
    pub(crate) debug: bool,
    /// The session's notification channel: where NOTIFY_REPLY answers go, and the kernel's
    /// cached mode is dropped after a setuid/setgid clear.
    pub(crate) notify: Arc<NotifyChannel>,
    /// Requests being handled, and their interrupt signals.
    pub(crate) in_flight: Arc<InFlight>,
    /// Per-operation counts and latencies (`SessionHandle::metrics`).
    pub(crate) metrics: Arc<Metrics>,
}

/// The answer to a request whose arguments could not be parsed: `EIO`, unless the kernel
/// waits for no reply to it.
pub(crate) fn malformed(header: &Header) -> Response {
    Response::to(header, Reply::Error(crate::Errno::EIO))
}

/// Handles one request whose header the transport has read (once, `request::parse_header`),
/// and returns what to send back. Whichever transport delivered it: `bytes` is the whole
/// message, laid out as a `/dev/fuse` read returns it.
pub(crate) async fn respond<FS: Operations>(
    rt: &Server<FS>,
    header: &Header,
    bytes: &[u8],
) -> Response {
    let parsed = request::parse_args(*header, bytes, rt.negotiated.layout);
    answer(rt, header, parsed).await
}

/// [`respond`] for a WRITE whose data the `/dev/fuse` transport left in a pipe: `head` is the
/// message's `fuse_in_header` and `fuse_write_in`, `data` the rest.
pub(crate) async fn respond_write_in_pipe<FS: Operations>(
    rt: &Server<FS>,
    header: &Header,
    head: &[u8],
    data: WriteData<'_>,
) -> Response {
    answer(
        rt,
        header,
        request::parse_write_in_pipe(*header, head, data),
    )
    .await
}

/// The response to a parsed request, or to one whose arguments did not parse.
async fn answer<FS: Operations>(
    rt: &Server<FS>,
    header: &Header,
    parsed: Result<request::Request<'_>, request::RequestError>,
) -> Response {
    match parsed {
        Ok(req) => Response::to(header, serve(rt, req).await),
        Err(e) => {
            tracing::warn!(error = %e, "malformed request from the kernel");
            malformed(header)
        }
    }
}

/// The reply to one parsed request, computed whether or not it will be sent (`respond`
/// decides that through the opcode table).
async fn serve<FS: Operations>(rt: &Server<FS>, req: request::Request<'_>) -> Reply {
    let started = std::time::Instant::now();
    let h = req.header;
    let (unique, opcode) = (h.unique, h.opcode);
    if rt.debug {
        tracing::info!(
            unique,
            opcode = opcode_name(opcode),
            nodeid = h.nodeid,
            uid = h.uid,
            pid = h.pid,
            "request"
        );
    } else {
        tracing::trace!(
            unique,
            opcode = opcode_name(opcode),
            nodeid = h.nodeid,
            "request"
        );
    }
    // `allow_root`: the kernel lets everyone in (it only knows allow_other), so refuse here;
    // not the requests it waits on no reply for (a FORGET must still reach the handler).
    if let Some(owner) = rt.allow_root_owner
        && gets_reply(opcode)
        && h.uid != owner
        && h.uid != 0
    {
        return Reply::Error(crate::Errno::EACCES);
    }
    match req.op {
        Operation::Interrupt { arg } => {
            interrupt(rt, arg.unique);
            return Reply::Empty;
        }
        // The answer to a `Notifier::retrieve`.
        Operation::NotifyReply { data, .. } => {
            rt.notify.retrieved(unique, data);
            return Reply::Empty;
        }
        _ => {}
    }
    let span = tracing::debug_span!(
        "request",
        unique,
        opcode = opcode_name(opcode),
        nodeid = h.nodeid
    );
    // A lock request that waits ends on its interrupt, whatever the options.
    let waits = matches!(req.op, Operation::Setlk { sleep: true, .. });
    let signal = rt
        .in_flight
        .begin(unique, opcode_name(opcode), h.nodeid, waits, started);
    let handler = interruption::scope(
        signal.clone(),
        AssertUnwindSafe(dispatch(rt, &h, req.op)).catch_unwind(),
    )
    .instrument(span);
    // Biased: a handler that finishes at its first poll never polls (or registers) the
    // cancellation side.
    let outcome = tokio::select! {
        biased;
        r = handler => Some(r),
        () = signal.cancelled(h.pid) => None,
    };
    rt.in_flight.end(unique);
    let reply = match outcome {
        // Cancelled on its interrupt: the handler's future was dropped at an await.
        None => Reply::Error(crate::Errno::EINTR),
        Some(Ok(reply)) => reply,
        Some(Err(panic)) => {
            let msg = panic_message(&*panic);
            tracing::error!(unique, opcode = opcode_name(opcode), panic = %msg, "handler panicked, answering EIO");
            Reply::Error(crate::Errno::EIO)
        }
    };
    let failed = matches!(reply, Reply::Error(_));
    rt.metrics.record(opcode, failed, started.elapsed());
    reply
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// INTERRUPT for `target`: set its signal (`interrupt.rs` decides what that cancels). A target
/// not registered yet may still be on its way to `respond` on another thread; the registry
/// keeps the interrupt for it. (Answering `EAGAIN` instead would ask the kernel to resend, but
/// the kernel looks that answer up among the requests read from the descriptor it is written
/// to, and with one descriptor per reader thread, or the ring, that is rarely the target's.)
fn interrupt<FS>(rt: &Server<FS>, target: u64) {
    match rt.in_flight.interrupt(target) {
        Interrupt::Delivered => tracing::debug!(target, "request interrupted"),
        Interrupt::Early => tracing::debug!(target, "interrupt for a request not begun yet"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::abi::{self, opcode::*};

    /// A request of `opcode` that is only a header, without the arguments the opcode needs.
    fn bare_header(opcode: u32) -> Header {
        let raw = abi::fuse_in_header {
            len: size_of::<abi::fuse_in_header>() as u32,
            opcode,
            unique: 7,
            ..Default::default()
        };
        Header::from(&raw)
    }

    #[test]
    fn malformed_requests_get_eio_unless_the_kernel_waits_for_no_reply() {
        let answer = malformed(&bare_header(FUSE_GETATTR));
        assert!(
            matches!(answer, Response::Reply { unique: 7, reply: Reply::Error(e) } if e == crate::Errno::EIO),
            "{answer:?}"
        );
        for opcode in [
            FUSE_FORGET,
            FUSE_BATCH_FORGET,
            FUSE_INTERRUPT,
            FUSE_NOTIFY_REPLY,
        ] {
            let answer = malformed(&bare_header(opcode));
            assert!(
                matches!(answer, Response::Unanswered),
                "{}: {answer:?}",
                opcode_name(opcode)
            );
        }
    }
}
