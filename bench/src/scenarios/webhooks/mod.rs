//! `webhooks`: signed `notification.delivered` webhooks per second, received by a sink inside
//! the bench process. The project's webhook points at that sink (an HTTP/1.1 server on
//! 127.0.0.1, which the server only accepts with `WEBHOOK_ALLOW_PRIVATE_TARGETS=true`, see
//! [`crate::server`]); an end user holding the role `hooks` listens on their private channel, and a
//! rule `type == "bench.webhook"` notifies `hooks`. So every accepted event becomes a notification
//! whose frame reaches a live socket, and with it one webhook message.
//!
//! The sink checks each POST's Standard Webhooks signature (`webhook-signature: v1,<base64
//! HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">` keyed with the secret's base64 part),
//! answers 204 (valid) or 400 (invalid), and keeps the first valid arrival of each `webhook-id`:
//! delivery is at-least-once, so an id may come twice. A probe event must make the whole trip
//! before the load starts (this also waits for events earlier scenarios left queued).
//!
//! Load: `POST /api/v1/events/batch` with 100 events each from [`SENDERS`] keep-alive connections,
//! closed loop (few connections, so the load generator leaves the CPU to the server). The senders
//! are our own rather than [`crate::load`]'s, because the grace period needs every accepted event,
//! warm-up and tail included, and `load` only judges answers inside the window. The figure is
//! distinct valid deliveries arriving inside the measured window, per second.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

mod sink;

use self::sink::{secret_key, serve, Sink};
use super::batch::{judge_batch, BATCH_SIZE};
use super::{BoxFuture, Context, Scenario};
use crate::http::{failure_label, Conn, Target};
use crate::load::{per_second, LoadSpec, Outcome, Window};
use crate::report::{fmt_rate, Row};
use crate::setup::{bearer, listening_user, post_expect, request_json, string_at};
use crate::ws::{self, Ws};

/// The event type the rule matches (distinct from `ingest`'s `bench.event` and `frame`'s
/// `bench.frame`).
const EVENT_TYPE: &str = "bench.webhook";
/// The role the rule notifies and the listening user holds.
const ROLE: &str = "hooks";
/// Connections sending batches.
const SENDERS: usize = 4;
/// How long deliveries may trail the last send.
const GRACE: Duration = Duration::from_secs(30);
/// How long the probe's delivery may take (it waits behind whatever is still queued).
const PROBE_TIMEOUT: Duration = Duration::from_secs(300);
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Webhooks;

impl Scenario for Webhooks {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    fn about(&self) -> &'static str {
        "signed notification.delivered webhooks/s to a local sink, events from batches of 100 \
         over 4 connections"
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, crate::Result<Vec<Row>>> {
        Box::pin(run(ctx))
    }
}

