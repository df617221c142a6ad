//! The open-loop "request → WebSocket frame" latency generator used by the realtime scenarios.
//!
//! Requests are scheduled on a clock at `rate` per second (request `n` is due at
//! `begin + n / rate`), not sent back to back, so a slow answer does not slow the offered load.
//! A pool of keep-alive connections takes the due requests in order; the instant just before
//! each request is written is stored under its sequence number. One WebSocket reader records
//! when each frame arrives and looks its sequence number up, so a frame's latency is
//! `arrival − that instant`, whatever order answers and frames come in.
//!
//! Counted: requests *sent* inside the measured window (latency, missing frames); frames
//! *arriving* inside it (frames/s). After the last request the reader waits up to `grace` for
//! frames still under way; an accepted request whose frame never came is "missing".

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use http_body_util::Full;
use hyper::{Request, StatusCode};
use tokio::sync::{mpsc, Mutex, Notify};
use tokio_tungstenite::tungstenite::Message;

use crate::http::{failure_label, status_label, Conn, Target};
use crate::load::{new_histogram, Window};
use crate::ws::{Frame, Ws};

/// How hard and how long.
#[derive(Clone, Debug)]
pub struct OpenLoopSpec {
    /// Requests per second offered.
    pub rate: u64,
    /// Keep-alive connections sending (enough that answers in flight never hold the clock up).
    pub connections: usize,
    pub warmup: Duration,
    pub measure: Duration,
    /// Cap on requests, warm-up included.
    pub max_requests: u64,
    pub request_timeout: Duration,
    /// How long to wait for frames after the last answer.
    pub grace: Duration,
}

/// What a frame is to the scenario.
pub enum FrameKind {
    /// One of ours, carrying this sequence number.
    Ours(u64),
    /// Not a measurement frame (protocol chatter).
    Ignore,
    /// Something we did not expect on this socket.
    Unexpected,
}

/// What one scenario sends and how it recognises the frames its requests cause.
pub trait Probe: Send + Sync + 'static {
    /// The request numbered `seq`.
    fn request(&self, seq: u64) -> Request<Full<Bytes>>;
    /// Whether the server took the request (202 for events, 200 for a trigger).
    fn accepted(&self, status: StatusCode) -> bool;
    /// Classifies a frame (protocol frames `pusher:*` never reach this).
    fn classify(&self, frame: &Frame) -> FrameKind;
}

/// Counts of one run.
pub struct OpenLoopResult {
    pub window: Duration,
    /// Requests sent inside the window.
    pub sent: u64,
    /// Of those, accepted by the server.
    pub accepted: u64,
    /// Of those, whose frame arrived.
    pub received: u64,
    /// Accepted inside the window, frame never seen.
    pub missing: u64,
    /// Our frames that arrived inside the window (frames/s divides this by `window`).
    pub frames_in_window: u64,
    pub duplicates: u64,
    pub unexpected: u64,
    /// Request → frame, µs, for requests sent inside the window.
    pub latency_us: Histogram<u64>,
    /// How late requests left against their schedule, µs (inside the window).
    pub lag_us: Histogram<u64>,
    /// Failed requests by label (inside the window).
    pub errors: BTreeMap<String, u64>,
    /// Why the WebSocket ended early, if it did.
    pub socket_error: Option<String>,
    pub reconnects: u64,
}

impl OpenLoopResult {
    pub fn frames_per_sec(&self) -> f64 {
        crate::load::per_second(self.frames_in_window, self.window)
    }

    /// Every failure as an error bucket: failed requests, missing/duplicate/unexpected frames,
    /// a WebSocket that ended early.
    pub fn error_detail(&self) -> BTreeMap<String, u64> {
        let mut all = self.errors.clone();
        for (label, n) in [
            ("missing frame", self.missing),
            ("duplicate frame", self.duplicates),
            ("unexpected frame", self.unexpected),
        ] {
            if n > 0 {
                *all.entry(label.to_string()).or_default() += n;
            }
        }
        if let Some(e) = &self.socket_error {
            *all.entry(format!("socket: {e}")).or_default() += 1;
        }
        all
    }
}

/// One request's record. `sent_ns` is nanoseconds after `begin` plus one (0: not sent yet).
#[derive(Default)]
struct Slot {
    sent_ns: AtomicU64,
    accepted: AtomicBool,
    received: AtomicBool,
}

struct Shared {
    begin: Instant,
    window: Window,
    slots: Vec<Slot>,
}

