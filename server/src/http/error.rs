//! Every answer under `/api/` that is not a success: the contract's JSON envelope, also for axum's
//! own rejections (bad JSON, wrong content type, unknown route, wrong method). A database error
//! becomes an opaque 500, its detail logged once here.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::Error;

pub enum ApiError {
    Domain(Error),
    /// An HTTP-level failure with no domain meaning.
    Http {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Domain(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Domain(e) => {
                if let Error::Internal(detail) = &e {
                    tracing::error!(error = %detail, "request failed");
                }
                let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut res = (status, Json(serde_json::json!({ "error": e.error_object() }))).into_response();
                if let Some(secs) = e.retry_after() {
                    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                if let Error::KeyRateLimited { limit, retry_after_secs } = e {
                    let h = res.headers_mut();
                    h.insert("ratelimit-limit", HeaderValue::from(limit));
                    h.insert("ratelimit-remaining", HeaderValue::from(0));
                    h.insert("ratelimit-reset", HeaderValue::from(retry_after_secs));
                }
                res
            }
            ApiError::Http { status, code, message } => envelope(status, code, &message),
        }
    }
}

pub fn envelope(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": { "code": code, "message": message, "details": {} } }))).into_response()
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::Http {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                message: "send the body as application/json".into(),
            },
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::Domain(Error::PayloadTooLarge)
            }
            other => ApiError::Domain(Error::BadRequest(format!("the body is not valid JSON: {}", other.body_text()))),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::Domain(Error::BadRequest(format!("bad query string: {}", r.body_text())))
    }
}

/// Unknown routes under `/api/`.
pub async fn not_found() -> Response {
    envelope(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// A known route called with a method it does not take.
pub async fn method_not_allowed() -> Response {
    envelope(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
}
