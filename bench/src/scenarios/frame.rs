//! `frame`: event → notification frame latency. One end user with the role `ops`, a rule
//! `type == "bench.frame"` that notifies `ops` with the title `t {{ payload.n }}`, and a
//! WebSocket subscribed to that user's `private-user-{id}` channel. Events go out open-loop at
//! `--rate` per second (see [`crate::openloop`]); each frame's title names the event's number,
//! so its latency is measured from the instant just before that event's `POST /api/v1/events`.
//!
//! Before measuring, a probe event must travel the whole way (accepted, processed by the worker,
//! a frame on the socket). Because the worker takes one project's events in order, the probe is
//! processed only after everything `ingest` and `batch` left queued, so the measurement does not
//! include that backlog.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use serde_json::{json, Value};

use super::{BoxFuture, Context, Scenario};
use crate::http::Target;
use crate::openloop::{self, FrameKind, OpenLoopSpec, Probe};
use crate::report::{fmt_ms, fmt_rate, percentiles_ms, Row};
use crate::setup::{listening_user, post_expect, request_json, string_at};
use crate::ws::{self, Frame};

/// The event type the rule matches (distinct from `ingest`'s `bench.event`, so the events those
/// scenarios leave queued notify nobody).
const EVENT_TYPE: &str = "bench.frame";
/// How long the queue of earlier scenarios may take to drain before the probe comes through.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the probe's frame may take once its event is processed.
const PROBE_FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames still under way after the last event.
const GRACE: Duration = Duration::from_secs(10);
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct FrameLatency;

impl Scenario for FrameLatency {
    fn name(&self) -> &'static str {
        "frame"
    }

    fn about(&self) -> &'static str {
        "event -> notification frame on a user's private channel, open-loop at --rate/s: \
         p50/p99 latency, frames/s, missing frames"
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, crate::Result<Vec<Row>>> {
        Box::pin(run(ctx))
    }
}

async fn run(ctx: &Context) -> crate::Result<Vec<Row>> {
    let target = &ctx.target;
    let key = ctx.fixture.key_headers()?;
    let tag = crate::random_token(8).to_lowercase();
    let created = [StatusCode::CREATED, StatusCode::OK];
    // The role first: the rule names it.
    let (mut socket, channel) = listening_user(target, &ctx.fixture.api_key, &key, "ops", &tag, SETUP_TIMEOUT).await?;

    let rule = json!({
        "name": format!("bench frame {tag}"),
        "condition": format!("type == \"{EVENT_TYPE}\""),
        "targetRoles": ["ops"],
        "title": "t {{ payload.n }}",
        "message": "m",
    });
    post_expect(target, "/api/v1/rules", &key, &rule, &created, "create rule").await?;

    let drained_in = probe_round_trip(target, &key, &mut socket, &channel).await?;

    let spec = OpenLoopSpec {
        rate: ctx.rate,
        connections: ctx.load.concurrency,
        warmup: ctx.load.warmup,
        measure: ctx.load.measure,
        max_requests: ctx.load.max_requests,
        request_timeout: ctx.load.request_timeout,
        grace: GRACE,
    };
    let probe = Arc::new(EventProbe { target: target.clone(), headers: key });
    let r = openloop::run(target, &spec, probe, socket).await;

    let mut row = Row::empty("frame event->notification", spec.connections);
    row.ops_per_sec = Some(r.frames_per_sec());
    (row.p50_ms, row.p99_ms) = percentiles_ms(&r.latency_us);
    row.set_errors(r.error_detail());
    row.other = Some(format!("{} of {} frames missing", r.missing, r.accepted));
    row.notes.push(format!(
        "open loop at {}/s: {} events sent in the window, {} accepted (202), {} frames received",
        ctx.rate, r.sent, r.accepted, r.received
    ));
    let (_, lag_p99) = percentiles_ms(&r.lag_us);
    if let Some(lag) = lag_p99 {
        row.notes.push(format!(
            "sender lag behind schedule p99 {} ms; queue of earlier scenarios drained in {:.1} s",
            fmt_ms(lag),
            drained_in.as_secs_f64()
        ));
    }
    if r.reconnects > 0 {
        row.notes.push(format!("{} sender connections re-opened", r.reconnects));
    }
    if r.frames_per_sec() > 0.0 && (r.frames_per_sec() as u64) < ctx.rate * 9 / 10 {
        row.notes.push(format!(
            "delivered {} frames/s of the {} events/s offered",
            fmt_rate(r.frames_per_sec()),
            ctx.rate
        ));
    }
    Ok(vec![row])
}