impl Shared {
    fn sent_at(&self, slot: &Slot) -> Option<Instant> {
        match slot.sent_ns.load(Ordering::Acquire) {
            0 => None,
            ns => Some(self.begin + Duration::from_nanos(ns - 1)),
        }
    }

    /// Accepted requests sent inside the window whose frame has not come.
    fn outstanding(&self) -> u64 {
        self.slots
            .iter()
            .filter(|s| {
                s.accepted.load(Ordering::Acquire)
                    && !s.received.load(Ordering::Acquire)
                    && self.sent_at(s).is_some_and(|t| self.window.contains(t))
            })
            .count() as u64
    }
}

/// Sends per `spec`, reads frames from `ws` (already subscribed), and merges the counts.
pub async fn run<P: Probe>(target: &Target, spec: &OpenLoopSpec, probe: Arc<P>, ws: Ws) -> OpenLoopResult {
    let rate = spec.rate.max(1);
    let begin = Instant::now();
    let window = Window { start: begin + spec.warmup, end: begin + spec.warmup + spec.measure };
    let planned = (spec.warmup + spec.measure).as_secs_f64() * rate as f64;
    let total = (planned.ceil() as u64).min(spec.max_requests);
    let shared = Arc::new(Shared { begin, window, slots: (0..total).map(|_| Slot::default()).collect() });

    let stop = Arc::new(Notify::new());
    let reader = tokio::spawn(read_frames(ws, shared.clone(), probe.clone(), stop.clone()));

    let (jobs, rx) = mpsc::unbounded_channel::<(u64, Instant)>();
    let rx = Arc::new(Mutex::new(rx));
    let mut senders = Vec::with_capacity(spec.connections);
    for _ in 0..spec.connections.max(1) {
        let (target, probe, shared, rx) = (target.clone(), probe.clone(), shared.clone(), rx.clone());
        let timeout = spec.request_timeout;
        senders.push(tokio::spawn(async move { send_loop(target, probe, shared, rx, timeout).await }));
    }

    // The clock: request n is due at begin + n/rate.
    for seq in 0..total {
        let due = begin + Duration::from_nanos(seq.saturating_mul(1_000_000_000) / rate);
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        if jobs.send((seq, due)).is_err() {
            break;
        }
    }
    drop(jobs);

    let mut tally = SendTally::new();
    for s in senders {
        match s.await {
            Ok(t) => tally.merge(t),
            Err(e) => *tally.errors.entry(format!("sender task failed: {e}")).or_default() += 1,
        }
    }

    // Frames still under way.
    let deadline = Instant::now() + spec.grace;
    while Instant::now() < deadline && shared.outstanding() > 0 && !reader.is_finished() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.notify_one();
    let read = match reader.await {
        Ok(r) => r,
        Err(e) => ReadTally { socket_error: Some(format!("reader task failed: {e}")), ..ReadTally::new() },
    };

    let (mut sent, mut accepted, mut received, mut missing) = (0, 0, 0, 0);
    for slot in &shared.slots {
        if !shared.sent_at(slot).is_some_and(|t| window.contains(t)) {
            continue;
        }
        sent += 1;
        if slot.accepted.load(Ordering::Acquire) {
            accepted += 1;
            if slot.received.load(Ordering::Acquire) {
                received += 1;
            } else {
                missing += 1;
            }
        }
    }
    OpenLoopResult {
        window: spec.measure,
        sent,
        accepted,
        received,
        missing,
        frames_in_window: read.frames_in_window,
        duplicates: read.duplicates,
        unexpected: read.unexpected,
        latency_us: read.latency_us,
        lag_us: tally.lag_us,
        errors: tally.errors,
        socket_error: read.socket_error,
        reconnects: tally.reconnects,
    }
}

struct SendTally {
    lag_us: Histogram<u64>,
    errors: BTreeMap<String, u64>,
    reconnects: u64,
}

impl SendTally {
    fn new() -> Self {
        SendTally { lag_us: new_histogram(), errors: BTreeMap::new(), reconnects: 0 }
    }

    fn error(&mut self, label: impl Into<String>) {
        *self.errors.entry(label.into()).or_default() += 1;
    }

    fn merge(&mut self, other: SendTally) {
        let _ = self.lag_us.add(&other.lag_us);
        for (label, n) in other.errors {
            *self.errors.entry(label).or_default() += n;
        }
        self.reconnects += other.reconnects;
    }
}

