//! `/api/v1/signup` (self-service sign-up) and `/api/v1/domains/check` (the TLS proxy's `ask`
//! hook for custom domains), docs/API.md "Sign-up and custom domains".

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::projects::{domains, signup};
use serde::Deserialize;

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, ClientAddr, Meta};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/signup", post(sign_up)).route("/domains/check", get(check_domain))
}

async fn sign_up(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    Meta(meta): Meta,
    ApiJson(input): ApiJson<signup::Signup>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(signup::signup(&s.svc, input, client, &meta).await?)))
}

#[derive(Deserialize)]
struct DomainQuery {
    domain: String,
}

async fn check_domain(State(s): State<AppState>, ApiQuery(q): ApiQuery<DomainQuery>) -> ApiResult<impl IntoResponse> {
    domains::check(&s.svc, &q.domain).await?;
    Ok(Json(serde_json::json!({ "domain": q.domain.trim().to_ascii_lowercase(), "status": "active" })))
}
