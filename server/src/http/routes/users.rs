//! `/api/v1/users`: a project's users, managed by its backend (`users:manage`) and admins;
//! self-registration with the publishable key; an end user reads (and partly updates) their own.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::users::{self, ListFilter, UserFields};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, Authed, AuthedOrPublic, Meta, PageQuery};
use crate::http::AppState;

/// A sync carries up to 1,000 users: more than the API's default body limit allows.
const SYNC_BODY_BYTES: usize = 4 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/register", post(create))
        .route("/sync", post(sync).layer(DefaultBodyLimit::max(SYNC_BODY_BYTES)))
        .route("/{id}", get(get_one).put(update).delete(remove))
        .route("/{id}/approve", post(approve))
        .route("/{id}/token", post(token))
}

/// 201: an `active` user with full credentials, a `pending` one with the publishable key alone.
async fn create(
    State(s): State<AppState>,
    auth: AuthedOrPublic,
    Meta(meta): Meta,
    ApiJson(input): ApiJson<UserFields>,
) -> ApiResult<impl IntoResponse> {
    let user = match auth {
        AuthedOrPublic::Authed(t) => users::create(&s.svc, &t, input, &meta).await?,
        AuthedOrPublic::Public(p) => users::register(&s.svc, &p, input, &meta).await?,
    };
    Ok((StatusCode::CREATED, Json(user)))
}

async fn list(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<ListFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(users::list(&s.svc, &t, filter, page.page()).await?))
}

/// 207 with one result per user, in order.
async fn sync(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<impl IntoResponse> {
    let results = users::sync(&s.svc, &t, &body, &meta).await?;
    Ok((StatusCode::MULTI_STATUS, Json(serde_json::json!({ "results": results }))))
}

async fn get_one(State(s): State<AppState>, Authed(t): Authed, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(Json(users::get(&s.svc, &t, &id).await?))
}

async fn update(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UserFields>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(users::update(&s.svc, &t, &id, input, &meta).await?))
}

async fn remove(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    users::delete(&s.svc, &t, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn approve(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(users::approve(&s.svc, &t, &id, &meta).await?))
}

/// `{token, expiresAt}` for an active user.
async fn token(State(s): State<AppState>, Authed(t): Authed, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(Json(users::token(&s.svc, &t, &id).await?))
}
