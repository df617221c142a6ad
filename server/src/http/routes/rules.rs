//! `/api/v1/rules`: a project's rules, and dry runs against sample events.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::rules::{self, RuleInput};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, Authed, Meta, PageQuery};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", post(create).get(list))
        .route("/{id}", get(read).put(update).delete(remove))
        .route("/{id}/test", post(test))
}

async fn create(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(m): Meta,
    ApiJson(input): ApiJson<RuleInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(rules::create(&s.svc, &t, input, &m).await?)))
}

async fn list(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(rules::list(&s.svc, &t, q.page()).await?))
}

async fn read(State(s): State<AppState>, Authed(t): Authed, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(Json(rules::get(&s.svc, &t, &id).await?))
}

async fn update(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(m): Meta,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RuleInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(rules::update(&s.svc, &t, &id, input, &m).await?))
}

async fn remove(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(m): Meta,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    rules::delete(&s.svc, &t, &id, &m).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test(
    State(s): State<AppState>,
    Authed(t): Authed,
    Path(id): Path<String>,
    ApiJson(sample): ApiJson<serde_json::Value>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(rules::test(&s.svc, &t, &id, &sample).await?))
}
