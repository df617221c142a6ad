//! The project's settings page: name, branding (display name, logo, colour), custom domain, and
//! the realtime credentials its apps connect with.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SettingsView {
    pub name: String,
    pub slug: String,
    pub plan: String,
    pub display_name: Option<String>,
    pub logo_url: Option<String>,
    pub brand_color: Option<String>,
    pub custom_domain: Option<String>,
    /// The host the custom domain's CNAME points at: this platform's own.
    pub cname_target: String,
    /// Whether the custom domain answers for this project now.
    pub domain_active: bool,
}

#[server(prefix = "/_panel")]
pub async fn get_settings() -> Result<SettingsView, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let p = domain::projects::me::get(&svc, &t).await.map_err(ssr::user_error)?;
    let domain_active = match &p.custom_domain {
        Some(d) => domain::projects::domains::check(&svc, d).await.is_ok(),
        None => false,
    };
    let parts = ssr::parts()?;
    let host = ssr::host(&parts);
    let cname_target = host.rsplit_once(':').map_or(host, |(h, _)| h).to_string();
    Ok(SettingsView {
        display_name: p.settings["displayName"].as_str().map(str::to_string),
        name: p.name,
        slug: p.slug,
        plan: p.plan,
        logo_url: p.logo_url,
        brand_color: p.brand_color,
        custom_domain: p.custom_domain,
        cname_target,
        domain_active,
    })
}

/// Saves the form: empty fields clear their value (the name is required).
#[server(prefix = "/_panel")]
pub async fn save_settings(
    name: String,
    display_name: String,
    logo_url: String,
    brand_color: String,
    custom_domain: String,
) -> Result<(), ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let opt = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let patch = serde_json::json!({
        "name": name,
        "displayName": opt(display_name),
        "logoUrl": opt(logo_url),
        "brandColor": opt(brand_color),
        "customDomain": opt(custom_domain),
    });
    let patch = ssr::input_of(patch)?;
    domain::projects::me::update(&svc, &t, patch, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    Ok(())
}
