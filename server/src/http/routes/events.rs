//! `/api/v1/events`: a project's backend sends events, reads their status, and lists them.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::auth::Tenant;
use domain::events::{self, Outcome};
use domain::usage::quota::{self, QuotaStatus};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, Authed, PageQuery};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", post(send).get(list)).route("/batch", post(send_batch)).route("/{id}", get(status))
}

/// `X-Quota-*` (events this month; `unlimited` without a limit) and the key's `RateLimit-*`.
fn headers(t: &Tenant, q: Option<&QuotaStatus>) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(q) = q {
        let text = |n: Option<i64>| n.map_or(HeaderValue::from_static("unlimited"), HeaderValue::from);
        h.insert("x-quota-limit", text(q.limit));
        h.insert("x-quota-remaining", text(q.remaining()));
        h.insert("x-quota-reset", HeaderValue::from(quota::reset_epoch(q)));
    }
    if let Some(r) = t.rate() {
        h.insert("ratelimit-limit", HeaderValue::from(r.limit));
        h.insert("ratelimit-remaining", HeaderValue::from(r.remaining));
        h.insert("ratelimit-reset", HeaderValue::from(r.reset_secs));
    }
    h
}

/// 202 once stored; 200 with the first event's id for a repeated `clientEventId`.
async fn send(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<impl IntoResponse> {
    let (outcome, quota) = events::send(&s.svc, &t, &body).await?;
    let status = match outcome {
        Outcome::Duplicate(_) => StatusCode::OK,
        _ => StatusCode::ACCEPTED,
    };
    let body = serde_json::json!({ "id": outcome.id(), "status": "accepted", "duplicate": outcome.is_duplicate() });
    Ok((status, headers(&t, Some(&quota)), Json(body)))
}

/// 207 with one result per item, in order.
async fn send_batch(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<impl IntoResponse> {
    let (results, quota) = events::send_batch(&s.svc, &t, &body).await?;
    Ok((StatusCode::MULTI_STATUS, headers(&t, quota.as_ref()), Json(serde_json::json!({ "results": results }))))
}

async fn status(State(s): State<AppState>, Authed(t): Authed, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok((headers(&t, None), Json(events::get(&s.svc, &t, &id).await?)))
}

/// Newest first; `?type=` and `?status=` filter.
async fn list(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<events::ListFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(events::list(&s.svc, &t, filter, page.page()).await?))
}
