//! `/api/v1/events`: a project's backend sends events and reads their status.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::events::{self, Outcome};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, Authed};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", post(send)).route("/batch", post(send_batch)).route("/{id}", get(status))
}

/// 202 once stored; 200 with the first event's id for a repeated `clientEventId`.
async fn send(State(s): State<AppState>, Authed(t): Authed, ApiJson(body): ApiJson<serde_json::Value>) -> ApiResult<impl IntoResponse> {
    let outcome = events::send(&s.svc, &t, &body).await?;
    let status = match outcome {
        Outcome::Accepted(_) => StatusCode::ACCEPTED,
        Outcome::Duplicate(_) => StatusCode::OK,
    };
    Ok((status, Json(serde_json::json!({ "id": outcome.id(), "status": "accepted", "duplicate": outcome.is_duplicate() }))))
}

/// 207 with one result per item, in order.
async fn send_batch(State(s): State<AppState>, Authed(t): Authed, ApiJson(body): ApiJson<serde_json::Value>) -> ApiResult<impl IntoResponse> {
    let results = events::send_batch(&s.svc, &t, &body).await?;
    Ok((StatusCode::MULTI_STATUS, Json(serde_json::json!({ "results": results }))))
}

async fn status(State(s): State<AppState>, Authed(t): Authed, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(Json(events::get(&s.svc, &t, &id).await?))
}
