//! `/api/v1/platform/*`: platform staff sign in, govern projects and other staff, read metrics.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::auth::login;
use domain::platform_admins::{self, NewAdmin};
use domain::projects::platform::{self, ListFilter, NewProject, PlatformPatch};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, ClientAddr, Meta, PageQuery, PlatformAdmin};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(sign_in))
        .route("/projects", post(create_project).get(list_projects))
        .route("/projects/{id}", get(get_project).put(update_project).delete(suspend_project))
        .route("/admins", post(create_admin))
        .route("/metrics", get(metrics))
        .route("/usage", get(usage))
}

async fn sign_in(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(input): ApiJson<login::PlatformLogin>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(login::platform(&s.svc, input, client).await?))
}

async fn create_project(
    State(s): State<AppState>,
    PlatformAdmin(by): PlatformAdmin,
    Meta(meta): Meta,
    ApiJson(input): ApiJson<NewProject>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(platform::create(&s.svc, &by, input, &meta).await?)))
}

/// Spelled out rather than flattened: serde's flatten loses the number parsing of `limit`.
#[derive(serde::Deserialize)]
struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    status: Option<String>,
    q: Option<String>,
}

async fn list_projects(
    State(s): State<AppState>,
    PlatformAdmin(by): PlatformAdmin,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let filter = ListFilter { status: q.status, q: q.q };
    let page = PageQuery { limit: q.limit, cursor: q.cursor };
    Ok(Json(platform::list(&s.svc, &by, filter, page.page()).await?))
}

async fn get_project(
    State(s): State<AppState>,
    PlatformAdmin(by): PlatformAdmin,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(platform::get(&s.svc, &by, &id).await?))
}

async fn update_project(
    State(s): State<AppState>,
    PlatformAdmin(by): PlatformAdmin,
    Meta(meta): Meta,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<PlatformPatch>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(platform::update(&s.svc, &by, &id, patch, &meta).await?))
}

async fn suspend_project(
    State(s): State<AppState>,
    PlatformAdmin(by): PlatformAdmin,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(platform::suspend(&s.svc, &by, &id, &meta).await?))
}

async fn create_admin(
    State(s): State<AppState>,
    PlatformAdmin(by): PlatformAdmin,
    Meta(meta): Meta,
    ApiJson(input): ApiJson<NewAdmin>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(platform_admins::create(&s.svc, &by, input, &meta).await?)))
}

async fn metrics(State(s): State<AppState>, PlatformAdmin(by): PlatformAdmin) -> ApiResult<impl IntoResponse> {
    Ok(Json(platform::metrics(&s.svc, &by).await?))
}

async fn usage(
    State(s): State<AppState>,
    PlatformAdmin(by): PlatformAdmin,
    ApiQuery(q): ApiQuery<domain::usage::UsageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(serde_json::json!({ "data": domain::usage::for_platform(&s.svc, &by, &q).await? })))
}