async fn run(ctx: &Context) -> crate::Result<Vec<Row>> {
    let target = &ctx.target;
    let key = ctx.fixture.key_headers()?;
    let owner = match &ctx.fixture.owner_token {
        Ok(token) => bearer(token)?,
        Err(e) => return Err(format!("no project admin token to configure the webhook: {e}").into()),
    };

    // The sink's port first (the webhook URL names it), its server once the secret is known;
    // nothing is delivered before the first event anyway.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let secret = configure_webhook(target, &owner, &url).await?;
    let sink = Arc::new(Sink::new(secret_key(&secret)?));
    let _server = AbortOnDrop(tokio::spawn(serve(listener, sink.clone())));

    let tag = crate::random_token(8).to_lowercase();
    let (socket, _) = listening_user(target, &ctx.fixture.api_key, &key, ROLE, &tag, SETUP_TIMEOUT).await?;
    let rule = json!({
        "name": format!("bench webhook {tag}"),
        "condition": format!("type == \"{EVENT_TYPE}\""),
        "targetRoles": [ROLE],
        "title": "w {{ payload.n }}",
        "message": "m",
    });
    let created = [StatusCode::CREATED, StatusCode::OK];
    post_expect(target, "/api/v1/rules", &key, &rule, &created, "create rule").await?;
    let (stop_drain, stop_rx) = oneshot::channel();
    let mut drainer = AbortOnDrop(tokio::spawn(drain(socket, stop_rx)));

    let probe_took = probe(target, &key, &owner, &sink).await?;
    let before = sink.counts();

    let (sent, window) = send_batches(target, key, &ctx.load).await;
    let elapsed = window.end.saturating_duration_since(window.start);

    // Deliveries trail the sends: wait for one per accepted event, or the grace to run out.
    let expected = before.distinct + sent.accepted;
    let deadline = Instant::now() + GRACE;
    while sink.counts().distinct < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop_drain.send(());
    let (frames, socket_error) =
        (&mut drainer.0).await.unwrap_or_else(|e| (0, Some(format!("drain task failed: {e}"))));

    let after = sink.counts();
    let received = after.distinct - before.distinct;
    let missing = expected.saturating_sub(after.distinct);
    if received == 0 {
        return Err(format!(
            "the sink received no delivery for {} accepted events (send errors: {:?}; socket: {}); \
             the probe's came through, so check the server's log",
            sent.accepted,
            sent.errors,
            socket_error.as_deref().unwrap_or("open")
        )
        .into());
    }

    let in_window = sink.valid_between(window.start, window.end);
    let mut errors = sent.errors;
    if after.invalid > 0 {
        errors.insert("invalid signature".into(), after.invalid);
    }
    if let Some(e) = &socket_error {
        errors.insert(format!("socket: {e}"), 1);
    }
    let events_per_sec = per_second(sent.accepted_in_window, elapsed);
    let mut row = Row::empty("webhooks signed deliveries", SENDERS);
    row.ops_per_sec = Some(per_second(in_window, elapsed));
    row.set_errors(errors);
    row.other = Some(format!("{} events/s accepted", fmt_rate(events_per_sec)));
    row.notes.push(format!(
        "{SENDERS} connections, closed loop, {BATCH_SIZE} `{EVENT_TYPE}` events a batch: {} events \
         accepted ({} events/s in the window); {received} distinct signed deliveries received, \
         {in_window} inside the window",
        sent.accepted,
        fmt_rate(events_per_sec)
    ));
    if missing > 0 {
        row.notes.push(format!(
            "{missing} deliveries still missing {} s after the last send: the delivery worker's \
             backlog (messages are stored and retried), not loss",
            GRACE.as_secs()
        ));
    }
    if after.duplicates > 0 {
        row.notes.push(format!(
            "{} duplicate deliveries (a webhook-id seen again; delivery is at-least-once)",
            after.duplicates
        ));
    }
    if socket_error.is_some() {
        row.notes.push(
            "the server closed the listening socket: notifications after that reached no live \
             socket and queued no webhook"
                .into(),
        );
    }
    row.notes.push(format!(
        "probe delivered {:.1} s after its event; {frames} notification frames drained from the \
         user's socket",
        probe_took.as_secs_f64()
    ));
    Ok(vec![row])
}

/// `PUT /api/v1/projects/me/webhook` to `url` for `notification.delivered`; answers the signing
/// secret (the first save shows it; should the endpoint exist already, a rotation shows a new one).
async fn configure_webhook(target: &Target, owner: &[(HeaderName, HeaderValue)], url: &str) -> crate::Result<String> {
    let config = json!({ "url": url, "events": ["notification.delivered"], "enabled": true });
    let path = "/api/v1/projects/me/webhook";
    let (status, body) = request_json(target, Method::PUT, path, owner, Some(&config)).await?;
    if status != StatusCode::OK {
        return Err(format!(
            "PUT {path}: {status}: {body} (a loopback URL needs WEBHOOK_ALLOW_PRIVATE_TARGETS=true \
             on the server)"
        )
        .into());
    }
    if let Some(secret) = body.get("secret").and_then(Value::as_str) {
        return Ok(secret.to_string());
    }
    let rotated = post_expect(
        target,
        &format!("{path}/rotate"),
        owner,
        &json!({}),
        &[StatusCode::OK],
        "rotate the webhook secret",
    )
    .await?;
    string_at(&rotated, "/secret", "rotate the webhook secret")
}

