//! The built-in Pusher Channels server (protocol 7): the WebSocket at `/app/{key}`, channel auth,
//! the Pusher HTTP API for the official server libraries, and the hub that fans messages out,
//! across processes through Redis pub/sub when REDIS_URL is set.

mod api;
mod apps;
mod cluster;
mod http_api;
pub mod hub;
mod presence;
mod protocol;
mod session;
mod socket;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::http::AppState;

pub use hub::{Hub, HubConfig};

/// The socket, the Pusher HTTP API (`/app/{key}`, `/apps/{appId}/…`) and the realtime routes
/// under `/api/v1`.
pub fn routes() -> Router<AppState> {
    let rest = Router::new()
        .route("/api/v1/realtime/auth", post(api::authorize))
        .route("/api/v1/projects/me/realtime", get(api::credentials).put(api::update))
        .route("/api/v1/projects/me/realtime/rotate", post(api::rotate))
        .method_not_allowed_fallback(crate::http::error::method_not_allowed)
        .layer(DefaultBodyLimit::max(16 * 1024));
    let pusher = Router::new()
        .route("/apps/{app_id}/events", post(http_api::trigger))
        .route("/apps/{app_id}/batch_events", post(http_api::trigger_batch))
        .route("/apps/{app_id}/channels", get(http_api::channels))
        .route("/apps/{app_id}/channels/{name}", get(http_api::channel))
        .route("/apps/{app_id}/channels/{name}/users", get(http_api::users))
        // Ten events of 10 KB each, plus their envelopes.
        .layer(DefaultBodyLimit::max(256 * 1024));
    Router::new().route("/app/{key}", get(socket::upgrade)).merge(rest).merge(pusher)
}
