//! The REST API under `/api/v1`, `/healthz`, `/metrics` and the public sound files under `/media`. Handlers are thin: extract, call one
//! domain function, shape the answer.

pub mod error;
pub mod extract;
pub mod layers;
pub mod panel_forms;
pub mod routes;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::get;
use axum::Router;
use domain::Services;
use leptos::config::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;

/// The largest request body the API reads (events included).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub svc: Arc<Services>,
    pub leptos_options: LeptosOptions,
    pub metrics: PrometheusHandle,
    pub hub: Arc<crate::realtime::Hub>,
}

/// `/api/…`, `/healthz` and `/metrics`, with JSON answers for unknown routes and wrong methods.
pub fn api_router() -> Router<AppState> {
    let v1 = Router::new()
        .merge(routes::signup::routes())
        .nest("/platform", routes::platform::routes())
        .nest("/auth", routes::auth::routes())
        .nest("/projects/me", routes::projects_me::routes())
        .nest("/events", routes::events::routes())
        .nest("/billing", routes::billing::stripe_routes())
        .nest("/audit", routes::audit::routes())
        .nest("/analytics", routes::analytics::routes())
        .nest("/users", routes::users::routes())
        .nest("/roles", routes::roles::routes())
        .nest("/rules", routes::rules::routes())
        .nest("/notifications", routes::notifications::routes())
        .nest("/sounds", routes::sounds::routes())
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found);
    Router::new()
        .nest("/api/v1", v1)
        .route("/api", axum::routing::any(error::not_found))
        .route("/api/{*rest}", axum::routing::any(error::not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(routes::sounds::media_routes())
        .route("/healthz", get(routes::health::healthz))
        .route("/metrics", get(routes::health::metrics))
}
