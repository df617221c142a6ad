//! `fanout`: deliveries per second to 100 WebSockets on one public channel. Signed Pusher API
//! triggers go out over a few keep-alive connections, closed-loop; every frame any of the 100
//! sockets receives inside the measured window counts as one delivery.
//!
//! The senders hold back while the slowest socket is more than [`MAX_AHEAD`] triggers behind, so
//! no socket's server-side queue (64 frames) overflows because the load generator itself reads
//! slowly; the figure is the delivery rate the platform sustains without dropping anyone. A
//! socket the server closes anyway (e.g. 4200 "too far behind") is counted as an error.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hyper::StatusCode;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use super::trigger::{credentials, data_json, trigger_once, EVENT};
use super::{BoxFuture, Context, Scenario};
use crate::http::{failure_label, status_label, Conn, Target};
use crate::pusher::{self, Credentials};
use crate::report::{fmt_rate, Row};
use crate::ws::{self, Ws};

/// Subscribers on the channel.
pub const SUBSCRIBERS: usize = 100;
/// Trigger connections at most (fewer with a lower `--concurrency`).
const MAX_SENDERS: usize = 16;
/// Triggers the slowest socket may lag behind before the senders wait.
const MAX_AHEAD: u64 = 32;
const SETUP_TIMEOUT: Duration = Duration::from_secs(20);
const GRACE: Duration = Duration::from_secs(10);

pub struct Fanout;

impl Scenario for Fanout {
    fn name(&self) -> &'static str {
        "fanout"
    }

    fn about(&self) -> &'static str {
        "Pusher HTTP API triggers to one public channel with 100 subscribers: frames delivered/s \
         across all sockets"
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, crate::Result<Vec<Row>>> {
        Box::pin(run(ctx))
    }
}

/// Counters shared by the senders and the readers.
struct Shared {
    window_start: Instant,
    window_end: Instant,
    /// Triggers sent and not known to have failed (the probe included).
    issued: AtomicU64,
    /// Frames of our event each socket has received.
    received: Vec<AtomicU64>,
}

impl Shared {
    fn in_window(&self, t: Instant) -> bool {
        t >= self.window_start && t < self.window_end
    }

    fn slowest(&self) -> u64 {
        self.received.iter().map(|r| r.load(Ordering::Relaxed)).min().unwrap_or(0)
    }
}

