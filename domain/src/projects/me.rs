//! A project as its own admins see and configure it (`/api/v1/projects/me`).

use serde::Deserialize;

use super::pusher::{self, PusherConfigInput};
use super::Project;
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::Tenant;
use crate::error::{Result, Validator};
use crate::patch::{self, nullable};
use crate::services::Services;
use crate::validate;

/// The settings a project's admins may change: the name and the branding.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsPatch {
    #[serde(default)]
    pub name: Option<String>,
    /// The name the white-labelled panel shows (`settings.displayName`); `null` shows `name`.
    #[serde(default, deserialize_with = "nullable")]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub logo_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub brand_color: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub custom_domain: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub billing_email: Option<Option<String>>,
    /// Seconds a connected recipient has to acknowledge before the mobile push goes out; kept in
    /// `settings.ackTimeoutSeconds`, `null` restores the default.
    #[serde(default, deserialize_with = "nullable")]
    pub ack_timeout_seconds: Option<Option<i64>>,
    /// Web origins (`https://app.example.com`) whose pages may call the API from a browser
    /// (CORS); kept in `settings.allowedOrigins`, `null` removes them all.
    #[serde(default, deserialize_with = "nullable")]
    pub allowed_origins: Option<Option<Vec<String>>>,
    /// The project's own Pusher app (`null` removes it); stored apart from the project row, see
    /// [`super::pusher`].
    #[serde(default, deserialize_with = "nullable")]
    pub pusher_config: Option<Option<PusherConfigInput>>,
    /// Past the monthly event quota on a paid plan: `reject` or `bill` (docs/PLANS.md).
    #[serde(default)]
    pub overage: Option<String>,
}

impl SettingsPatch {
    /// Checks every field, then applies them all or none.
    pub(crate) fn apply(self, p: &mut Project) -> Result<()> {
        let mut v = Validator::new();
        if let Some(name) = &self.name {
            v.check(validate::name(name, 255), "name", "must be 1 to 255 characters");
        }
        if let Some(Some(d)) = &self.display_name {
            v.check(validate::name(d, 100), "displayName", "must be 1 to 100 characters");
        }
        if let Some(Some(url)) = &self.logo_url {
            v.check(validate::http_url(url), "logoUrl", "must be an http(s) URL of at most 500 characters");
        }
        if let Some(Some(c)) = &self.brand_color {
            v.check(validate::hex_color(c), "brandColor", "must be a #rrggbb colour");
        }
        if let Some(Some(d)) = &self.custom_domain {
            v.check(valid_domain(d), "customDomain", "must be a host name such as admin.example.com");
        }
        if let Some(Some(e)) = &self.billing_email {
            v.check(validate::email(e), "billingEmail", "must be an email address");
        }
        if let Some(Some(s)) = self.ack_timeout_seconds {
            v.check((0..=86_400).contains(&s), "ackTimeoutSeconds", "must be 0 to 86400 seconds");
        }
        if let Some(Some(origins)) = &self.allowed_origins {
            v.check(
                origins.len() <= 20 && origins.iter().all(|o| valid_origin(o)),
                "allowedOrigins",
                "must be at most 20 origins such as https://app.example.com (scheme, host and port only)",
            );
        }
        if let Some(o) = &self.overage {
            v.check(super::OVERAGE_POLICIES.contains(&o.as_str()), "overage", "must be reject or bill");
        }
        v.finish()?;
        // Only a new domain needs the plan's feature: saving the rest of the branding with the
        // domain already set (or after a downgrade) is not refused.
        if let Some(Some(d)) = &self.custom_domain {
            if p.custom_domain.as_deref() != Some(d.to_lowercase().as_str()) {
                crate::usage::quota::Feature::CustomDomain.require_in(&p.plan)?;
            }
        }
        if let Some(o) = self.overage {
            p.overage = o;
        }
        if let Some(name) = self.name {
            p.name = name.trim().to_string();
        }
        p.logo_url = patch::apply(p.logo_url.take(), self.logo_url);
        p.brand_color = patch::apply(p.brand_color.take(), self.brand_color.map(|c| c.map(|c| c.to_lowercase())));
        p.custom_domain = patch::apply(p.custom_domain.take(), self.custom_domain.map(|d| d.map(|d| d.to_lowercase())));
        p.billing_email = patch::apply(p.billing_email.take(), self.billing_email);
        if let Some(origins) = self.allowed_origins {
            let origins = origins
                .map(|o| o.iter().map(|o| o.trim_end_matches('/').to_ascii_lowercase()).collect::<Vec<_>>().into());
            set_setting(p, "allowedOrigins", origins);
        }
        if let Some(timeout) = self.ack_timeout_seconds {
            set_setting(p, "ackTimeoutSeconds", timeout.map(Into::into));
        }
        if let Some(display_name) = self.display_name {
            set_setting(p, "displayName", display_name.map(|d| d.trim().to_string().into()));
        }
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        changed_fields(self).is_empty()
    }
}

