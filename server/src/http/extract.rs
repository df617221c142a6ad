//! Extractors: JSON and query strings with the contract's errors, and the authentication that
//! builds a tenant or platform-admin context from a request's credentials.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use domain::audit::RequestMeta;
use domain::auth::client_addr;
use domain::auth::settings::AuthSettings;
use domain::auth::{self, PlatformAdminCtx, Principal, PublicProject, Tenant};
use domain::Error;

use super::error::ApiError;
use super::AppState;

/// `axum::Json` whose rejections answer in the contract's envelope.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` whose rejections answer in the contract's envelope.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `?limit=&cursor=`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(self) -> domain::page::PageRequest {
        domain::page::PageRequest::new(self.limit, self.cursor)
    }
}

/// Where the request came from, for the audit log.
pub struct Meta(pub RequestMeta);

impl<S> FromRequestParts<S> for Meta
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(Meta(client_addr::request_meta(peer, &parts.headers, &app.svc.settings.auth)))
    }
}

/// The client's address: the TCP peer's, or when the peer is a trusted proxy
/// (`TRUSTED_PROXIES`), the address it forwarded.
pub struct ClientAddr(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientAddr
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        Ok(ClientAddr(client_addr(parts, &app.svc.settings.auth)))
    }
}

fn client_addr(parts: &Parts, settings: &AuthSettings) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())?;
    Some(client_addr::resolve(peer, &parts.headers, settings))
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty())
}

fn bearer(parts: &Parts) -> Option<&str> {
    header(parts, header::AUTHORIZATION.as_str())?.strip_prefix("Bearer ").map(str::trim)
}

/// A request authenticated for one project: an API key and secret, or a project admin's or
/// user's token. Handlers then check the permission their operation needs.
pub struct Authed(pub Tenant);

impl<S> FromRequestParts<S> for Authed
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        if let Some(key) = header(parts, "x-api-key") {
            let secret = header(parts, "x-api-secret").ok_or(Error::Unauthenticated("X-API-Secret is missing"))?;
            let tenant = auth::api_key(&app.svc, key, secret, client_addr(parts, &app.svc.settings.auth)).await?;
            tracing::Span::current().record("project.id", tenant.project_id());
            return Ok(Authed(tenant));
        }
        let token =
            bearer(parts).ok_or(Error::Unauthenticated("send X-API-Key and X-API-Secret, or a bearer token"))?;
        match auth::bearer(&app.svc, token).await? {
            Principal::Tenant(t) => {
                tracing::Span::current().record("project.id", t.project_id());
                Ok(Authed(t))
            }
            Principal::PlatformAdmin(_) => {
                Err(Error::Forbidden("a platform admin token cannot act inside a project").into())
            }
        }
    }
}

/// Full credentials ([`Authed`]), or the publishable key alone (`X-API-Key: pk_…` and no
/// secret), which names a project and grants nothing but self-registration. Only the routes that
/// create users take it.
pub enum AuthedOrPublic {
    Authed(Tenant),
    Public(PublicProject),
}

impl<S> FromRequestParts<S> for AuthedOrPublic
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let (Some(key), None) = (header(parts, "x-api-key"), header(parts, "x-api-secret")) {
            let app = AppState::from_ref(state);
            return Ok(AuthedOrPublic::Public(auth::publishable(&app.svc, key).await?));
        }
        Ok(AuthedOrPublic::Authed(Authed::from_request_parts(parts, state).await?.0))
    }
}

/// A platform admin's token.
pub struct PlatformAdmin(pub PlatformAdminCtx);

impl<S> FromRequestParts<S> for PlatformAdmin
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let token = bearer(parts).ok_or(Error::Unauthenticated("a platform admin's bearer token is required"))?;
        match auth::bearer(&app.svc, token).await? {
            Principal::PlatformAdmin(a) => Ok(PlatformAdmin(a)),
            Principal::Tenant(_) => Err(Error::Forbidden("this route is for platform admins").into()),
        }
    }
}
