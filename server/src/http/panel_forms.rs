//! The panels' plain HTTP routes, where a file travels and a server function (URL-encoded form in,
//! JSON out) does not fit (docs/PANELS.md "Uploads and downloads"). Both sign in with the same
//! session cookie and call the same domain functions as the REST API.
//!
//! - `POST /_panel/sounds/upload`: the sounds page posts `multipart/form-data` here and is sent
//!   back to `/sounds` with the outcome in the query (`?uploaded=name` or `?error=sentence`), with
//!   or without the page's script. The panel's same-origin check covers it, as it covers every
//!   `POST` under `/_panel/`.
//! - `GET /_panel/audit/export`: the audit page's download links (the REST export's query).

use app::server_fns::audit::EXPORT_PATH;
use app::server_fns::sounds::UPLOAD_PATH;
use app::server_fns::ssr;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use domain::audit::AuditQuery;
use domain::Error;

use crate::http::extract::ApiQuery;
use crate::http::routes::audit::{export_response, Format};
use crate::http::routes::sounds::{read_upload, upload_limit};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(UPLOAD_PATH, post(upload_sound).layer(upload_limit())).route(EXPORT_PATH, get(export_audit))
}

/// The export as the REST API answers it; signed out: the sign-in page, back to the audit log.
async fn export_audit(
    State(s): State<AppState>,
    parts: Parts,
    ApiQuery(filter): ApiQuery<AuditQuery>,
    ApiQuery(f): ApiQuery<Format>,
) -> Response {
    let Ok(tenant) = ssr::tenant_of(&s.svc, &parts).await else {
        return Redirect::to("/login?next=/audit").into_response();
    };
    match export_response(&s, &tenant, &filter, &f).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn upload_sound(
    State(s): State<AppState>,
    parts: Parts,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let tenant = match ssr::tenant_of(&s.svc, &parts).await {
        Ok(t) => t,
        Err(_) => return Redirect::to("/login?next=/sounds").into_response(),
    };
    let meta = ssr::meta_of(&s.svc, &parts);
    let outcome = match read_upload(form).await {
        Ok(upload) => domain::sounds::create(&s.svc, &tenant, upload, &meta).await,
        Err(e) => Err(e),
    };
    let query = match outcome {
        Ok(sound) => format!("uploaded={}", encode(&sound.name)),
        Err(e) => format!("error={}", encode(&sentence(&e))),
    };
    Redirect::to(&format!("/sounds?{query}")).into_response()
}

/// What the page shows for a refused upload: the field's own message where there is one.
fn sentence(e: &Error) -> String {
    if let Error::Internal(detail) = e {
        tracing::error!(error = %detail, "sound upload failed");
    }
    let object = e.error_object();
    let fields: Vec<String> = object["details"]["fields"]
        .as_object()
        .map(|f| f.iter().map(|(k, v)| format!("The {k} {}", v.as_str().unwrap_or("is not valid"))).collect())
        .unwrap_or_default();
    let text = if fields.is_empty() {
        let m = object["message"].as_str().unwrap_or("the upload failed");
        let mut c = m.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
    } else {
        fields.join("; ")
    };
    if text.ends_with('.') {
        text
    } else {
        text + "."
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
