//! `/api/v1/projects/me/push`: a project's FCM and APNs credentials, saved sealed and shown only
//! as whether each is configured and whose it is.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use domain::push::{credentials, PushCredentialsInput};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, Authed, Meta};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(read).put(save))
}

async fn read(State(s): State<AppState>, Authed(t): Authed) -> ApiResult<impl IntoResponse> {
    Ok(Json(credentials::get(&s.svc, &t).await?))
}

async fn save(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    ApiJson(input): ApiJson<PushCredentialsInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(credentials::put(&s.svc, &t, input, &meta).await?))
}
