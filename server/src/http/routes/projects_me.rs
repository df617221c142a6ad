//! `/api/v1/projects/me/*`: a project's admins see and configure their own project.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use domain::api_keys::{self, NewApiKey};
use domain::projects::me::{self, SettingsPatch};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, Authed, Meta, PageQuery};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(get_me).put(update_me))
        .route("/branding", put(update_me))
        .route("/api-keys", get(list_keys).post(create_key))
        .route("/api-keys/{id}", delete(revoke_key))
        .nest("/webhook", super::webhooks::routes())
        .nest("/push", super::push::routes())
        .nest("/billing", super::billing::project_routes())
        .route("/usage", get(usage))
}

async fn usage(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<domain::usage::UsageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(domain::usage::for_project(&s.svc, &t, &q).await?))
}

async fn get_me(State(s): State<AppState>, Authed(t): Authed) -> ApiResult<impl IntoResponse> {
    t.require_admin()?;
    Ok(Json(me::get(&s.svc, &t).await?))
}

async fn update_me(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    ApiJson(patch): ApiJson<SettingsPatch>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(me::update(&s.svc, &t, patch, &meta).await?))
}

async fn list_keys(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(api_keys::list(&s.svc, &t, q.page()).await?))
}

async fn create_key(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    ApiJson(input): ApiJson<NewApiKey>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(api_keys::create(&s.svc, &t, input, &meta).await?)))
}

async fn revoke_key(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(api_keys::revoke(&s.svc, &t, &id, &meta).await?))
}
