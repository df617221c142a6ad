//! `/healthz` and `/metrics`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::http::error::envelope;
use crate::http::AppState;

pub async fn healthz(State(s): State<AppState>) -> Response {
    match s.svc.health().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            envelope(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "a backing service does not answer")
        }
    }
}

pub async fn metrics(State(s): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render()).into_response()
}
