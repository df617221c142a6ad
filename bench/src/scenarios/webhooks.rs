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

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use super::batch::{judge_batch, BATCH_SIZE};
use super::{BoxFuture, Context, Scenario};
use crate::http::{failure_label, Conn, Target};
use crate::load::{per_second, LoadSpec, Outcome, Window};
use crate::report::{fmt_rate, Row};
use crate::setup::{bearer, post_expect, request_json, string_at};
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
        Err(e) => {
            return Err(format!("no project admin token to configure the webhook: {e}").into())
        }
    };

    // The sink's port first (the webhook URL names it), its server once the secret is known;
    // nothing is delivered before the first event anyway.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let secret = configure_webhook(target, &owner, &url).await?;
    let sink = Arc::new(Sink::new(secret_key(&secret)?));
    let _server = AbortOnDrop(tokio::spawn(serve(listener, sink.clone())));

    let tag = crate::random_token(8).to_lowercase();
    let socket = listening_user(target, &ctx.fixture.api_key, &key, &tag).await?;
    let rule = json!({
        "name": format!("bench webhook {tag}"),
        "condition": format!("type == \"{EVENT_TYPE}\""),
        "targetRoles": [ROLE],
        "title": "w {{ payload.n }}",
        "message": "m",
    });
    let created = [StatusCode::CREATED, StatusCode::OK];
    post_expect(
        target,
        "/api/v1/rules",
        &key,
        &rule,
        &created,
        "create rule",
    )
    .await?;
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
    let (frames, socket_error) = (&mut drainer.0)
        .await
        .unwrap_or_else(|e| (0, Some(format!("drain task failed: {e}"))));

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
async fn configure_webhook(
    target: &Target,
    owner: &[(HeaderName, HeaderValue)],
    url: &str,
) -> crate::Result<String> {
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

/// An end user holding [`ROLE`] and a WebSocket subscribed to their `private-user-{id}` channel
/// (authorised with the user's token), as `frame` sets up its listener.
async fn listening_user(
    target: &Target,
    api_key: &str,
    key: &[(HeaderName, HeaderValue)],
    tag: &str,
) -> crate::Result<Ws> {
    let created = [StatusCode::CREATED, StatusCode::OK];
    // The role may exist already (another run against the same database): that is fine.
    let role = json!({ "name": ROLE });
    let (status, body) =
        request_json(target, Method::POST, "/api/v1/roles", key, Some(&role)).await?;
    if !(status.is_success() || status == StatusCode::CONFLICT) {
        return Err(format!("create role {ROLE}: {status}: {body}").into());
    }
    let user = json!({
        "email": format!("bench-{ROLE}-{tag}@example.com"),
        "externalUserId": format!("bench-{ROLE}-{tag}"),
        "roles": [ROLE],
    });
    let user = post_expect(target, "/api/v1/users", key, &user, &created, "create user").await?;
    let user_id = string_at(&user, "/id", "create user")?;
    let token_path = format!("/api/v1/users/{user_id}/token");
    let (status, body) = request_json(target, Method::POST, &token_path, key, None).await?;
    // Only the error of the answer goes into a message: a success holds the token.
    crate::setup::expect(status, &created, "user token", &Value::Null)
        .map_err(|e| format!("{e} ({})", body.get("error").unwrap_or(&Value::Null)))?;
    let token = string_at(&body, "/token", "user token")?;

    let channel = format!("private-user-{user_id}");
    let (mut socket, socket_id) = ws::connect(target, api_key, None, SETUP_TIMEOUT).await?;
    let auth = post_expect(
        target,
        "/api/v1/realtime/auth",
        &bearer(&token)?,
        &json!({ "socket_id": socket_id, "channel_name": channel }),
        &[StatusCode::OK],
        "channel auth",
    )
    .await?;
    let auth = string_at(&auth, "/auth", "channel auth")?;
    ws::subscribe(&mut socket, &channel, Some(&auth), SETUP_TIMEOUT).await?;
    Ok(socket)
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
    post_expect(
        target,
        "/api/v1/events",
        key,
        &event,
        &accepted,
        "probe event",
    )
    .await?;
    let mut last_report = Instant::now();
    loop {
        let counts = sink.counts();
        if counts.distinct > 0 {
            return Ok(started.elapsed());
        }
        if counts.invalid > 0 {
            return Err(
                "the sink got a webhook whose signature does not verify against the \
                        secret the webhook PUT answered"
                    .into(),
            );
        }
        if started.elapsed() > PROBE_TIMEOUT {
            return Err(format!(
                "no webhook reached the sink within {PROBE_TIMEOUT:?} of the probe event; {}",
                last_attempt(target, owner).await
            )
            .into());
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "  waiting for the probe's webhook ({:.0} s so far)...",
                started.elapsed().as_secs_f64()
            );
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
            None => {
                "no attempt logged: was the probe's notification delivered to the socket?".into()
            }
        },
        Ok((status, body)) => format!("GET {path}: {status}: {body}"),
        Err(e) => format!("GET {path}: {e}"),
    }
}

