//! The transport-neutral core that turns a request into a reply: dispatch to the filesystem's
//! handlers (`dispatch.rs`), requests in flight and their interrupts (`inflight.rs`,
//! `interrupt.rs`), kernel conventions the runtime applies itself (`killpriv.rs`,
//! `passthrough.rs`), the outbound channel (`notify.rs`) and per-operation metrics
//! (`metrics.rs`). It knows the protocol (`proto`) and the author's API (`api`), never a
//! transport.

pub(crate) mod dispatch;
pub(crate) mod inflight;
pub(crate) mod interrupt;
pub(crate) mod killpriv;
pub(crate) mod metrics;
pub(crate) mod notify;
pub(crate) mod passthrough;
