//! `/api/v1/sounds` (`rules:manage` or a project admin) and the public files at
//! `/media/sounds/{projectId}/{id}.{format}` (docs/SOUNDS.md).

use axum::body::Body;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::sounds::{self, Upload};
use domain::Error;
use serde::Deserialize;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Authed, Meta, PageQuery};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(list).post(upload).layer(upload_limit())).route("/{id}", get(get_one).delete(remove))
}

/// The files, outside `/api`: no credentials, cacheable for a year (a changed sound is a new id).
pub fn media_routes() -> Router<AppState> {
    Router::new().route("/media/sounds/{project}/{file}", get(serve))
}

fn bad_form(e: MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return Error::PayloadTooLarge;
    }
    Error::BadRequest(format!("the multipart form could not be read: {}", e.body_text()))
}

/// The sound in a `multipart/form-data` body: `file` (the audio) and `name` (optional: the
/// file's own name without its extension otherwise). The REST API and the panel's form share it.
pub(crate) async fn read_upload(form: Result<Multipart, MultipartRejection>) -> Result<Upload, Error> {
    let mut form = form.map_err(|r| {
        Error::UnsupportedMediaType(format!(
            "send the sound as multipart/form-data with a file part: {}",
            r.body_text()
        ))
    })?;
    let mut upload = Upload { name: None, file_name: None, bytes: Default::default() };
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        match field.name() {
            Some("file") => {
                upload.file_name = field.file_name().map(str::to_string);
                upload.bytes = field.bytes().await.map_err(bad_form)?;
            }
            Some("name") => upload.name = Some(field.text().await.map_err(bad_form)?),
            _ => {}
        }
    }
    Ok(upload)
}

/// The form's body limit: room for a full-size sound and its part headers.
pub(crate) fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(sounds::MAX_BYTES + 64 * 1024)
}

/// 201 with the sound.
async fn upload(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<impl IntoResponse> {
    let upload = read_upload(form).await?;
    Ok((StatusCode::CREATED, Json(sounds::create(&s.svc, &t, upload, &meta).await?)))
}

async fn list(
    State(s): State<AppState>,
    Authed(t): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(sounds::list(&s.svc, &t, q.page()).await?))
}

async fn get_one(State(s): State<AppState>, Authed(t): Authed, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(Json(sounds::get(&s.svc, &t, &id).await?))
}

#[derive(Debug, Default, Deserialize)]
struct Force {
    #[serde(default)]
    force: bool,
}

/// 204; 409 with the rules in `details` while an active rule plays it, unless `?force=true`.
async fn remove(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<Force>,
) -> ApiResult<impl IntoResponse> {
    sounds::delete(&s.svc, &t, &id, q.force, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The bytes, with `ETag`, a year of `Cache-Control`, and one byte range when asked (`Range`,
/// answered 206, or 416 when it lies outside the file). HEAD answers the headers alone.
async fn serve(
    State(s): State<AppState>,
    method: Method,
    Path((project, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let sound = match sounds::for_serving(&s.svc, &project, &file).await {
        Ok(sound) => sound,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let etag = format!("\"{}\"", sound.sha256);
    let mut res = Response::builder()
        .header(header::CONTENT_TYPE, &sound.content_type)
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    let matches = |v: &str| v.split(',').any(|t| t.trim() == etag || t.trim() == "*");
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(matches) {
        return res.status(StatusCode::NOT_MODIFIED).body(Body::empty()).unwrap_or_default();
    }
    let size = sound.size_bytes as u64;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(r) => match http_range_header::parse_range_header(r).and_then(|p| p.validate(size)) {
            // One range is served; a client asking for several gets the first.
            Ok(ranges) => ranges.into_iter().next(),
            Err(_) => {
                return res
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                    .body(Body::empty())
                    .unwrap_or_default()
            }
        },
    };
    let (status, wanted) = match &range {
        Some(r) => {
            res = res.header(header::CONTENT_RANGE, format!("bytes {}-{}/{size}", r.start(), r.end()));
            (StatusCode::PARTIAL_CONTENT, Some(*r.start()..*r.end() + 1))
        }
        None => (StatusCode::OK, None),
    };
    let length = wanted.as_ref().map_or(size, |w| w.end - w.start);
    res = res.status(status).header(header::CONTENT_LENGTH, HeaderValue::from(length));
    if method == Method::HEAD {
        return res.body(Body::empty()).unwrap_or_default();
    }
    match s.svc.sounds.get(sound.storage_key(), wanted).await {
        Ok(bytes) => res.body(Body::from(bytes)).unwrap_or_default(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
