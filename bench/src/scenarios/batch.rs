//! `batch`: `POST /api/v1/events/batch` with 100 events a request; counts the items whose
//! per-item result says `accepted`, so the row's ops/s is events/s.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use serde_json::Value;

use super::ingest::event_json;
use super::{BoxFuture, Context, Scenario};
use crate::http::{status_label, Target};
use crate::load::{self, Outcome, Workload};
use crate::report::{RatioRole, Row};

/// Events per batch request.
pub const BATCH_SIZE: u64 = 100;

pub struct Batch;

impl Scenario for Batch {
    fn name(&self) -> &'static str {
        "batch"
    }

    fn about(&self) -> &'static str {
        "POST /api/v1/events/batch, 100 events per request: accepted events/s and request latency"
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, crate::Result<Vec<Row>>> {
        Box::pin(async move {
            let workload = Arc::new(EventBatch { target: ctx.target.clone(), headers: ctx.fixture.key_headers()? });
            let result = load::run(&ctx.target, &ctx.load, workload).await;
            let label = format!("batch /events/batch x{BATCH_SIZE}");
            let mut row = Row::from_load(label, ctx.load.concurrency, &result, RatioRole::Compared);
            row.notes.push(format!(
                "{:.1} batch requests/s; latency is per batch request",
                load::per_second(result.requests, result.elapsed)
            ));
            Ok(vec![row])
        })
    }
}

/// A body of `BATCH_SIZE` events numbered from `seq * BATCH_SIZE`, so numbers never repeat.
pub fn batch_json(seq: u64) -> String {
    let first = seq * BATCH_SIZE;
    let events: Vec<String> = (first..first + BATCH_SIZE).map(event_json).collect();
    format!(r#"{{"events":[{}]}}"#, events.join(","))
}

/// Counts `accepted` items; anything else is an error bucket named by the item's status (and
/// error code, when it has one).
pub fn judge_batch(status: StatusCode, body: &[u8]) -> Outcome {
    if !status.is_success() {
        return Outcome::failed(status_label(status, body), BATCH_SIZE);
    }
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let Some(results) = parsed.as_ref().and_then(|v| v.get("results")).and_then(Value::as_array) else {
        return Outcome::failed(format!("{} without a results list", status.as_u16()), BATCH_SIZE);
    };
    let mut outcome = Outcome::default();
    for item in results {
        let item_status = item.get("status").and_then(Value::as_str).unwrap_or("no status");
        if item_status == "accepted" {
            outcome.ok += 1;
            continue;
        }
        let code = item.pointer("/error/code").or_else(|| item.get("error")).and_then(Value::as_str);
        let label = match code {
            Some(code) => format!("item {item_status} {code}"),
            None => format!("item {item_status}"),
        };
        match outcome.errors.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => outcome.errors.push((label, 1)),
        }
    }
    let missing = BATCH_SIZE.saturating_sub(results.len() as u64);
    if missing > 0 {
        outcome.errors.push(("item missing from results".into(), missing));
    }
    outcome
}

struct EventBatch {
    target: Target,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Workload for EventBatch {
    fn request(&self, seq: u64) -> Request<Full<Bytes>> {
        let body = Bytes::from(batch_json(seq));
        self.target.request(Method::POST, "/api/v1/events/batch", &self.headers, Some(body))
    }

    fn ops_per_request(&self) -> u64 {
        BATCH_SIZE
    }

    fn judge(&self, status: StatusCode, body: &Bytes) -> Outcome {
        judge_batch(status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_body_holds_numbered_events() {
        let v: Value = serde_json::from_str(&batch_json(2)).unwrap();
        let events = v["events"].as_array().unwrap();
        assert_eq!(events.len(), BATCH_SIZE as usize);
        assert_eq!(events[0]["payload"]["n"], 200);
        assert_eq!(events[99]["payload"]["n"], 299);
    }

    #[test]
    fn counts_accepted_items_and_buckets_the_rest() {
        let mut items: Vec<Value> =
            (0..98).map(|i| serde_json::json!({"index": i, "id": "x", "status": "accepted"})).collect();
        for index in [98, 99] {
            items.push(serde_json::json!({
                "index": index, "status": "rejected", "error": {"code": "quota_exceeded"}
            }));
        }
        let body = serde_json::json!({ "results": items }).to_string();
        let o = judge_batch(StatusCode::MULTI_STATUS, body.as_bytes());
        assert_eq!(o.ok, 98);
        assert_eq!(o.errors, vec![("item rejected quota_exceeded".to_string(), 2)]);

        let o = judge_batch(StatusCode::TOO_MANY_REQUESTS, b"{}");
        assert_eq!((o.ok, o.errors[0].1), (0, BATCH_SIZE));
    }
}
