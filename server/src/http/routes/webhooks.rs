//! `/api/v1/projects/me/webhook*`: a project's webhook endpoint, its secret, test sends and the
//! attempt log with redelivery.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::webhooks::{self, EndpointInput};
use serde_json::json;

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, Authed, Meta, PageQuery};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(read).put(save))
        .route("/rotate", post(rotate))
        .route("/test", post(test))
        .route("/logs", get(logs))
        .route("/logs/{id}/redeliver", post(redeliver))
}

async fn read(State(s): State<AppState>, Authed(t): Authed) -> ApiResult<impl IntoResponse> {
    Ok(Json(webhooks::endpoint::get(&s.svc, &t).await?))
}

async fn save(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    ApiJson(input): ApiJson<EndpointInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(webhooks::endpoint::put(&s.svc, &t, input, &meta).await?))
}

async fn rotate(State(s): State<AppState>, Authed(t): Authed, Meta(meta): Meta) -> ApiResult<impl IntoResponse> {
    Ok(Json(webhooks::endpoint::rotate(&s.svc, &t, &meta).await?))
}

async fn test(State(s): State<AppState>, Authed(t): Authed) -> ApiResult<impl IntoResponse> {
    let id = webhooks::emit::send_test(&s.svc, &t).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"messageId": id, "status": "pending"}))))
}

async fn logs(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(webhooks::logs::list(&s.svc, &t, q.page()).await?))
}

async fn redeliver(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let id = webhooks::logs::redeliver(&s.svc, &t, &id, &meta).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"messageId": id, "status": "pending"}))))
}
