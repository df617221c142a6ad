//! `/api/v1/audit`: a project's admins query their audit log (`?action=&resourceType=&userId=
//! &from=&to=` and cursor paging) and export it (`/export?format=csv|ndjson`, streamed as an
//! attachment).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::audit::query::{self, AuditQuery, ExportFormat};
use domain::auth::Tenant;
use serde::Deserialize;

use crate::http::error::ApiResult;
use crate::http::extract::{ApiQuery, Authed, PageQuery};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(list)).route("/export", get(export))
}

async fn list(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(filter): ApiQuery<AuditQuery>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(query::list(&s.svc, &t, &filter, q.page()).await?))
}

/// `?format=csv|ndjson` (default csv).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Format {
    format: Option<String>,
}

async fn export(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(filter): ApiQuery<AuditQuery>,
    ApiQuery(f): ApiQuery<Format>,
) -> ApiResult<Response> {
    export_response(&s, &t, &filter, &f).await
}

/// The streamed attachment; the panel's download link answers the same.
pub(crate) async fn export_response(s: &AppState, t: &Tenant, filter: &AuditQuery, f: &Format) -> ApiResult<Response> {
    let format = ExportFormat::parse(f.format.as_deref())?;
    let export = query::export(s.svc.clone(), t, filter, format).await?;
    let disposition = format!("attachment; filename=\"{}\"", export.file_name);
    let mut res = Body::from_stream(export.body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