async fn run(ctx: &Context) -> crate::Result<Vec<Row>> {
    let target = &ctx.target;
    let creds = credentials(ctx).await?;
    let channel = format!("bench-fanout-{}", crate::random_token(8).to_lowercase());

    let sockets = open_subscribers(target, &creds.key, &channel).await?;

    // The windows start once every socket is ready and the probe went through.
    let begin = Instant::now() + Duration::from_millis(50);
    let shared = Arc::new(Shared {
        window_start: begin + ctx.load.warmup,
        window_end: begin + ctx.load.warmup + ctx.load.measure,
        issued: AtomicU64::new(0),
        received: (0..SUBSCRIBERS).map(|_| AtomicU64::new(0)).collect(),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut readers = JoinSet::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        readers.spawn(read_loop(socket, i, shared.clone(), stop_rx.clone()));
    }

    shared.issued.fetch_add(1, Ordering::Relaxed);
    trigger_once(target, &creds, &channel, r#"{"n":"probe"}"#).await?;
    let probe_deadline = Instant::now() + SETUP_TIMEOUT;
    while shared.slowest() < 1 {
        if Instant::now() > probe_deadline {
            let got = shared.received.iter().filter(|r| r.load(Ordering::Relaxed) > 0).count();
            let _ = stop_tx.send(true);
            return Err(format!(
                "the probe trigger reached {got} of {SUBSCRIBERS} subscribers within {SETUP_TIMEOUT:?}"
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let senders_n = ctx.load.concurrency.clamp(1, MAX_SENDERS);
    let mut senders = JoinSet::new();
    for _ in 0..senders_n {
        senders.spawn(send_loop(
            target.clone(),
            creds.clone(),
            channel.clone(),
            shared.clone(),
            ctx.load.request_timeout,
            ctx.load.max_requests,
        ));
    }
    let mut sent = SendTally::default();
    while let Some(r) = senders.join_next().await {
        match r {
            Ok(t) => sent.merge(t),
            Err(e) => *sent.errors.entry(format!("sender task failed: {e}")).or_default() += 1,
        }
    }

    // Frames still under way.
    let deadline = Instant::now() + GRACE;
    let expected = shared.issued.load(Ordering::Relaxed);
    while Instant::now() < deadline && shared.slowest() < expected {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);
    let mut delivered_in_window = 0u64;
    let mut errors: BTreeMap<String, u64> = sent.errors;
    while let Some(r) = readers.join_next().await {
        match r {
            Ok((n, None)) => delivered_in_window += n,
            Ok((n, Some(e))) => {
                delivered_in_window += n;
                *errors.entry(format!("socket: {e}")).or_default() += 1;
            }
            Err(e) => *errors.entry(format!("reader task failed: {e}")).or_default() += 1,
        }
    }
    let expected = shared.issued.load(Ordering::Relaxed);
    let missing: u64 = shared.received.iter().map(|r| expected.saturating_sub(r.load(Ordering::Relaxed))).sum();
    if missing > 0 {
        *errors.entry("missing delivery".into()).or_default() += missing;
    }

    let secs = ctx.load.measure.as_secs_f64();
    let mut row = Row::empty(format!("fanout x{SUBSCRIBERS} subscribers"), senders_n);
    row.ops_per_sec = Some(delivered_in_window as f64 / secs);
    row.set_errors(errors);
    row.other = Some(format!("{} triggers/s", fmt_rate(sent.ok_in_window as f64 / secs)));
    row.notes.push(format!(
        "{} trigger connections, closed loop, held back while the slowest socket is more than \
         {MAX_AHEAD} triggers behind; {} deliveries expected in all, {missing} missing",
        senders_n,
        expected * SUBSCRIBERS as u64
    ));
    if sent.held_back > 0 {
        row.notes.push(format!("senders waited for slow sockets {} times", sent.held_back));
    }
    Ok(vec![row])
}

/// Connects and subscribes the subscribers in parallel.
async fn open_subscribers(target: &Target, key: &str, channel: &str) -> crate::Result<Vec<Ws>> {
    let mut set = JoinSet::new();
    for _ in 0..SUBSCRIBERS {
        let (target, key, channel) = (target.clone(), key.to_string(), channel.to_string());
        set.spawn(async move {
            let (mut socket, _) = ws::connect(&target, &key, None, SETUP_TIMEOUT).await?;
            ws::subscribe(&mut socket, &channel, None, SETUP_TIMEOUT).await?;
            crate::Result::Ok(socket)
        });
    }
    let mut sockets = Vec::with_capacity(SUBSCRIBERS);
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(s)) => sockets.push(s),
            Ok(Err(e)) => return Err(format!("opening a subscriber: {e}").into()),
            Err(e) => return Err(format!("opening a subscriber: {e}").into()),
        }
    }
    Ok(sockets)
}

#[derive(Default)]
struct SendTally {
    ok_in_window: u64,
    held_back: u64,
    errors: BTreeMap<String, u64>,
}

impl SendTally {
    fn merge(&mut self, o: SendTally) {
        self.ok_in_window += o.ok_in_window;
        self.held_back += o.held_back;
        for (k, n) in o.errors {
            *self.errors.entry(k).or_default() += n;
        }
    }
}

async fn send_loop(
    target: Target,
    creds: Credentials,
    channel: String,
    shared: Arc<Shared>,
    timeout: Duration,
    max_requests: u64,
) -> SendTally {
    let mut t = SendTally::default();
    let mut conn: Option<Conn> = None;
    let channels = [channel.as_str()];
    while Instant::now() < shared.window_end {
        // Flow control: never more than MAX_AHEAD triggers ahead of the slowest socket.
        if shared.issued.load(Ordering::Relaxed) >= shared.slowest() + MAX_AHEAD {
            t.held_back += 1;
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        if conn.as_ref().is_none_or(Conn::is_closed) {
            conn = match tokio::time::timeout(timeout, Conn::connect(&target)).await {
                Ok(Ok(c)) => Some(c),
                _ => {
                    if shared.in_window(Instant::now()) {
                        *t.errors.entry("connect failed".into()).or_default() += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
        }
        let seq = shared.issued.fetch_add(1, Ordering::Relaxed);
        if seq >= max_requests {
            shared.issued.fetch_sub(1, Ordering::Relaxed);
            break;
        }
        let body = pusher::event_body(EVENT, &channels, &data_json(seq));
        let req = pusher::trigger_request(&target, &creds, body);
        let live = conn.as_mut().expect("connected above");
        let res = tokio::time::timeout(timeout, live.send(req)).await;
        let counted = shared.in_window(Instant::now());
        let failure = match res {
            Ok(Ok(reply)) if reply.status() == StatusCode::OK => {
                t.ok_in_window += u64::from(counted);
                None
            }
            Ok(Ok(reply)) => Some(status_label(reply.status(), reply.body())),
            Ok(Err(e)) => {
                conn = None;
                Some(failure_label(&e).to_string())
            }
            Err(_) => {
                conn = None;
                Some("timeout".to_string())
            }
        };
        if let Some(label) = failure {
            // A trigger that failed delivers nothing (a timed-out one might; then it shows
            // as more frames than expected, never as missing ones).
            shared.issued.fetch_sub(1, Ordering::Relaxed);
            if counted {
                *t.errors.entry(label).or_default() += 1;
            }
        }
    }
    t
}

/// Counts this socket's frames of our event; answers those inside the window and why the socket
/// ended early, if it did.
async fn read_loop(
    mut socket: Ws,
    index: usize,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> (u64, Option<String>) {
    // The frame's first bytes as the server writes them; anything else is parsed properly.
    let prefix = format!(r#"{{"event":"{EVENT}""#);
    let mut in_window = 0u64;
    let mut total = 0u64;
    let error = loop {
        let msg = tokio::select! {
            biased;
            _ = stop.changed() => break None,
            msg = socket.next() => msg,
        };
        match msg {
            Some(Ok(Message::Text(text))) => {
                let text = text.as_str();
                let ours = text.starts_with(&prefix) || ws::Frame::parse(text).is_some_and(|f| f.event == EVENT);
                if ours {
                    total += 1;
                    shared.received[index].store(total, Ordering::Relaxed);
                    if shared.in_window(Instant::now()) {
                        in_window += 1;
                    }
                } else if text.contains("pusher:ping") {
                    let pong = r#"{"event":"pusher:pong","data":{}}"#;
                    let _ = socket.send(Message::text(pong)).await;
                } else if text.contains("pusher:error") {
                    break Some(format!("pusher:error {}", crate::setup::excerpt(text.as_bytes())));
                }
            }
            Some(Ok(Message::Close(f))) => {
                break Some(match f {
                    Some(f) => format!("closed by the server ({})", u16::from(f.code)),
                    None => "closed by the server".into(),
                })
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => break Some(format!("websocket error: {e}")),
            None => break Some("the socket closed".into()),
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
    (in_window, error)
}
