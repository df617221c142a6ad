//! The closed-loop load generator: `concurrency` tasks, each with its own keep-alive connection,
//! sending request after request through a warm-up and then a measured window.
//!
//! Only what completes inside the measured window counts (throughput, latency, errors); the
//! run is bounded by the window plus one request timeout, and by a cap on requests issued.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::Full;
use hyper::{Request, StatusCode};

use crate::http::{failure_label, Conn, Target};

/// How long and how hard to load.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    pub concurrency: usize,
    pub warmup: Duration,
    pub measure: Duration,
    pub max_requests: u64,
    pub request_timeout: Duration,
}

/// What one scenario sends and how it reads the answers.
pub trait Workload: Send + Sync + 'static {
    /// The request numbered `seq` (0, 1, 2, ... across all connections).
    fn request(&self, seq: u64) -> Request<Full<Bytes>>;
    /// Operations one request stands for (a batch of 100 events is 100); a request that fails
    /// outright counts this many errors.
    fn ops_per_request(&self) -> u64 {
        1
    }
    /// Reads one response.
    fn judge(&self, status: StatusCode, body: &Bytes) -> Outcome;
}

/// How one response went: operations that succeeded, and failures by label.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ok: u64,
    pub errors: Vec<(String, u64)>,
}

impl Outcome {
    pub fn ok(n: u64) -> Self {
        Outcome { ok: n, errors: Vec::new() }
    }

    pub fn failed(label: impl Into<String>, n: u64) -> Self {
        Outcome { ok: 0, errors: vec![(label.into(), n)] }
    }
}

/// The merged counts of one run's measured window.
#[derive(Debug)]
pub struct LoadResult {
    /// Successful operations.
    pub ops: u64,
    /// Requests answered inside the window.
    pub requests: u64,
    /// The measured time the ops/s figure divides by.
    pub elapsed: Duration,
    /// Latency in microseconds of requests with at least one successful operation.
    pub latency_us: Histogram<u64>,
    pub errors: BTreeMap<String, u64>,
    /// Connections re-opened after the server or a failure closed them.
    pub reconnects: u64,
}

impl LoadResult {
    pub fn ops_per_sec(&self) -> f64 {
        per_second(self.ops, self.elapsed)
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// `count / elapsed`, or 0 for an empty window.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

/// An empty latency histogram: 1 µs to 10 min, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("static bounds are valid")
}

/// The measured part of a run: what happens in `[start, end)` counts.
#[derive(Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    pub fn contains(&self, t: Instant) -> bool {
        t >= self.start && t < self.end
    }
}

/// Runs `workload` against `target` per `spec` and merges what every connection saw.
pub async fn run<W: Workload>(target: &Target, spec: &LoadSpec, workload: Arc<W>) -> LoadResult {
    let begin = Instant::now();
    let window = Window { start: begin + spec.warmup, end: begin + spec.warmup + spec.measure };
    let issued = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(spec.concurrency);
    for _ in 0..spec.concurrency {
        let (target, workload, issued) = (target.clone(), workload.clone(), issued.clone());
        let (max, timeout) = (spec.max_requests, spec.request_timeout);
        tasks.push(tokio::spawn(async move { connection_loop(target, workload, issued, window, max, timeout).await }));
    }
    let mut total = Tally::new();
    for task in tasks {
        match task.await {
            Ok(tally) => total.merge(tally),
            Err(e) => total.error(format!("load task failed: {e}"), 1),
        }
    }
    // A request cap can end the run before the window does.
    let end = Instant::now().min(window.end);
    LoadResult {
        ops: total.ops,
        requests: total.requests,
        elapsed: end.saturating_duration_since(window.start),
        latency_us: total.latency_us,
        errors: total.errors,
        reconnects: total.reconnects,
    }
}

async fn connection_loop<W: Workload>(
    target: Target,
    workload: Arc<W>,
    issued: Arc<AtomicU64>,
    window: Window,
    max_requests: u64,
    timeout: Duration,
) -> Tally {
    let mut tally = Tally::new();
    let mut conn: Option<Conn> = None;
    let mut opened = false;
    while Instant::now() < window.end {
        let live = match conn.as_mut() {
            Some(c) if !c.is_closed() => c,
            _ => {
                conn = None;
                match tokio::time::timeout(timeout, Conn::connect(&target)).await {
                    Ok(Ok(c)) => {
                        tally.reconnects += u64::from(opened);
                        opened = true;
                        conn.insert(c)
                    }
                    Ok(Err(_)) | Err(_) => {
                        if window.contains(Instant::now()) {
                            tally.error("connect failed", workload.ops_per_request());
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                }
            }
        };
        let seq = issued.fetch_add(1, Ordering::Relaxed);
        if seq >= max_requests {
            break;
        }
        let req = workload.request(seq);
        let sent = Instant::now();
        let res = tokio::time::timeout(timeout, live.send(req)).await;
        let done = Instant::now();
        let counted = window.contains(done);
        match res {
            Ok(Ok(reply)) => {
                if counted {
                    tally.requests += 1;
                    let outcome = workload.judge(reply.status(), reply.body());
                    if outcome.ok > 0 {
                        let us = done.duration_since(sent).as_micros().max(1) as u64;
                        tally.latency_us.saturating_record(us);
                    }
                    tally.add(outcome);
                }
            }
            Ok(Err(e)) => {
                conn = None;
                if counted {
                    tally.error(failure_label(&e), workload.ops_per_request());
                }
            }
            Err(_) => {
                // The connection's state is unknown after an abandoned request: start afresh.
                conn = None;
                if counted {
                    tally.error("timeout", workload.ops_per_request());
                }
            }
        }
    }
    tally
}

/// One connection's counts, merged into the run's at the end.
struct Tally {
    ops: u64,
    requests: u64,
    latency_us: Histogram<u64>,
    errors: BTreeMap<String, u64>,
    reconnects: u64,
}

impl Tally {
    fn new() -> Self {
        Tally { ops: 0, requests: 0, latency_us: new_histogram(), errors: BTreeMap::new(), reconnects: 0 }
    }

    fn error(&mut self, label: impl Into<String>, n: u64) {
        *self.errors.entry(label.into()).or_default() += n;
    }

    fn add(&mut self, outcome: Outcome) {
        self.ops += outcome.ok;
        for (label, n) in outcome.errors {
            self.error(label, n);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.ops += other.ops;
        self.requests += other.requests;
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency_us.add(&other.latency_us);
        for (label, n) in other.errors {
            self.error(label, n);
        }
        self.reconnects += other.reconnects;
    }
}