/// Sends one matching event and waits for the worker to process it (everything queued before
/// it included) and for its frame. Answers how long that took.
async fn probe_round_trip(
    target: &Target,
    key: &[(HeaderName, HeaderValue)],
    socket: &mut ws::Ws,
    channel: &str,
) -> crate::Result<Duration> {
    let started = Instant::now();
    let event = json!({ "type": EVENT_TYPE, "payload": { "n": "probe" } });
    let sent = post_expect(target, "/api/v1/events", key, &event, &[StatusCode::ACCEPTED], "probe event").await?;
    let id = string_at(&sent, "/id", "probe event")?;

    // The socket is not read meanwhile; the probe's frame waits in its buffers.
    let mut last_report = Instant::now();
    let event = loop {
        let (status, body) = request_json(target, Method::GET, &format!("/api/v1/events/{id}"), key, None).await?;
        if !status.is_success() {
            return Err(format!("GET /api/v1/events/{id}: {status}: {body}").into());
        }
        if body.get("status").and_then(Value::as_str) != Some("accepted") {
            break body;
        }
        if started.elapsed() > DRAIN_TIMEOUT {
            return Err(format!(
                "the probe event {id} was still `accepted` after {DRAIN_TIMEOUT:?}: the worker \
                 has not got through the queue"
            )
            .into());
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "  waiting for the worker to drain the queue ({:.0} s so far)...",
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let drained = started.elapsed();
    if event.get("status").and_then(Value::as_str) != Some("processed") {
        return Err(format!("the probe event {id} ended as {event}").into());
    }
    let is_probe = |f: &Frame| f.event == "notification" && probe_title(f) == Some("t probe".into());
    ws::wait_for(socket, PROBE_FRAME_TIMEOUT, is_probe).await.map_err(|e| {
        format!(
            "the probe event {id} was processed (notificationIds {}), but its `notification` \
                 frame did not arrive on {channel}: {e}",
            event.get("notificationIds").unwrap_or(&Value::Null)
        )
    })?;
    Ok(drained)
}

fn probe_title(f: &Frame) -> Option<String> {
    f.data_json().get("title").and_then(Value::as_str).map(str::to_string)
}

/// The event numbered `seq`, matching the rule.
pub fn event_json(seq: u64) -> String {
    format!(r#"{{"type":"{EVENT_TYPE}","payload":{{"n":{seq}}}}}"#)
}

/// The event number a notification frame's title (`t {n}`) carries.
fn classify(f: &Frame) -> FrameKind {
    if f.event != "notification" {
        return FrameKind::Unexpected;
    }
    match probe_title(f).as_deref().and_then(|t| t.strip_prefix("t ")) {
        Some("probe") => FrameKind::Ignore,
        Some(n) => n.parse().map_or(FrameKind::Unexpected, FrameKind::Ours),
        None => FrameKind::Unexpected,
    }
}

struct EventProbe {
    target: Target,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Probe for EventProbe {
    fn request(&self, seq: u64) -> Request<Full<Bytes>> {
        self.target.request(Method::POST, "/api/v1/events", &self.headers, Some(Bytes::from(event_json(seq))))
    }

    fn accepted(&self, status: StatusCode) -> bool {
        status == StatusCode::ACCEPTED
    }

    fn classify(&self, frame: &Frame) -> FrameKind {
        classify(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(event: &str, title: &str) -> Frame {
        Frame {
            event: event.into(),
            channel: Some("private-user-1".into()),
            data: json!({ "id": "n", "title": title, "eventId": "e" }).to_string(),
        }
    }

    #[test]
    fn titles_name_the_event() {
        assert!(matches!(classify(&frame("notification", "t 42")), FrameKind::Ours(42)));
        assert!(matches!(classify(&frame("notification", "t probe")), FrameKind::Ignore));
        assert!(matches!(classify(&frame("notification", "other")), FrameKind::Unexpected));
        assert!(matches!(classify(&frame("something", "t 1")), FrameKind::Unexpected));
        let v: Value = serde_json::from_str(&event_json(7)).unwrap();
        assert_eq!(v, json!({"type": "bench.frame", "payload": {"n": 7}}));
    }
}
