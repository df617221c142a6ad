//! `/api/v1/analytics`: delivery rates and user engagement by hour or day (docs/ANALYTICS.md),
//! for a project's admins and keys with `notifications:read`.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use domain::analytics::read::{self, AnalyticsQuery};

use crate::http::error::ApiResult;
use crate::http::extract::{ApiQuery, Authed};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/delivery-rates", get(delivery_rates)).route("/user-engagement", get(user_engagement))
}

async fn delivery_rates(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(read::delivery_rates(&s.svc, &t, &q).await?))
}

async fn user_engagement(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(read::user_engagement(&s.svc, &t, &q).await?))
}
