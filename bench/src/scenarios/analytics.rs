//! `analytics`: the analytics answers over a million notifications. Ten rules match one event
//! type; 100,000 such events (in batches of 100) make 1,000,000 notifications. Once the rollups
//! count them all, each answer is asked 200 times in a row: 30 days by day and the last 24 hours
//! by hour for delivery rates, and 30 days by day for engagement. The rows are the answers'
//! latency; the figure to hold is p99 under 100 ms (docs/ANALYTICS.md).

use std::time::{Duration, Instant};

use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use super::{BoxFuture, Context, Scenario};
use crate::load::new_histogram;
use crate::report::{percentiles_ms, Row};
use crate::setup::{bearer, post_expect, request_json};

const RULES: u64 = 10;
const EVENTS: u64 = 100_000;
const BATCH: u64 = 100;
const SENDERS: u64 = 4;
const ASKS: usize = 200;

pub struct Analytics;

impl Scenario for Analytics {
    fn name(&self) -> &'static str {
        "analytics"
    }

    fn about(&self) -> &'static str {
        "GET /api/v1/analytics/* over 1,000,000 notifications (10 rules x 100,000 events): answer latency"
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, crate::Result<Vec<Row>>> {
        Box::pin(async move {
            let owner = bearer(ctx.fixture.owner_token.as_deref().map_err(|e| e.to_string())?)?;
            let key = ctx.fixture.key_headers()?;
            let target = &ctx.target;
            // The default range by day: the last 30 days.
            let rates_by_day = "/api/v1/analytics/delivery-rates?interval=day".to_string();
            let sent_before = total_sent(ctx, &rates_by_day).await?;
            for i in 0..RULES {
                let rule = json!({
                    "name": format!("analytics bench {i}"),
                    "condition": "type == \"analytics.bench\"",
                    "targetRoles": ["admin"],
                    "title": "Bench {{ payload.n }}",
                });
                post_expect(target, "/api/v1/rules", &owner, &rule, &[StatusCode::CREATED], "create rule").await?;
            }
            let started = Instant::now();
            let mut senders = Vec::new();
            for s in 0..SENDERS {
                let (target, key) = (target.clone(), key.clone());
                senders.push(tokio::spawn(async move {
                    let mut b = s;
                    while b * BATCH < EVENTS {
                        let events: Vec<Value> = (b * BATCH..(b + 1) * BATCH)
                            .map(|n| json!({"type": "analytics.bench", "payload": {"n": n}}))
                            .collect();
                        let body = json!({ "events": events });
                        post_expect(
                            &target,
                            "/api/v1/events/batch",
                            &key,
                            &body,
                            &[StatusCode::OK, StatusCode::ACCEPTED, StatusCode::MULTI_STATUS],
                            "batch",
                        )
                        .await?;
                        b += SENDERS;
                    }
                    crate::Result::Ok(())
                }));
            }
            for s in senders {
                s.await.map_err(|e| e.to_string())??;
            }
            let sent_at = started.elapsed();
            // Wait for the engine and the rollups to count every notification.
            let want = sent_before + RULES * EVENTS;
            let deadline = Instant::now() + Duration::from_secs(900);
            let mut counted = sent_before;
            while counted < want {
                if Instant::now() > deadline {
                    return Err(format!("the rollups counted {counted} of {want} notifications in 15 minutes").into());
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                counted = total_sent(ctx, &rates_by_day).await?;
            }
            let made_in = started.elapsed();
            let asks = [
                ("analytics delivery-rates 30d by day", rates_by_day.clone()),
                ("analytics delivery-rates 24h by hour", "/api/v1/analytics/delivery-rates?interval=hour".to_string()),
                ("analytics user-engagement 30d by day", "/api/v1/analytics/user-engagement?interval=day".to_string()),
            ];
            let mut rows = Vec::new();
            for (label, path) in asks {
                let mut h = new_histogram();
                let begin = Instant::now();
                for _ in 0..ASKS {
                    let t = Instant::now();
                    let (status, body) = request_json(target, Method::GET, &path, &owner, None).await?;
                    if status != StatusCode::OK {
                        return Err(format!("{path}: {status}: {body}").into());
                    }
                    h.record(t.elapsed().as_micros().max(1) as u64).ok();
                }
                let mut row = Row::empty(label, 1);
                (row.p50_ms, row.p99_ms) = percentiles_ms(&h);
                row.ops_per_sec = Some(ASKS as f64 / begin.elapsed().as_secs_f64());
                row.other = Some(format!("{} notifications", counted));
                rows.push(row);
            }
            if let Some(first) = rows.first_mut() {
                first.notes.push(format!(
                    "{EVENTS} events sent in {:.1} s; {} notifications made and counted in {:.1} s",
                    sent_at.as_secs_f64(),
                    RULES * EVENTS,
                    made_in.as_secs_f64()
                ));
                first.notes.push("each answer asked 200 times in a row on a fresh connection each".into());
            }
            Ok(rows)
        })
    }
}

/// `sent` over the 30 days.
async fn total_sent(ctx: &Context, path: &str) -> crate::Result<u64> {
    let owner = bearer(ctx.fixture.owner_token.as_deref().map_err(|e| e.to_string())?)?;
    let (status, body) = request_json(&ctx.target, Method::GET, path, &owner, None).await?;
    if status != StatusCode::OK {
        return Err(format!("{path}: {status}: {body}").into());
    }
    let data = body["data"].as_array().ok_or("no data in the analytics answer")?;
    Ok(data.iter().filter_map(|d| d["sent"].as_u64()).sum())
}
