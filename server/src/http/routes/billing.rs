//! Billing: `/api/v1/projects/me/billing*` for a project's admins and Stripe's webhook at
//! `/api/v1/billing/stripe/webhook`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::billing::{self, CheckoutInput};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, Authed, Meta};
use crate::http::AppState;

/// Under `/projects/me/billing`.
pub fn project_routes() -> Router<AppState> {
    Router::new().route("/", get(show)).route("/checkout", post(checkout)).route("/portal", post(portal))
}

/// Under `/billing`.
pub fn stripe_routes() -> Router<AppState> {
    Router::new().route("/stripe/webhook", post(stripe_webhook))
}

async fn show(State(s): State<AppState>, Authed(t): Authed) -> ApiResult<impl IntoResponse> {
    Ok(Json(billing::get(&s.svc, &t).await?))
}

async fn checkout(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    ApiJson(input): ApiJson<CheckoutInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(billing::checkout(&s.svc, &t, input, &meta).await?))
}

async fn portal(State(s): State<AppState>, Authed(t): Authed, Meta(meta): Meta) -> ApiResult<impl IntoResponse> {
    Ok(Json(billing::portal(&s.svc, &t, &meta).await?))
}

/// The raw body: the signature covers the bytes as sent.
async fn stripe_webhook(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult<impl IntoResponse> {
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    Ok(Json(billing::webhook::receive(&s.svc, signature, &body).await?))
}