/// Sets (`Some`) or removes (`None`) one key of the project's `settings` object.
fn set_setting(p: &mut Project, key: &str, value: Option<serde_json::Value>) {
    if !p.settings.is_object() {
        p.settings = serde_json::json!({});
    }
    let settings = p.settings.as_object_mut().expect("an object");
    match value {
        Some(v) => settings.insert(key.into(), v),
        None => settings.remove(key),
    };
}

/// `https://app.example.com` or `http://localhost:3000`: a scheme, a host and maybe a port.
fn valid_origin(o: &str) -> bool {
    let o = o.trim_end_matches('/');
    let Ok(u) = url::Url::parse(o) else { return false };
    matches!(u.scheme(), "http" | "https")
        && u.host_str().is_some()
        && u.path() == "/"
        && u.query().is_none()
        && u.username().is_empty()
        && o.len() <= 255
        && !o.ends_with(':')
}

/// Every origin any active project allows (see [`SettingsPatch::allowed_origins`]), for the CORS
/// check of a browser's preflight, which carries no credentials to name the project by.
pub async fn all_allowed_origins(svc: &Services) -> Result<std::collections::HashSet<String>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT settings FROM projects WHERE status NOT IN ('suspended', 'cancelled') AND settings LIKE '%allowedOrigins%'",
    )
    .fetch_all(svc.db.pool())
    .await?;
    Ok(rows
        .iter()
        .filter_map(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        .filter_map(|v| v.get("allowedOrigins").and_then(|o| o.as_array()).cloned())
        .flatten()
        .filter_map(|o| o.as_str().map(str::to_string))
        .collect())
}

fn valid_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
        })
}

pub async fn get(svc: &Services, t: &Tenant) -> Result<Project> {
    let mut project = super::load(svc, t.project_id()).await?;
    project.pusher_config = Some(pusher::view(svc, t.project_id()).await?);
    project.current_usage = Some(crate::usage::current(svc, t.project_id()).await?);
    Ok(project)
}

pub async fn update(svc: &Services, t: &Tenant, mut patch: SettingsPatch, meta: &RequestMeta) -> Result<Project> {
    t.require_admin()?;
    let mut project = super::load(svc, t.project_id()).await?;
    if patch.is_empty() {
        return get(svc, t).await;
    }
    let changed = changed_fields(&patch);
    // Checked first (its host against the SSRF guard, which needs the settings), so a bad
    // pusherConfig changes nothing.
    let pusher_config = patch.pusher_config.take();
    if let Some(Some(c)) = &pusher_config {
        pusher::validate(c, svc.settings.webhook_allow_private_targets)?;
    }
    patch.apply(&mut project)?;
    super::store(svc, &project, &[super::Columns::Settings]).await?;
    if let Some(c) = pusher_config {
        pusher::save(svc, t.project_id(), c).await?;
    }
    audit::record(
        svc,
        AuditEntry::tenant(t, "project.update", "project", Some(t.project_id()), meta)
            .with_metadata(serde_json::json!({ "fields": changed })),
    )
    .await?;
    get(svc, t).await
}

fn changed_fields(p: &SettingsPatch) -> Vec<&'static str> {
    let mut f = vec![];
    if p.name.is_some() {
        f.push("name")
    }
    if p.display_name.is_some() {
        f.push("displayName")
    }
    if p.logo_url.is_some() {
        f.push("logoUrl")
    }
    if p.brand_color.is_some() {
        f.push("brandColor")
    }
    if p.custom_domain.is_some() {
        f.push("customDomain")
    }
    if p.billing_email.is_some() {
        f.push("billingEmail")
    }
    if p.ack_timeout_seconds.is_some() {
        f.push("ackTimeoutSeconds")
    }
    if p.allowed_origins.is_some() {
        f.push("allowedOrigins")
    }
    if p.pusher_config.is_some() {
        f.push("pusherConfig")
    }
    if p.overage.is_some() {
        f.push("overage")
    }
    f
}
