//! The platform's own REST routes for realtime: channel auth for end users
//! (`POST /api/v1/realtime/auth`) and a project's credentials for the official server libraries
//! (`/api/v1/projects/me/realtime`). Errors answer the contract's JSON envelope.

use std::net::SocketAddr;

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Form, Json};
use domain::realtime::{self, ChannelAuth, ChannelAuthRequest, Credentials, SettingsPatch};
use domain::Error;
use serde::Serialize;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, Authed, Meta};
use crate::http::AppState;

/// pusher-js posts a form; other clients may post JSON.
pub async fn authorize(State(s): State<AppState>, Authed(t): Authed, req: Request) -> ApiResult<Json<ChannelAuth>> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let input: ChannelAuthRequest = if content_type.starts_with("application/json") {
        ApiJson::<ChannelAuthRequest>::from_request(req, &s).await?.0
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        Form::<ChannelAuthRequest>::from_request(req, &s)
            .await
            .map_err(|e| Error::BadRequest(format!("bad form body: {}", e.body_text())))?
            .0
    } else {
        return Err(ApiError::Http {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: "send socket_id and channel_name as a form or as JSON".into(),
        });
    };
    Ok(Json(realtime::authorize_channel(&s.svc, &t, input).await?))
}

/// The credentials and where the official server libraries reach this server.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsView {
    #[serde(flatten)]
    credentials: Credentials,
    host: String,
    port: u16,
}

/// The host and port clients used to reach us (the Host header), else the listen address.
fn host_port(headers: &HeaderMap, fallback: SocketAddr) -> (String, u16) {
    let https = headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let authority = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.parse::<axum::http::uri::Authority>().ok());
    match authority {
        Some(a) => {
            let port = a.port_u16().unwrap_or(if https { 443 } else { 80 });
            (a.host().trim_start_matches('[').trim_end_matches(']').to_string(), port)
        }
        None => (fallback.ip().to_string(), fallback.port()),
    }
}

fn view(s: &AppState, headers: &HeaderMap, credentials: Credentials) -> Json<CredentialsView> {
    let (host, port) = host_port(headers, s.leptos_options.site_addr);
    Json(CredentialsView { credentials, host, port })
}

pub async fn credentials(
    State(s): State<AppState>,
    Authed(t): Authed,
    headers: HeaderMap,
) -> ApiResult<Json<CredentialsView>> {
    Ok(view(&s, &headers, realtime::credentials(&s.svc, &t).await?))
}

/// `{clientEvents}`: whether sockets may send `client-*` events (off by default).
pub async fn update(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<SettingsPatch>,
) -> ApiResult<Json<CredentialsView>> {
    let credentials = realtime::update(&s.svc, &t, patch, &meta).await?;
    s.hub.apps.forget(t.project_id());
    Ok(view(&s, &headers, credentials))
}

/// A new secret; app id and key stay.
pub async fn rotate(
    State(s): State<AppState>,
    Authed(t): Authed,
    Meta(meta): Meta,
    headers: HeaderMap,
) -> ApiResult<Json<CredentialsView>> {
    let credentials = realtime::rotate_secret(&s.svc, &t, &meta).await?;
    s.hub.apps.forget(t.project_id());
    Ok(view(&s, &headers, credentials))
}
