//! Server-side helpers of the server functions: the services, the signed-in session from its
//! cookie, the request's audit metadata, the session cookie itself, and errors safe to show
//! (never storage details: docs/PANELS.md "Sessions").

use std::net::SocketAddr;
use std::sync::Arc;

use domain::audit::RequestMeta;
use domain::auth::{self, PlatformAdminCtx, Principal, Tenant};
use domain::Services;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Problem;

pub fn services() -> Result<Arc<Services>, ServerFnError> {
    use_context::<Arc<Services>>().ok_or_else(|| internal("the services are not in the context"))
}

/// The request being answered.
pub fn parts() -> Result<http::request::Parts, ServerFnError> {
    use_context::<http::request::Parts>().ok_or_else(|| internal("no request in the context"))
}

/// The request's `Host` (with its port), empty when it sent none.
pub fn host(parts: &http::request::Parts) -> &str {
    parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default()
}

/// Whether the request came over HTTPS, directly or through a proxy that says so.
pub fn https(parts: &http::request::Parts) -> bool {
    parts.uri.scheme_str() == Some("https")
        || parts.headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// The value of cookie `name` on the request.
pub fn cookie(parts: &http::request::Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .find(|v| !v.is_empty())
        .map(str::to_string)
}

/// The signed-in project admin's tenant. A `user` token, an expired one, or one whose holder was
/// disabled or demoted since, gets [`super::SIGN_IN_FIRST`].
pub async fn tenant(svc: &Services) -> Result<Tenant, ServerFnError> {
    tenant_of(svc, &parts()?).await
}

/// [`tenant`] of a request outside a server function (the panel's upload form).
pub async fn tenant_of(svc: &Services, parts: &http::request::Parts) -> Result<Tenant, ServerFnError> {
    let token = cookie(parts, super::SESSION_COOKIE).ok_or_else(sign_in_first)?;
    match auth::bearer(svc, &token).await {
        Ok(Principal::Tenant(t)) if t.require_admin().is_ok() => Ok(t),
        Ok(_) | Err(domain::Error::Unauthenticated(_)) => Err(sign_in_first()),
        Err(e) => Err(user_error(e)),
    }
}

/// The signed-in platform admin.
pub async fn platform_admin(svc: &Services) -> Result<PlatformAdminCtx, ServerFnError> {
    let token = cookie(&parts()?, super::ADMIN_COOKIE).ok_or_else(sign_in_first)?;
    match auth::bearer(svc, &token).await {
        Ok(Principal::PlatformAdmin(a)) => Ok(a),
        Ok(_) | Err(domain::Error::Unauthenticated(_)) => Err(sign_in_first()),
        Err(e) => Err(user_error(e)),
    }
}

/// Who asked and from where, for the audit log (the same as the REST API records).
pub fn meta(svc: &Services) -> Result<RequestMeta, ServerFnError> {
    Ok(meta_of(svc, &parts()?))
}

/// [`meta`] of a request outside a server function.
pub fn meta_of(svc: &Services, parts: &http::request::Parts) -> RequestMeta {
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    auth::client_addr::request_meta(peer, &parts.headers, &svc.settings.auth)
}

/// The client's address, for the sign-in and sign-up throttles.
pub fn client_ip(svc: &Services) -> Result<Option<std::net::IpAddr>, ServerFnError> {
    Ok(meta(svc)?.ip.and_then(|ip| ip.parse().ok()))
}

/// Sets (or with `None`, clears) a session cookie: HttpOnly, SameSite=Lax, and Secure when the
/// request came over HTTPS (directly, or through a proxy that says so).
pub fn set_session_cookie(name: &str, token: Option<&str>) -> Result<(), ServerFnError> {
    let https = https(&parts()?);
    let cookie = match token {
        Some(t) => format!("{name}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}", auth::token::TOKEN_TTL_SECS),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    } + if https { "; Secure" } else { "" };
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, http::HeaderValue::from_str(&cookie).map_err(internal)?);
    Ok(())
}

/// A page-local path to go back to after signing in; anything else (another site) is `/`.
pub fn local_path(next: Option<String>, default: &str) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| default.to_string())
}

/// The panel's view of a domain value: read off the value's JSON, which is the REST API's shape.
pub fn view_of<T: DeserializeOwned>(value: impl Serialize) -> Result<T, ServerFnError> {
    serde_json::to_value(value).and_then(serde_json::from_value).map_err(internal)
}

/// A domain input built from the fields a form sent, as the REST API would parse its JSON.
pub fn input_of<T: DeserializeOwned>(json: serde_json::Value) -> Result<T, ServerFnError> {
    serde_json::from_value(json).map_err(|e| problem(Problem { message: e.to_string(), ..Default::default() }))
}

/// A domain error as the browser may see it: its message and, for a form, each field's.
pub fn user_error(e: domain::Error) -> ServerFnError {
    if let domain::Error::Internal(detail) = &e {
        tracing::error!(error = %detail, "panel request failed");
    }
    // The API's status for the error (a refused form is a 400, not a failure of the server).
    if let (Some(response), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(e.status()))
    {
        response.set_status(status);
    }
    let object = e.error_object();
    let fields = object["details"]["fields"]
        .as_object()
        .map(|f| f.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("is not valid").to_string())).collect())
        .unwrap_or_default();
    let message = match &e {
        domain::Error::Validation(_) => "Please correct the fields marked below.".to_string(),
        _ => capitalise(object["message"].as_str().unwrap_or("failed")),
    };
    problem(Problem { message, fields })
}

/// No one is signed in. It sets no status: pages ask this of every request (the sign-in page too),
/// and their frame answers with the redirect to sign-in.
pub fn sign_in_first() -> ServerFnError {
    problem(Problem { message: super::SIGN_IN_FIRST.into(), ..Default::default() })
}

pub fn internal(e: impl std::fmt::Display) -> ServerFnError {
    tracing::error!(error = %e, "panel request failed");
    problem(Problem { message: "Something went wrong on our side.".into(), ..Default::default() })
}

fn problem(p: Problem) -> ServerFnError {
    ServerFnError::ServerError(serde_json::to_string(&p).unwrap_or(p.message))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect::<String>() + if s.ends_with('.') { "" } else { "." },
        None => String::new(),
    }
}
