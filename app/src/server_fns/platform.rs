//! The platform panel's server functions: platform admins sign in and out, and read the projects.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in platform admin.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AdminView {
    pub email: String,
    pub role: String,
}

/// What the project list shows of a project.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSummary {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub status: String,
    pub plan: String,
    pub created_at: String,
}

#[server(prefix = "/_panel")]
pub async fn platform_sign_in(email: String, password: String, next: Option<String>) -> Result<(), ServerFnError> {
    use super::ssr;
    use domain::auth::login;
    let svc = ssr::services()?;
    let client = ssr::client_ip(&svc)?;
    let session =
        login::platform(&svc, login::PlatformLogin { email, password }, client).await.map_err(ssr::user_error)?;
    ssr::set_session_cookie(super::ADMIN_COOKIE, Some(&session.token))?;
    leptos_axum::redirect(&ssr::local_path(next, "/platform/projects"));
    Ok(())
}

#[server(prefix = "/_panel")]
pub async fn platform_sign_out() -> Result<(), ServerFnError> {
    super::ssr::set_session_cookie(super::ADMIN_COOKIE, None)?;
    leptos_axum::redirect("/platform/login");
    Ok(())
}

/// The signed-in platform admin, or `None`.
#[server(prefix = "/_panel")]
pub async fn platform_session() -> Result<Option<AdminView>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let Ok(by) = ssr::platform_admin(&svc).await else { return Ok(None) };
    let admin = domain::platform_admins::find_active(&svc, by.admin_id()).await.map_err(ssr::user_error)?;
    Ok(admin.map(|a| AdminView { email: a.email, role: by.role().as_str().to_string() }))
}

#[server(prefix = "/_panel")]
pub async fn list_projects() -> Result<Vec<ProjectSummary>, ServerFnError> {
    use super::ssr;
    use domain::projects::platform::{self, ListFilter};
    let svc = ssr::services()?;
    let admin = ssr::platform_admin(&svc).await?;
    let page = platform::list(&svc, &admin, ListFilter::default(), domain::page::PageRequest::new(Some(200), None))
        .await
        .map_err(ssr::user_error)?;
    ssr::view_of(page.data)
}

/// The platform's figures, as `GET /api/v1/platform/metrics` answers them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricsView {
    pub projects: ProjectCountsView,
    pub events: EventCountsView,
    pub users: i64,
    pub platform_admins: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ProjectCountsView {
    pub total: i64,
    pub active: i64,
    pub suspended: i64,
    pub trial: i64,
    pub cancelled: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventCountsView {
    pub total: i64,
    pub last_24h: i64,
    pub accepted: i64,
    pub processed: i64,
    pub failed: i64,
}

#[server(prefix = "/_panel")]
pub async fn platform_metrics() -> Result<MetricsView, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let admin = ssr::platform_admin(&svc).await?;
    ssr::view_of(domain::projects::platform::metrics(&svc, &admin).await.map_err(ssr::user_error)?)
}