/// Keeps reading the listener's socket (answering pings) so the server's per-socket queue never
/// fills; answers the `notification` frames read and why the socket ended early, if it did.
async fn drain(mut socket: Ws, mut stop: oneshot::Receiver<()>) -> (u64, Option<String>) {
    let mut frames = 0;
    let error = loop {
        tokio::select! {
            biased;
            _ = &mut stop => break None,
            frame = ws::next_frame(&mut socket) => match frame {
                Ok(f) if f.event == "notification" => frames += 1,
                Ok(_) => {}
                Err(e) => break Some(e.to_string()),
            },
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
    (frames, error)
}

/// Sends one matching event and waits for its delivery at the sink; answers how long that took.
async fn probe(
    target: &Target,
    key: &[(HeaderName, HeaderValue)],
    owner: &[(HeaderName, HeaderValue)],
    sink: &Sink,
) -> crate::Result<Duration> {
    let started = Instant::now();
    let event = json!({ "type": EVENT_TYPE, "payload": { "n": "probe" } });
    let accepted = [StatusCode::ACCEPTED];
    post_expect(target, "/api/v1/events", key, &event, &accepted, "probe event").await?;
    let mut last_report = Instant::now();
    loop {
        let counts = sink.counts();
        if counts.distinct > 0 {
            return Ok(started.elapsed());
        }
        if counts.invalid > 0 {
            return Err("the sink got a webhook whose signature does not verify against the \
                        secret the webhook PUT answered"
                .into());
        }
        if started.elapsed() > PROBE_TIMEOUT {
            return Err(format!(
                "no webhook reached the sink within {PROBE_TIMEOUT:?} of the probe event; {}",
                last_attempt(target, owner).await
            )
            .into());
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!("  waiting for the probe's webhook ({:.0} s so far)...", started.elapsed().as_secs_f64());
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the webhook log says about the newest attempt, for an error message.
async fn last_attempt(target: &Target, owner: &[(HeaderName, HeaderValue)]) -> String {
    let path = "/api/v1/projects/me/webhook/logs";
    match request_json(target, Method::GET, path, owner, None).await {
        Ok((StatusCode::OK, body)) => match body.pointer("/data/0") {
            Some(row) => format!(
                "the newest attempt: status {}, error {}",
                row.get("responseStatus").unwrap_or(&Value::Null),
                row.get("error").unwrap_or(&Value::Null)
            ),
            None => "no attempt logged: was the probe's notification delivered to the socket?".into(),
        },
        Ok((status, body)) => format!("GET {path}: {status}: {body}"),
        Err(e) => format!("GET {path}: {e}"),
    }
}

/// Aborts its task when dropped, so an early return stops the sink and the reader.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the senders share.
struct Plan {
    window: Window,
    /// Requests taken so far (numbers the batches, enforces the cap).
    issued: AtomicU64,
    max_requests: u64,
    timeout: Duration,
}

#[derive(Default)]
struct SendTally {
    /// Events accepted over the whole run (warm-up and the window's tail included).
    accepted: u64,
    accepted_in_window: u64,
    /// Failures answered inside the window, by label.
    errors: BTreeMap<String, u64>,
}

impl SendTally {
    fn error(&mut self, label: String, n: u64) {
        *self.errors.entry(label).or_default() += n;
    }

    fn merge(&mut self, other: SendTally) {
        self.accepted += other.accepted;
        self.accepted_in_window += other.accepted_in_window;
        for (label, n) in other.errors {
            self.error(label, n);
        }
    }
}

/// Runs [`SENDERS`] closed loops of batches through warm-up and the measured window; answers
/// their merged tally and the window as it was (a request cap can end it early).
async fn send_batches(target: &Target, key: Vec<(HeaderName, HeaderValue)>, load: &LoadSpec) -> (SendTally, Window) {
    let begin = Instant::now();
    let plan = Arc::new(Plan {
        window: Window { start: begin + load.warmup, end: begin + load.warmup + load.measure },
        issued: AtomicU64::new(0),
        max_requests: load.max_requests,
        timeout: load.request_timeout,
    });
    let headers = Arc::new(key);
    let mut senders = JoinSet::new();
    for _ in 0..SENDERS {
        senders.spawn(send_loop(target.clone(), headers.clone(), plan.clone()));
    }
    let mut sent = SendTally::default();
    while let Some(r) = senders.join_next().await {
        match r {
            Ok(t) => sent.merge(t),
            Err(e) => sent.error(format!("sender task failed: {e}"), 1),
        }
    }
    let window = Window { start: plan.window.start, end: Instant::now().min(plan.window.end) };
    (sent, window)
}

/// One connection's closed loop of batches until the window ends or the cap is reached. Every
/// answer is judged, so `accepted` counts all events the deliveries must match.
async fn send_loop(target: Target, headers: Arc<Vec<(HeaderName, HeaderValue)>>, plan: Arc<Plan>) -> SendTally {
    let mut t = SendTally::default();
    let mut conn: Option<Conn> = None;
    while Instant::now() < plan.window.end {
        if conn.as_ref().is_none_or(Conn::is_closed) {
            conn = match tokio::time::timeout(plan.timeout, Conn::connect(&target)).await {
                Ok(Ok(c)) => Some(c),
                _ => {
                    if plan.window.contains(Instant::now()) {
                        t.error("connect failed".into(), BATCH_SIZE);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
        }
        let seq = plan.issued.fetch_add(1, Ordering::Relaxed);
        if seq >= plan.max_requests {
            break;
        }
        let body = Bytes::from(batch_json(seq));
        let req = target.request(Method::POST, "/api/v1/events/batch", &headers, Some(body));
        let live = conn.as_mut().expect("connected above");
        let res = tokio::time::timeout(plan.timeout, live.send(req)).await;
        let counted = plan.window.contains(Instant::now());
        // A batch that timed out may still have been taken: then more deliveries come than
        // counted events, never fewer.
        let outcome = match res {
            Ok(Ok(reply)) => judge_batch(reply.status(), reply.body()),
            Ok(Err(e)) => {
                conn = None;
                Outcome::failed(failure_label(&e), BATCH_SIZE)
            }
            Err(_) => {
                conn = None;
                Outcome::failed("timeout", BATCH_SIZE)
            }
        };
        t.accepted += outcome.ok;
        if counted {
            t.accepted_in_window += outcome.ok;
            for (label, n) in outcome.errors {
                t.error(label, n);
            }
        }
    }
    t
}

/// A body of `BATCH_SIZE` matching events numbered from `seq * BATCH_SIZE`.
fn batch_json(seq: u64) -> String {
    let first = seq * BATCH_SIZE;
    let events: Vec<String> =
        (first..first + BATCH_SIZE).map(|n| format!(r#"{{"type":"{EVENT_TYPE}","payload":{{"n":{n}}}}}"#)).collect();
    format!(r#"{{"events":[{}]}}"#, events.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_body_holds_numbered_webhook_events() {
        let v: Value = serde_json::from_str(&batch_json(3)).unwrap();
        let events = v["events"].as_array().unwrap();
        assert_eq!(events.len(), BATCH_SIZE as usize);
        assert_eq!(events[0], json!({"type": "bench.webhook", "payload": {"n": 300}}));
        assert_eq!(events[99]["payload"]["n"], 399);
    }
}
