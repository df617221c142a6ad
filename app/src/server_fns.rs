//! Server functions of the admin panel: thin adapters over `domain`, like the REST handlers. The
//! platform admin's session is the same signed token the API uses, kept in an HttpOnly cookie.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The cookie holding a platform admin's session token.
pub const ADMIN_COOKIE: &str = "notify_admin";

/// What the project list shows of a project.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub status: String,
    pub plan: String,
    pub created_at: String,
}

/// A server function error as a person should read it.
pub fn message(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        _ => "The server could not be reached. Try again.".into(),
    }
}

#[server(prefix = "/_panel")]
pub async fn platform_sign_in(email: String, password: String) -> Result<(), ServerFnError> {
    use domain::auth::login;
    let svc = ssr::services()?;
    let session =
        login::platform(&svc, login::PlatformLogin { email, password }, None).await.map_err(ssr::user_error)?;
    // Behind HTTPS (directly, or a proxy saying so) the cookie is never sent over plain HTTP.
    let https = use_context::<http::request::Parts>().is_some_and(|p| {
        p.uri.scheme_str() == Some("https")
            || p.headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
    });
    let cookie = format!(
        "{ADMIN_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        session.token,
        domain::auth::token::TOKEN_TTL_SECS,
        if https { "; Secure" } else { "" }
    );
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.insert_header(http::header::SET_COOKIE, http::HeaderValue::from_str(&cookie).map_err(ssr::internal)?);
    leptos_axum::redirect("/projects");
    Ok(())
}

#[server(prefix = "/_panel")]
pub async fn list_projects() -> Result<Vec<ProjectSummary>, ServerFnError> {
    use domain::projects::platform::{self, ListFilter};
    let svc = ssr::services()?;
    let admin = ssr::platform_admin(&svc).await?;
    let page = platform::list(&svc, &admin, ListFilter::default(), domain::page::PageRequest::new(Some(200), None))
        .await
        .map_err(ssr::user_error)?;
    Ok(page
        .data
        .into_iter()
        .map(|p| ProjectSummary {
            id: p.id,
            name: p.name,
            slug: p.slug,
            status: p.status,
            plan: p.plan,
            created_at: p.created_at.format("%Y-%m-%d %H:%M").to_string(),
        })
        .collect())
}

#[cfg(feature = "ssr")]
mod ssr {
    //! Server-side helpers: the services, the session, and errors safe to show.
    use std::sync::Arc;

    use domain::auth::{self, PlatformAdminCtx, Principal};
    use domain::Services;
    use leptos::prelude::*;

    pub fn services() -> Result<Arc<Services>, ServerFnError> {
        use_context::<Arc<Services>>().ok_or_else(|| fail("the server is not ready"))
    }

    /// The signed-in platform admin, from the session cookie; an error when there is none.
    pub async fn platform_admin(svc: &Services) -> Result<PlatformAdminCtx, ServerFnError> {
        let headers: http::HeaderMap = leptos_axum::extract().await.map_err(internal)?;
        let token = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix(super::ADMIN_COOKIE).and_then(|r| r.strip_prefix('=')))
            .next()
            .ok_or_else(|| fail("Please sign in."))?
            .to_string();
        match auth::bearer(svc, &token).await.map_err(user_error)? {
            Principal::PlatformAdmin(a) => Ok(a),
            Principal::Tenant(_) => Err(fail("Please sign in as a platform admin.")),
        }
    }

    /// A domain error as the browser may see it: never storage details.
    pub fn user_error(e: domain::Error) -> ServerFnError {
        if let domain::Error::Internal(detail) = &e {
            leptos::logging::error!("panel request failed: {detail}");
        }
        let text = e.error_object()["message"].as_str().unwrap_or("failed").to_string();
        fail(text)
    }

    pub fn fail(message: impl Into<String>) -> ServerFnError {
        ServerFnError::ServerError(message.into())
    }

    pub fn internal(e: impl std::fmt::Display) -> ServerFnError {
        leptos::logging::error!("panel request failed: {e}");
        fail("something went wrong on our side")
    }
}