/// The HMAC key of a `whsec_<base64>` secret.
fn secret_key(secret: &str) -> crate::Result<Vec<u8>> {
    let b64 = secret
        .strip_prefix("whsec_")
        .ok_or("the webhook secret does not start with whsec_")?;
    Ok(STANDARD
        .decode(b64)
        .map_err(|e| format!("the webhook secret is not base64 after whsec_: {e}"))?)
}

/// The Standard Webhooks check: one of the space-separated `v1,<base64>` signatures is the
/// HMAC-SHA256 of `{id}.{timestamp}.{body}` under `key` (during a rotation there are two).
fn verify(key: &[u8], id: &str, timestamp: &str, body: &[u8], signatures: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected)
}

/// The webhook receiver's records.
struct Sink {
    key: Vec<u8>,
    state: Mutex<SinkState>,
}

#[derive(Default)]
struct SinkState {
    /// The first valid arrival of each `webhook-id`.
    first_valid: HashMap<String, Instant>,
    duplicates: u64,
    invalid: u64,
}

#[derive(Clone, Copy, Debug)]
struct SinkCounts {
    /// Distinct `webhook-id`s with a valid signature.
    distinct: u64,
    duplicates: u64,
    invalid: u64,
}

impl Sink {
    fn new(key: Vec<u8>) -> Sink {
        Sink {
            key,
            state: Mutex::new(SinkState::default()),
        }
    }

    /// Checks one POST and records it: 204 when the signature verifies, else 400 (and the server
    /// retries later).
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let arrived = Instant::now();
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        let id = header("webhook-id");
        let valid = !id.is_empty()
            && verify(
                &self.key,
                id,
                header("webhook-timestamp"),
                &body,
                header("webhook-signature"),
            );
        self.record(id, valid, arrived);
        let status = if valid {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::BAD_REQUEST
        };
        let mut reply = Response::new(Full::new(Bytes::new()));
        *reply.status_mut() = status;
        reply
    }

    fn state(&self) -> MutexGuard<'_, SinkState> {
        // Nothing panics while holding it.
        self.state
            .lock()
            .expect("the sink's lock is never poisoned")
    }

    fn record(&self, id: &str, valid: bool, at: Instant) {
        let mut guard = self.state();
        let state = &mut *guard;
        if !valid {
            state.invalid += 1;
            return;
        }
        match state.first_valid.entry(id.to_string()) {
            Entry::Occupied(_) => state.duplicates += 1,
            Entry::Vacant(slot) => {
                slot.insert(at);
            }
        }
    }

    fn counts(&self) -> SinkCounts {
        let state = self.state();
        SinkCounts {
            distinct: state.first_valid.len() as u64,
            duplicates: state.duplicates,
            invalid: state.invalid,
        }
    }

    /// Distinct valid deliveries that first arrived in `[start, end)`.
    fn valid_between(&self, start: Instant, end: Instant) -> u64 {
        let state = self.state();
        count_between(state.first_valid.values().copied(), start, end)
    }
}

fn count_between(arrivals: impl Iterator<Item = Instant>, start: Instant, end: Instant) -> u64 {
    arrivals.filter(|t| *t >= start && *t < end).count() as u64
}

