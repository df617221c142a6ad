//! `/api/v1/auth/login`: a project's admins and users sign in.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use domain::auth::login;

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ClientAddr};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/login", post(sign_in))
}

async fn sign_in(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(input): ApiJson<login::ProjectLogin>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(login::project(&s.svc, input, client).await?))
}
