//! `/api/v1/notifications`: reading, acknowledging and counting notifications.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use domain::notifications::{self, AckInput, ListFilter, StatsQuery};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiQuery, Authed, Meta, PageQuery};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(list))
        .route("/stats", get(stats))
        .route("/{id}", get(read))
        .route("/{id}/acknowledge", put(acknowledge).post(acknowledge))
}

/// Spelled out rather than flattened: query strings carry no types, and serde's flatten loses
/// the number and boolean parsing.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    user_id: Option<String>,
    rule_id: Option<String>,
    since: Option<String>,
    acknowledged: Option<bool>,
}

async fn list(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let filter = ListFilter { user_id: q.user_id, rule_id: q.rule_id, since: q.since, acknowledged: q.acknowledged };
    let page = PageQuery { limit: q.limit, cursor: q.cursor };
    Ok(Json(notifications::list(&s.svc, &t, filter, page.page()).await?))
}

async fn read(State(s): State<AppState>, Authed(t): Authed, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(Json(notifications::get(&s.svc, &t, &id).await?))
}

async fn stats(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(notifications::stats(&s.svc, &t, q).await?))
}

/// The body is optional: `{userId}` lets a project admin acknowledge for a recipient.
async fn acknowledge(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(m): Meta,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    let input: AckInput = if body.is_empty() {
        AckInput::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| domain::Error::BadRequest(format!("the body is not valid JSON: {e}")))?
    };
    Ok(Json(notifications::acknowledge(&s.svc, &t, &id, input, &m).await?))
}
