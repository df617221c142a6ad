//! Who is signed in, which brand the request's host asks for, and signing in and out of the
//! client panel (docs/PANELS.md "Sessions" and "White-labelling").

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A project's branding as the panel applies it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Brand {
    pub slug: String,
    pub display_name: String,
    pub logo_url: Option<String>,
    /// `#rrggbb`, and the text colour readable on it.
    pub color: Option<String>,
    pub contrast: Option<String>,
}

/// The signed-in project admin and their project.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Session {
    pub email: String,
    pub project_name: String,
    pub project_slug: String,
    pub plan: String,
    /// The project's own branding, shown on the platform's host too once signed in.
    pub brand: Brand,
}

/// What every page of the client panel starts from.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PanelContext {
    /// Set when the request's host is a project's custom domain.
    pub host_brand: Option<Brand>,
    pub session: Option<Session>,
}

impl PanelContext {
    /// The brand to draw: the host's, else the signed-in project's, else the platform's own.
    pub fn brand(&self) -> Option<&Brand> {
        self.host_brand.as_ref().or(self.session.as_ref().map(|s| &s.brand))
    }
}

#[server(prefix = "/_panel")]
pub async fn load_panel_context() -> Result<PanelContext, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let parts = ssr::parts()?;
    let host_brand =
        domain::projects::domains::branding_for_host(&svc, ssr::host(&parts)).await.map_err(ssr::user_error)?;
    let host_brand = host_brand.map(|b| brand(b.slug, b.display_name, b.logo_url, b.brand_color));
    let session = match ssr::tenant(&svc).await {
        Ok(t) => {
            let p = domain::projects::me::get(&svc, &t).await.map_err(ssr::user_error)?;
            let me = domain::users::get(&svc, &t, t.user_id().unwrap_or_default()).await.map_err(ssr::user_error)?;
            let display = p.settings["displayName"].as_str().unwrap_or(&p.name).to_string();
            Some(Session {
                email: me.email.unwrap_or_default(),
                project_name: p.name.clone(),
                project_slug: p.slug.clone(),
                plan: p.plan.clone(),
                brand: brand(p.slug, display, p.logo_url, p.brand_color),
            })
        }
        Err(_) => None,
    };
    // A session of another project than the custom domain's is not this panel's.
    let session = session.filter(|s| host_brand.as_ref().is_none_or(|b| b.slug == s.project_slug));
    Ok(PanelContext { host_brand, session })
}

#[cfg(feature = "ssr")]
fn brand(slug: String, display_name: String, logo_url: Option<String>, color: Option<String>) -> Brand {
    let contrast = color.as_deref().and_then(crate::components::color::readable_on).map(str::to_string);
    Brand { slug, display_name, logo_url, color, contrast }
}

/// Signs a project admin in. On a custom domain the project is the domain's and `project` is
/// not asked for; elsewhere it is the project's slug.
#[server(prefix = "/_panel")]
pub async fn client_sign_in(
    project: Option<String>,
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    use super::ssr;
    use domain::auth::login;
    let svc = ssr::services()?;
    let parts = ssr::parts()?;
    let project =
        match domain::projects::domains::branding_for_host(&svc, ssr::host(&parts)).await.map_err(ssr::user_error)? {
            Some(b) => b.slug,
            None => project.unwrap_or_default(),
        };
    let client = ssr::client_ip(&svc)?;
    let session = login::project(&svc, login::ProjectLogin { project, email, password }, client)
        .await
        .map_err(ssr::user_error)?;
    if !session.user.is_admin() {
        return Err(ssr::user_error(domain::Error::Forbidden("this panel is for the project's admins")));
    }
    ssr::set_session_cookie(super::SESSION_COOKIE, Some(&session.token))?;
    leptos_axum::redirect(&ssr::local_path(next, "/"));
    Ok(())
}

#[server(prefix = "/_panel")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    super::ssr::set_session_cookie(super::SESSION_COOKIE, None)?;
    leptos_axum::redirect("/login");
    Ok(())
}
