//! `trigger`: Pusher HTTP API trigger → frame latency. One WebSocket on a public channel; signed
//! `POST /apps/{appId}/events` requests go out open-loop at `--rate` per second (see
//! [`crate::openloop`]), each with data `{"n": <number>}`, and each frame's latency is measured
//! from the instant just before its trigger request.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, StatusCode};
use serde_json::Value;

use super::{BoxFuture, Context, Scenario};
use crate::http::Target;
use crate::openloop::{self, FrameKind, OpenLoopSpec, Probe};
use crate::pusher::{self, Credentials};
use crate::report::{fmt_ms, percentiles_ms, Row};
use crate::setup::{excerpt, send_raw};
use crate::ws::{self, Frame};

/// The event name triggered.
pub const EVENT: &str = "bench";
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
const GRACE: Duration = Duration::from_secs(10);

pub struct TriggerLatency;

impl Scenario for TriggerLatency {
    fn name(&self) -> &'static str {
        "trigger"
    }

    fn about(&self) -> &'static str {
        "Pusher HTTP API trigger -> frame on a public channel with one subscriber, open-loop at \
         --rate/s: p50/p99 latency, frames/s"
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, crate::Result<Vec<Row>>> {
        Box::pin(run(ctx))
    }
}

/// The project's realtime credentials, with the owner's token.
pub async fn credentials(ctx: &Context) -> crate::Result<Credentials> {
    let owner = ctx.fixture.owner_token.as_ref().map_err(|e| format!("no project admin token: {e}"))?;
    pusher::credentials(&ctx.target, owner).await
}

/// The data of trigger `seq`.
pub fn data_json(seq: u64) -> String {
    format!(r#"{{"n":{seq}}}"#)
}

/// Sends one trigger outside any measurement and checks it is accepted.
pub async fn trigger_once(target: &Target, creds: &Credentials, channel: &str, data: &str) -> crate::Result<()> {
    let req = pusher::trigger_request(target, creds, pusher::event_body(EVENT, &[channel], data));
    let (status, body) = send_raw(target, req).await?;
    if status != StatusCode::OK {
        return Err(format!("trigger answered {status}: {}", excerpt(&body)).into());
    }
    Ok(())
}

async fn run(ctx: &Context) -> crate::Result<Vec<Row>> {
    let target = &ctx.target;
    let creds = credentials(ctx).await?;
    let channel = format!("bench-trigger-{}", crate::random_token(8).to_lowercase());
    let (mut socket, _) = ws::connect(target, &creds.key, None, SETUP_TIMEOUT).await?;
    ws::subscribe(&mut socket, &channel, None, SETUP_TIMEOUT).await?;

    // The whole path once before measuring.
    trigger_once(target, &creds, &channel, r#"{"n":"probe"}"#).await?;
    ws::wait_for(&mut socket, SETUP_TIMEOUT, |f| {
        f.event == EVENT && f.data_json().get("n").and_then(Value::as_str) == Some("probe")
    })
    .await
    .map_err(|e| format!("the probe trigger (answered 200) never reached {channel}: {e}"))?;

    let spec = OpenLoopSpec {
        rate: ctx.rate,
        connections: ctx.load.concurrency,
        warmup: ctx.load.warmup,
        measure: ctx.load.measure,
        max_requests: ctx.load.max_requests,
        request_timeout: ctx.load.request_timeout,
        grace: GRACE,
    };
    let probe = Arc::new(TriggerProbe { target: target.clone(), creds, channel });
    let r = openloop::run(target, &spec, probe, socket).await;

    let mut row = Row::empty("trigger api->frame", spec.connections);
    row.ops_per_sec = Some(r.frames_per_sec());
    (row.p50_ms, row.p99_ms) = percentiles_ms(&r.latency_us);
    row.set_errors(r.error_detail());
    row.other = Some(format!("{} of {} frames missing", r.missing, r.accepted));
    row.notes.push(format!(
        "open loop at {}/s: {} triggers sent in the window, {} accepted (200), {} frames received",
        ctx.rate, r.sent, r.accepted, r.received
    ));
    if let (_, Some(lag)) = percentiles_ms(&r.lag_us) {
        row.notes.push(format!("sender lag behind schedule p99 {} ms", fmt_ms(lag)));
    }
    Ok(vec![row])
}

struct TriggerProbe {
    target: Target,
    creds: Credentials,
    channel: String,
}

impl Probe for TriggerProbe {
    fn request(&self, seq: u64) -> Request<Full<Bytes>> {
        let body = pusher::event_body(EVENT, &[&self.channel], &data_json(seq));
        pusher::trigger_request(&self.target, &self.creds, body)
    }

    fn accepted(&self, status: StatusCode) -> bool {
        status == StatusCode::OK
    }

    fn classify(&self, frame: &Frame) -> FrameKind {
        if frame.event != EVENT {
            return FrameKind::Unexpected;
        }
        match frame.data_json().get("n") {
            Some(Value::Number(n)) => n.as_u64().map_or(FrameKind::Unexpected, FrameKind::Ours),
            Some(Value::String(s)) if s == "probe" => FrameKind::Ignore,
            _ => FrameKind::Unexpected,
        }
    }
}
