//! `ingest`: one event per `POST /api/v1/events` with the project's key pair; counts the 202s
//! (durably stored events) per second.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};

use super::{BoxFuture, Context, Scenario};
use crate::http::{status_label, Target};
use crate::load::{self, Outcome, Workload};
use crate::report::{RatioRole, Row};

pub struct Ingest;

impl Scenario for Ingest {
    fn name(&self) -> &'static str {
        "ingest"
    }

    fn about(&self) -> &'static str {
        "POST /api/v1/events, one event per request: accepted (202) events/s and latency"
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, crate::Result<Vec<Row>>> {
        Box::pin(async move {
            let workload = Arc::new(SingleEvent { target: ctx.target.clone(), headers: ctx.fixture.key_headers()? });
            let result = load::run(&ctx.target, &ctx.load, workload).await;
            let row = Row::from_load("ingest /events", ctx.load.concurrency, &result, RatioRole::Compared);
            Ok(vec![row])
        })
    }
}

/// The event body the brief fixes: `n` is the request's number, `amount` cycles below 5000 (so
/// a later rule scenario can match on it).
pub fn event_json(n: u64) -> String {
    format!(r#"{{"type":"bench.event","payload":{{"n":{n},"amount":{}}}}}"#, n % 5000)
}

struct SingleEvent {
    target: Target,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Workload for SingleEvent {
    fn request(&self, seq: u64) -> Request<Full<Bytes>> {
        let body = Bytes::from(event_json(seq));
        self.target.request(Method::POST, "/api/v1/events", &self.headers, Some(body))
    }

    fn judge(&self, status: StatusCode, body: &Bytes) -> Outcome {
        if status == StatusCode::ACCEPTED {
            Outcome::ok(1)
        } else {
            Outcome::failed(status_label(status, body), 1)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_body_is_the_documented_json() {
        let v: serde_json::Value = serde_json::from_str(&super::event_json(5001)).unwrap();
        assert_eq!(v, serde_json::json!({"type": "bench.event", "payload": {"n": 5001, "amount": 1}}));
    }
}