/// Serves the sink over HTTP/1.1 keep-alive until aborted (which drops, and so aborts, the
/// connection tasks too).
async fn serve(listener: TcpListener, sink: Arc<Sink>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors, most likely: the server retries what it could not send.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let sink = sink.clone();
        let service = service_fn(move |req| {
            let sink = sink.clone();
            async move { Ok::<_, Infallible>(sink.handle(req).await) }
        });
        connections.spawn(async move {
            // A connection the server drops mid-request is its retry to make.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
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
async fn send_batches(
    target: &Target,
    key: Vec<(HeaderName, HeaderValue)>,
    load: &LoadSpec,
) -> (SendTally, Window) {
    let begin = Instant::now();
    let plan = Arc::new(Plan {
        window: Window {
            start: begin + load.warmup,
            end: begin + load.warmup + load.measure,
        },
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
    let window = Window {
        start: plan.window.start,
        end: Instant::now().min(plan.window.end),
    };
    (sent, window)
}

/// One connection's closed loop of batches until the window ends or the cap is reached. Every
/// answer is judged, so `accepted` counts all events the deliveries must match.
async fn send_loop(
    target: Target,
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
    plan: Arc<Plan>,
) -> SendTally {
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
    let events: Vec<String> = (first..first + BATCH_SIZE)
        .map(|n| format!(r#"{{"type":"{EVENT_TYPE}","payload":{{"n":{n}}}}}"#))
        .collect();
    format!(r#"{{"events":[{}]}}"#, events.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `v1,` and the base64 HMAC-SHA256 of `{id}.{ts}.{body}`, computed independently.
    fn sign(key: &[u8], id: &str, ts: &str, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(format!("{id}.{ts}.{body}").as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn verifies_standard_webhooks_signatures() {
        // The Standard Webhooks reference vector (also domain::webhooks::signing's test).
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let (id, ts, body) = (
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            r#"{"test": 2432232314}"#,
        );
        let reference = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(sign(&key, id, ts, body), reference);
        assert!(verify(&key, id, ts, body.as_bytes(), reference));

        // During a rotation: the previous secret's signature too, either order.
        let other = sign(b"another key", id, ts, body);
        assert!(verify(
            &key,
            id,
            ts,
            body.as_bytes(),
            &format!("{other} {reference}")
        ));

        // Wrong key, tampered body, id or timestamp, a missing `v1,` or no header at all.
        assert!(!verify(&key, id, ts, body.as_bytes(), &other));
        assert!(!verify(&key, id, ts, br#"{"test": 2432232315}"#, reference));
        assert!(!verify(&key, "msg_other", ts, body.as_bytes(), reference));
        assert!(!verify(&key, id, "1614265331", body.as_bytes(), reference));
        assert!(!verify(&key, id, ts, body.as_bytes(), &reference[3..]));
        assert!(!verify(&key, id, ts, body.as_bytes(), ""));

        assert!(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(secret_key("whsec_not base64!").is_err());
    }

    #[test]
    fn the_sink_dedupes_and_counts_the_window() {
        let sink = Sink::new(b"k".to_vec());
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        sink.record("msg_1", true, at(5));
        sink.record("msg_2", true, at(15));
        sink.record("msg_1", true, at(16)); // a redelivery: its first arrival counts
        sink.record("msg_3", true, at(20)); // on the window's end: outside
        sink.record("msg_4", false, at(12));
        let c = sink.counts();
        assert_eq!((c.distinct, c.duplicates, c.invalid), (3, 1, 1));
        assert_eq!(sink.valid_between(at(10), at(20)), 1);
        assert_eq!(sink.valid_between(at(0), at(21)), 3);
        assert_eq!(count_between([at(1), at(2)].into_iter(), at(2), at(3)), 1);
    }

    #[tokio::test]
    async fn the_sink_answers_204_to_a_signed_post_and_400_otherwise() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let target = Target::loopback(listener.local_addr().unwrap()).unwrap();
        let sink = Arc::new(Sink::new(b"sink key".to_vec()));
        let _server = AbortOnDrop(tokio::spawn(serve(listener, sink.clone())));
        let body = r#"{"event":"notification.delivered"}"#;
        let post = |signature: String| {
            let h = |name: &'static str, v: &str| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_str(v).unwrap(),
                )
            };
            let headers = [
                h("webhook-id", "msg_1"),
                h("webhook-timestamp", "1700000000"),
                h("webhook-signature", &signature),
            ];
            target.request(Method::POST, "/hook", &headers, Some(Bytes::from(body)))
        };
        let mut conn = Conn::connect(&target).await.unwrap();
        let good = sign(b"sink key", "msg_1", "1700000000", body);
        for (signature, status) in [
            (good.clone(), StatusCode::NO_CONTENT),
            (good, StatusCode::NO_CONTENT),
            (
                sign(b"wrong", "msg_1", "1700000000", body),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let reply = conn.send(post(signature)).await.unwrap();
            assert_eq!(reply.status(), status);
        }
        let c = sink.counts();
        assert_eq!((c.distinct, c.duplicates, c.invalid), (1, 1, 1));
    }

    #[test]
    fn batch_body_holds_numbered_webhook_events() {
        let v: Value = serde_json::from_str(&batch_json(3)).unwrap();
        let events = v["events"].as_array().unwrap();
        assert_eq!(events.len(), BATCH_SIZE as usize);
        assert_eq!(
            events[0],
            json!({"type": "bench.webhook", "payload": {"n": 300}})
        );
        assert_eq!(events[99]["payload"]["n"], 399);
    }
}
