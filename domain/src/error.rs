//! The one error type of the domain. The HTTP layer maps each variant to the contract's envelope.

use std::collections::BTreeMap;

/// What went wrong, in terms a client can act on. Storage details never leave the process:
/// `Internal` carries them for the log only.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A conflict whose `details` tell the client what stands in the way (e.g. how many users
    /// still hold a role).
    #[error("{message}")]
    ConflictWith { message: String, details: serde_json::Value },
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body is not of a kind the endpoint takes (a sound that does not decode as audio).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// A key past its plan's request rate (docs/PLANS.md): `limit` requests a second.
    #[error("rate limited")]
    KeyRateLimited { limit: u32, retry_after_secs: u64 },
    /// A quota is used up: 429 for the monthly volume (with `Retry-After` to the reset), 403 for
    /// count limits. `details` names the quota, its limit and the use.
    #[error("{message}")]
    QuotaExceeded { status: u16, message: String, details: serde_json::Value, retry_after_secs: Option<u64> },
    /// The project's plan does not include `feature`.
    #[error("this needs a plan that includes {feature}")]
    PlanUpgradeRequired { feature: &'static str },
    /// Billing is not configured on this platform (no Stripe keys).
    #[error("billing is not configured on this platform")]
    BillingUnavailable,
    /// An outside service (Stripe) failed to answer as expected.
    #[error("{0}")]
    Upstream(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Field name → what is wrong with it; the `details` of a `validation_failed` error.
pub type FieldErrors = BTreeMap<String, String>;

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A `validation_failed` error naming one field.
    pub fn field(name: &str, problem: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(name.to_string(), problem.into());
        Error::Validation(fields)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }

    /// The seconds a client should wait before trying again, where waiting helps.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after_secs } | Error::KeyRateLimited { retry_after_secs, .. } => {
                Some(*retry_after_secs)
            }
            Error::QuotaExceeded { retry_after_secs, .. } => *retry_after_secs,
            _ => None,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound,
            other => Error::Internal(format!("database: {other}")),
        }
    }
}

impl From<redis::RedisError> for Error {
    fn from(e: redis::RedisError) -> Self {
        Error::Internal(format!("redis: {e}"))
    }
}

/// Turns a unique-constraint violation into a client-facing error instead of checking first (which
/// races with concurrent writers).
pub trait OnConstraint<T> {
    fn on_unique(self, make: impl FnOnce() -> Error) -> Result<T>;
}

impl<T> OnConstraint<T> for std::result::Result<T, sqlx::Error> {
    fn on_unique(self, make: impl FnOnce() -> Error) -> Result<T> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => make(),
            _ => e.into(),
        })
    }
}

/// Collects field errors while validating a request, then fails once with all of them.
#[derive(Default)]
pub struct Validator(FieldErrors);

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn check(&mut self, ok: bool, field: &str, problem: &str) -> &mut Self {
        if !ok && !self.0.contains_key(field) {
            self.0.insert(field.to_string(), problem.to_string());
        }
        self
    }
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }
}

impl Error {
    /// The contract's snake_case error code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation(_) | Error::BadRequest(_) => "validation_failed",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound => "not_found",
            Error::Conflict(_) | Error::ConflictWith { .. } => "conflict",
            Error::PayloadTooLarge => "payload_too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::RateLimited { .. } | Error::KeyRateLimited { .. } => "rate_limited",
            Error::QuotaExceeded { .. } => "quota_exceeded",
            Error::PlanUpgradeRequired { .. } => "plan_upgrade_required",
            Error::BillingUnavailable => "billing_unavailable",
            Error::Upstream(_) => "upstream_failed",
            Error::Internal(_) => "internal_error",
        }
    }

    /// The HTTP status the contract gives this error.
    pub fn status(&self) -> u16 {
        match self {
            Error::Validation(_) | Error::BadRequest(_) => 400,
            Error::Unauthenticated(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound => 404,
            Error::Conflict(_) | Error::ConflictWith { .. } => 409,
            Error::PayloadTooLarge => 413,
            Error::UnsupportedMediaType(_) => 415,
            Error::RateLimited { .. } | Error::KeyRateLimited { .. } => 429,
            Error::QuotaExceeded { status, .. } => *status,
            Error::PlanUpgradeRequired { .. } => 403,
            Error::BillingUnavailable => 503,
            Error::Upstream(_) => 502,
            Error::Internal(_) => 500,
        }
    }

    /// `{code, message, details}`: the inside of the contract's error envelope. An internal error
    /// says nothing of its cause.
    pub fn error_object(&self) -> serde_json::Value {
        let (message, details) = match self {
            Error::Validation(fields) => {
                ("the request is not valid".to_string(), serde_json::json!({ "fields": fields }))
            }
            Error::Unauthenticated(m) => (m.to_string(), serde_json::json!({})),
            Error::Forbidden(m) => (m.to_string(), serde_json::json!({})),
            Error::NotFound => ("no such resource".to_string(), serde_json::json!({})),
            Error::RateLimited { retry_after_secs } => {
                ("too many requests".to_string(), serde_json::json!({ "retryAfterSeconds": retry_after_secs }))
            }
            Error::KeyRateLimited { limit, retry_after_secs } => (
                format!("this key may make {limit} requests a second"),
                serde_json::json!({ "limit": limit, "retryAfterSeconds": retry_after_secs }),
            ),
            Error::QuotaExceeded { message, details, .. } => (message.clone(), details.clone()),
            Error::PlanUpgradeRequired { feature } => (self.to_string(), serde_json::json!({ "feature": feature })),
            Error::Internal(_) => ("something went wrong on our side".to_string(), serde_json::json!({})),
            Error::ConflictWith { message, details } => (message.clone(), details.clone()),
            other => (other.to_string(), serde_json::json!({})),
        };
        serde_json::json!({ "code": self.code(), "message": message, "details": details })
    }
}
