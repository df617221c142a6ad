//! What wraps every API request: a request id (`X-Request-Id`, taken from the client or made
//! here, and sent back), a tracing span per request (the project's id is recorded on it once the
//! request is authenticated), a time limit answering 503 in the contract's envelope, and CORS for
//! the browser origins projects allow (`settings.allowedOrigins`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use domain::Services;
use tokio::sync::RwLock;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use super::error::envelope;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long the set of allowed origins is reused before it is read again.
const ORIGINS_TTL: Duration = Duration::from_secs(5);

/// Adds the layers to the API's routes (not the admin panel's pages).
pub fn api<S: Clone + Send + Sync + 'static>(router: Router<S>, svc: Arc<Services>) -> Router<S> {
    let timeout = Duration::from_secs(svc.settings.auth.request_timeout_secs);
    router.layer(axum::middleware::from_fn_with_state(timeout, time_limit)).layer(cors(svc))
}

/// The panels' server functions answer only requests from the panel's own pages: a `POST` under
/// `/_panel/` must carry an `Origin` whose host is the request's `Host` (docs/PANELS.md
/// "Sessions"). With the SameSite=Lax session cookie, a page of another site cannot act as the
/// signed-in admin.
pub fn panel<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(axum::middleware::from_fn(same_origin))
}

async fn same_origin(req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.uri().path().starts_with("/_panel/") {
        return next.run(req).await;
    }
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .and_then(|o| o.split_once("://").map(|(_, rest)| rest.trim_end_matches('/').to_string()));
    match (host, origin_host) {
        (Some(h), Some(o)) if h.eq_ignore_ascii_case(&o) => next.run(req).await,
        _ => envelope(StatusCode::FORBIDDEN, "forbidden", "this request did not come from the panel's own pages"),
    }
}

/// Request ids and the span, around everything (panel pages included).
pub fn traced<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.extensions().get::<RequestId>().and_then(|r| r.header_value().to_str().ok()).unwrap_or("");
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.uri().path(),
                request.id = %id,
                project.id = tracing::field::Empty,
            )
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => envelope(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the request took too long; try again"),
    }
}

/// The origins any active project allows, read at most every [`ORIGINS_TTL`].
struct Origins {
    svc: Arc<Services>,
    cached: RwLock<(Option<Instant>, Arc<HashSet<String>>)>,
}

impl Origins {
    async fn allows(&self, origin: &str) -> bool {
        {
            let c = self.cached.read().await;
            if c.0.is_some_and(|at| at.elapsed() < ORIGINS_TTL) {
                return c.1.contains(origin);
            }
        }
        let mut c = self.cached.write().await;
        if c.0.is_none_or(|at| at.elapsed() >= ORIGINS_TTL) {
            match domain::projects::me::all_allowed_origins(&self.svc).await {
                Ok(set) => *c = (Some(Instant::now()), Arc::new(set)),
                Err(e) => tracing::warn!(error = %e, "could not read the allowed origins"),
            }
        }
        c.1.contains(origin)
    }
}

fn cors(svc: Arc<Services>) -> CorsLayer {
    let origins = Arc::new(Origins { svc, cached: RwLock::new((None, Arc::new(HashSet::new()))) });
    CorsLayer::new()
        .allow_origin(AllowOrigin::async_predicate(move |origin: HeaderValue, _: &axum::http::request::Parts| {
            let origins = origins.clone();
            async move {
                match origin.to_str() {
                    Ok(o) => origins.allows(&o.to_ascii_lowercase()).await,
                    Err(_) => false,
                }
            }
        }))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        // No X-API-Secret: a secret has no business in a browser.
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("x-api-key")])
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(600))
}
