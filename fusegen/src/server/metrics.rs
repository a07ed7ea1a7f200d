//! Per-operation request metrics: how many requests of each opcode the session answered, how
//! many with an error, and how long they took (a latency histogram), read through
//! [`SessionHandle::metrics`](crate::SessionHandle::metrics).
//!
//! Always on: recording is two relaxed atomic additions per request plus one per histogram
//! bucket hit and the sum, into counters a session allocates once (`docs/operations.md`
//! has the measured cost). Nothing here locks.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::proto::opcodes::opcode_name;

/// Opcodes below this get a row of their own (the highest the kernel sends is 53); CUSE and
/// anything unknown share the last row.
const ROWS: usize = 64;

/// Latency buckets: bucket 0 is under 1 µs, bucket `i` holds `[2^(i-1), 2^i)` µs, the last
/// one everything from about 4.2 s up.
pub const BUCKETS: usize = 24;

#[derive(Debug, Default)]
struct Row {
    count: AtomicU64,
    errors: AtomicU64,
    nanos: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
}

/// The session's counters, shared by the request paths and the handles.
#[derive(Debug)]
pub(crate) struct Metrics {
    rows: Box<[Row]>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            rows: (0..ROWS).map(|_| Row::default()).collect(),
        }
    }
}

/// The histogram bucket of a latency.
fn bucket(elapsed: Duration) -> usize {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    (64 - micros.leading_zeros() as usize).min(BUCKETS - 1)
}

/// The upper bound of bucket `i` in microseconds (`None` for the last, unbounded one).
pub fn bucket_upper_micros(i: usize) -> Option<u64> {
    (i + 1 < BUCKETS).then(|| 1u64 << i)
}

impl Metrics {
    /// Counts one answered request.
    pub(crate) fn record(&self, opcode: u32, error: bool, elapsed: Duration) {
        let row = &self.rows[(opcode as usize).min(ROWS - 1)];
        row.count.fetch_add(1, Ordering::Relaxed);
        if error {
            row.errors.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        row.nanos.fetch_add(nanos, Ordering::Relaxed);
        row.buckets[bucket(elapsed)].fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now, for operations seen at least once.
    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        let ops = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(opcode, row)| {
                let count = row.count.load(Ordering::Relaxed);
                (count > 0).then(|| OpMetrics {
                    opcode: opcode as u32,
                    name: if opcode == ROWS - 1 {
                        "OTHER"
                    } else {
                        opcode_name(opcode as u32)
                    },
                    count,
                    errors: row.errors.load(Ordering::Relaxed),
                    total: Duration::from_nanos(row.nanos.load(Ordering::Relaxed)),
                    buckets: std::array::from_fn(|i| row.buckets[i].load(Ordering::Relaxed)),
                })
            })
            .collect();
        MetricsSnapshot { ops }
    }
}

/// The request metrics of a session at one moment ([`SessionHandle::metrics`](crate::SessionHandle::metrics)).
///
/// `Display` prints one line per operation (count, errors, mean and 50th/99th percentile
/// latency); [`prometheus`](Self::prometheus) renders the Prometheus text format for an
/// exporter.
///
/// ```no_run
/// # async fn demo(session: fusegen::Session<impl fusegen::Operations>) {
/// let handle = session.handle();
/// // ... later, from any task or thread:
/// let metrics = handle.metrics();
/// println!("{metrics}");
/// let lookups = metrics.ops.iter().find(|o| o.name == "LOOKUP").map_or(0, |o| o.count);
/// # let _ = lookups;
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// One entry per operation answered at least once, by opcode.
    pub ops: Vec<OpMetrics>,
}

/// Counters of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpMetrics {
    /// The kernel's opcode (64 and up are counted together as 63, `OTHER`).
    pub opcode: u32,
    /// The opcode's name, as in `fuse.h` without `FUSE_` (`LOOKUP`, `READ`, ...).
    pub name: &'static str,
    /// Requests answered (including FORGETs, which get no answer).
    pub count: u64,
    /// Requests answered with an error (`ENOENT` from `lookup` counts).
    pub errors: u64,
    /// Time from the parsed request to its reply (the handler and the runtime around it),
    /// summed.
    pub total: Duration,
    /// Latency histogram; bucket `i` counts requests that took under
    /// [`bucket_upper_micros(i)`](bucket_upper_micros) µs (and at least the previous bound).
    pub buckets: [u64; BUCKETS],
}

impl OpMetrics {
    /// The mean latency.
    pub fn mean(&self) -> Duration {
        self.total / u32::try_from(self.count.max(1)).unwrap_or(u32::MAX)
    }

    /// The upper bound (µs) of the bucket holding the `q` quantile (`0.5`, `0.99`), `None`
    /// when it falls in the last, unbounded bucket.
    pub fn quantile_upper_micros(&self, q: f64) -> Option<u64> {
        let rank = ((self.count as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_upper_micros(i);
            }
        }
        None
    }
}

fn upper(us: Option<u64>) -> String {
    match us {
        Some(us) if us >= 1000 => format!("<{}ms", us / 1000),
        Some(us) => format!("<{us}us"),
        None => ">4s".to_string(),
    }
}

impl fmt::Display for MetricsSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<16} {:>10} {:>8} {:>10} {:>8} {:>8}",
            "operation", "requests", "errors", "mean", "p50", "p99"
        )?;
        for op in &self.ops {
            writeln!(
                f,
                "{:<16} {:>10} {:>8} {:>8}us {:>8} {:>8}",
                op.name,
                op.count,
                op.errors,
                op.mean().as_micros(),
                upper(op.quantile_upper_micros(0.5)),
                upper(op.quantile_upper_micros(0.99)),
            )?;
        }
        Ok(())
    }
}

