//! `baseline`: `GET /healthz` over keep-alive connections — what the HTTP stack and the health
//! check cost, the yardstick the other rows' ratio divides by.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};

use super::{BoxFuture, Context, Scenario};
use crate::http::{status_label, Target};
use crate::load::{self, Outcome, Workload};
use crate::report::{RatioRole, Row};

pub struct Baseline;

impl Scenario for Baseline {
    fn name(&self) -> &'static str {
        "baseline"
    }

    fn about(&self) -> &'static str {
        "GET /healthz requests/s and latency (the ratio column's reference)"
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, crate::Result<Vec<Row>>> {
        Box::pin(async move {
            let workload = Arc::new(Health { target: ctx.target.clone() });
            let result = load::run(&ctx.target, &ctx.load, workload).await;
            let row = Row::from_load("baseline /healthz", ctx.load.concurrency, &result, RatioRole::Baseline);
            Ok(vec![row])
        })
    }
}

struct Health {
    target: Target,
}

impl Workload for Health {
    fn request(&self, _seq: u64) -> Request<Full<Bytes>> {
        self.target.request(Method::GET, "/healthz", &[], None)
    }

    fn judge(&self, status: StatusCode, body: &Bytes) -> Outcome {
        if status == StatusCode::OK {
            Outcome::ok(1)
        } else {
            Outcome::failed(status_label(status, body), 1)
        }
    }
}
