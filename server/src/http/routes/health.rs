//! `/healthz` and `/metrics`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
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

/// Prometheus text; with `METRICS_TOKEN` set, only for `Authorization: Bearer <token>`.
pub async fn metrics(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &s.svc.settings.auth.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(given.trim().as_bytes(), expected.as_bytes()) {
            return envelope(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "/metrics takes the METRICS_TOKEN as a bearer token",
            );
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render()).into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
