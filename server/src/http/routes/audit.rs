//! `/api/v1/audit`: a project's admins read their audit log.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiQuery, Authed, PageQuery};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(list))
}

async fn list(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(domain::audit::list(&s.svc, &t, q.page()).await?))
}
