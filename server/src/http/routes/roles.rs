//! `/api/v1/roles`: a project's roles (`users:manage` or a project admin). `{id}` is a role's id
//! or its name.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use domain::roles::{self, NewRole, RolePatch};
use serde::Deserialize;

use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, ApiQuery, Authed, Meta, PageQuery};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(list).post(create)).route("/{id}", get(get_one).put(update).delete(remove))
}

/// `?force=true`: rename or delete a role that users or rules still hold, changing them too.
#[derive(Debug, Default, Deserialize)]
struct Force {
    #[serde(default)]
    force: bool,
}

async fn create(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    ApiJson(input): ApiJson<NewRole>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(roles::create(&s.svc, &t, input, &meta).await?)))
}

async fn list(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(roles::list(&s.svc, &t, q.page()).await?))
}

async fn get_one(State(s): State<AppState>, Authed(t): Authed, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(Json(roles::get(&s.svc, &t, &id).await?))
}

async fn update(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<Force>,
    ApiJson(input): ApiJson<RolePatch>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(roles::update(&s.svc, &t, &id, input, q.force, &meta).await?))
}

/// 204; 409 with `details: {users, rules}` while the role is held, unless `?force=true`.
async fn remove(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<Force>,
) -> ApiResult<impl IntoResponse> {
    roles::delete(&s.svc, &t, &id, q.force, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
