//! Builds the whole application (API, admin panels, static files) and serves it.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Router;
use domain::Services;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::http::{self, AppState};
use crate::realtime::{self, Hub};

/// The process-wide Prometheus recorder (installed once, shared by every app in the process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The full router: REST API, admin panel pages and their server functions, static files.
pub fn app(svc: Arc<Services>, hub: Arc<Hub>, leptos_options: LeptosOptions) -> Router {
    let state = AppState { svc: svc.clone(), leptos_options: leptos_options.clone(), metrics: metrics_handle(), hub };
    let routes = generate_route_list(app::App);
    let panel = Router::<AppState>::new()
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let svc = svc.clone();
                move || leptos::prelude::provide_context(svc.clone())
            },
            {
                let options = leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        .merge(http::panel_forms::routes())
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell));
    let api = http::layers::api(http::api_router().merge(realtime::routes()), svc);
    http::layers::traced(api.merge(http::layers::panel(panel))).with_state(state)
}

/// Serves until the process is stopped.
pub async fn serve(svc: Arc<Services>, hub: Arc<Hub>, leptos_options: LeptosOptions) -> std::io::Result<()> {
    let addr = leptos_options.site_addr;
    let router = app(svc, hub, leptos_options);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(address = %addr, "listening");
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