impl MetricsSnapshot {
    /// The Prometheus text exposition format: `PREFIX_requests_total{op="..."}`,
    /// `PREFIX_errors_total{op="..."}` and the histogram `PREFIX_request_duration_seconds`
    /// (cumulative `_bucket{le="..."}`, `_sum`, `_count`), one label set per operation.
    ///
    /// ```
    /// let text = fusegen::MetricsSnapshot::default().prometheus("memfs");
    /// assert!(text.contains("# TYPE memfs_requests_total counter"));
    /// ```
    pub fn prometheus(&self, prefix: &str) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "# TYPE {prefix}_requests_total counter");
        for op in &self.ops {
            let _ = writeln!(
                out,
                "{prefix}_requests_total{{op=\"{}\"}} {}",
                op.name, op.count
            );
        }
        let _ = writeln!(out, "# TYPE {prefix}_errors_total counter");
        for op in &self.ops {
            let _ = writeln!(
                out,
                "{prefix}_errors_total{{op=\"{}\"}} {}",
                op.name, op.errors
            );
        }
        let _ = writeln!(out, "# TYPE {prefix}_request_duration_seconds histogram");
        for op in &self.ops {
            let mut cumulative = 0;
            for (i, n) in op.buckets.iter().enumerate() {
                cumulative += n;
                let le = bucket_upper_micros(i)
                    .map_or("+Inf".to_string(), |us| format!("{}", us as f64 / 1e6));
                let _ = writeln!(
                    out,
                    "{prefix}_request_duration_seconds_bucket{{op=\"{}\",le=\"{le}\"}} {cumulative}",
                    op.name
                );
            }
            let _ = writeln!(
                out,
                "{prefix}_request_duration_seconds_sum{{op=\"{}\"}} {}",
                op.name,
                op.total.as_secs_f64()
            );
            let _ = writeln!(
                out,
                "{prefix}_request_duration_seconds_count{{op=\"{}\"}} {}",
                op.name, op.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::abi::opcode;

    #[test]
    fn buckets_are_powers_of_two_microseconds() {
        assert_eq!(bucket(Duration::from_nanos(999)), 0);
        assert_eq!(bucket(Duration::from_micros(1)), 1);
        assert_eq!(bucket(Duration::from_micros(3)), 2);
        assert_eq!(bucket(Duration::from_micros(4)), 3);
        assert_eq!(bucket(Duration::from_secs(3600)), BUCKETS - 1);
        assert_eq!(bucket_upper_micros(0), Some(1));
        assert_eq!(bucket_upper_micros(3), Some(8));
        assert_eq!(bucket_upper_micros(BUCKETS - 1), None);
    }

    #[test]
    fn records_count_errors_and_latency_per_operation() {
        let m = Metrics::default();
        for us in [2, 3, 5, 100] {
            m.record(opcode::FUSE_LOOKUP, us == 100, Duration::from_micros(us));
        }
        m.record(opcode::FUSE_READ, false, Duration::from_millis(2));
        m.record(4096, true, Duration::ZERO);
        let s = m.snapshot();
        let names: Vec<_> = s.ops.iter().map(|o| o.name).collect();
        assert_eq!(names, ["LOOKUP", "READ", "OTHER"]);
        let lookup = &s.ops[0];
        assert_eq!((lookup.count, lookup.errors), (4, 1));
        assert_eq!(lookup.total, Duration::from_micros(110));
        assert_eq!(
            lookup.mean(),
            Duration::from_micros(27) + Duration::from_nanos(500)
        );
        assert_eq!(lookup.quantile_upper_micros(0.5), Some(4));
        assert_eq!(lookup.quantile_upper_micros(0.99), Some(128));
        let text = s.to_string();
        assert!(text.lines().nth(1).unwrap().starts_with("LOOKUP"), "{text}");
        let prom = s.prometheus("fs");
        assert!(
            prom.contains("fs_requests_total{op=\"LOOKUP\"} 4"),
            "{prom}"
        );
        assert!(prom.contains("fs_errors_total{op=\"OTHER\"} 1"), "{prom}");
        assert!(
            prom.contains("fs_request_duration_seconds_bucket{op=\"LOOKUP\",le=\"0.000004\"} 2"),
            "{prom}"
        );
        assert!(
            prom.contains("fs_request_duration_seconds_bucket{op=\"READ\",le=\"+Inf\"} 1"),
            "{prom}"
        );
        assert!(prom.contains("fs_request_duration_seconds_count{op=\"READ\"} 1"));
    }

    /// The cost of one `record` (plus the two clock reads around a request), single-threaded
    /// and with two threads hitting the same operation's counters. Run with `--ignored
    /// --nocapture` in release mode; `docs/operations.md` quotes the figures.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn record_cost() {
        let m = std::sync::Arc::new(Metrics::default());
        let n = 5_000_000u32;
        let run = move |m: &Metrics| {
            let start = std::time::Instant::now();
            for _ in 0..n {
                let t = std::time::Instant::now();
                m.record(opcode::FUSE_GETATTR, false, t.elapsed());
            }
            start.elapsed() / n
        };
        let start = std::time::Instant::now();
        for i in 0..n {
            m.record(
                opcode::FUSE_GETATTR,
                false,
                Duration::from_nanos(u64::from(i % 4096)),
            );
        }
        println!("record alone: {:?} per request", start.elapsed() / n);
        println!("one thread: {:?} per request", run(&m));
        let other = {
            let m = m.clone();
            std::thread::spawn(move || run(&m))
        };
        let here = run(&m);
        println!(
            "two threads: {:?} and {:?} per request",
            here,
            other.join().unwrap()
        );
    }
}