async fn send_loop<P: Probe>(
    target: Target,
    probe: Arc<P>,
    shared: Arc<Shared>,
    jobs: Arc<Mutex<mpsc::UnboundedReceiver<(u64, Instant)>>>,
    timeout: Duration,
) -> SendTally {
    let mut tally = SendTally::new();
    let mut conn: Option<Conn> = None;
    let mut opened = false;
    loop {
        let job = { jobs.lock().await.recv().await };
        let Some((seq, due)) = job else { break };
        if conn.as_ref().is_none_or(Conn::is_closed) {
            conn = match tokio::time::timeout(timeout, Conn::connect(&target)).await {
                Ok(Ok(c)) => {
                    tally.reconnects += u64::from(opened);
                    opened = true;
                    Some(c)
                }
                _ => {
                    if shared.window.contains(Instant::now()) {
                        tally.error("connect failed");
                    }
                    continue;
                }
            };
        }
        let live = conn.as_mut().expect("connected above");
        let req = probe.request(seq);
        let slot = &shared.slots[seq as usize];
        let sent = Instant::now();
        let ns = sent.duration_since(shared.begin).as_nanos() as u64;
        slot.sent_ns.store(ns + 1, Ordering::Release);
        let counted = shared.window.contains(sent);
        if counted {
            let lag = sent.saturating_duration_since(due).as_micros() as u64;
            tally.lag_us.saturating_record(lag.max(1));
        }
        match tokio::time::timeout(timeout, live.send(req)).await {
            Ok(Ok(reply)) => {
                if probe.accepted(reply.status()) {
                    slot.accepted.store(true, Ordering::Release);
                } else if counted {
                    tally.error(status_label(reply.status(), reply.body()));
                }
            }
            Ok(Err(e)) => {
                conn = None;
                if counted {
                    tally.error(failure_label(&e));
                }
            }
            Err(_) => {
                conn = None;
                if counted {
                    tally.error("timeout");
                }
            }
        }
    }
    tally
}

struct ReadTally {
    latency_us: Histogram<u64>,
    frames_in_window: u64,
    duplicates: u64,
    unexpected: u64,
    socket_error: Option<String>,
}

impl ReadTally {
    fn new() -> Self {
        ReadTally { latency_us: new_histogram(), frames_in_window: 0, duplicates: 0, unexpected: 0, socket_error: None }
    }
}

async fn read_frames<P: Probe>(mut ws: Ws, shared: Arc<Shared>, probe: Arc<P>, stop: Arc<Notify>) -> ReadTally {
    let mut t = ReadTally::new();
    loop {
        let msg = tokio::select! {
            biased;
            _ = stop.notified() => break,
            msg = ws.next() => msg,
        };
        // The arrival instant, before any parsing.
        let now = Instant::now();
        let text = match msg {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(f))) => {
                t.socket_error = Some(match f {
                    Some(f) => format!("closed by the server ({})", u16::from(f.code)),
                    None => "closed by the server".into(),
                });
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                t.socket_error = Some(format!("websocket error: {e}"));
                break;
            }
            None => {
                t.socket_error = Some("the socket closed".into());
                break;
            }
        };
        let Some(frame) = Frame::parse(text.as_str()) else {
            t.unexpected += 1;
            continue;
        };
        if frame.event.starts_with("pusher") {
            match frame.event.as_str() {
                "pusher:ping" => {
                    let pong = r#"{"event":"pusher:pong","data":{}}"#;
                    let _ = ws.send(Message::text(pong)).await;
                }
                "pusher:error" => t.unexpected += 1,
                _ => {}
            }
            continue;
        }
        match probe.classify(&frame) {
            FrameKind::Ours(seq) => {
                let Some(slot) = shared.slots.get(seq as usize) else {
                    t.unexpected += 1;
                    continue;
                };
                if slot.received.swap(true, Ordering::AcqRel) {
                    t.duplicates += 1;
                    continue;
                }
                if let Some(sent) = shared.sent_at(slot) {
                    if shared.window.contains(sent) {
                        let us = now.saturating_duration_since(sent).as_micros() as u64;
                        t.latency_us.saturating_record(us.max(1));
                    }
                }
                if shared.window.contains(now) {
                    t.frames_in_window += 1;
                }
            }
            FrameKind::Ignore => {}
            FrameKind::Unexpected => t.unexpected += 1,
        }
    }
    // Let the server see a proper goodbye; never wait long for it.
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    t
}
