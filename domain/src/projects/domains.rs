//! Custom domains (docs/API.md "Sign-up and custom domains"): which project's white-labelled panel
//! a request's `Host` asks for, and the `ask` hook a TLS proxy calls before it issues a
//! certificate on demand (docs/RUNNING.md "Custom domains").

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::services::Services;

/// What the panel shows of a project on its own domain; everything here is public (the sign-in
/// page shows it to anyone who visits the domain).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    pub project_id: String,
    pub slug: String,
    pub display_name: String,
    pub logo_url: Option<String>,
    pub brand_color: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BrandRow {
    id: String,
    slug: String,
    name: String,
    logo_url: Option<String>,
    brand_color: Option<String>,
    settings: String,
}

/// Statuses whose custom domain serves: a suspended or cancelled project's domain does not.
const SERVING: &str = "('active', 'trial', 'past_due')";

/// The project whose custom domain is `host` (a port is ignored), when it is one that serves.
pub async fn branding_for_host(svc: &Services, host: &str) -> Result<Option<Branding>> {
    let Some(domain) = normalise(host) else { return Ok(None) };
    let row: Option<BrandRow> = sqlx::query_as(&format!(
        "SELECT id, slug, name, logo_url, brand_color, settings FROM projects \
         WHERE custom_domain = $1 AND status IN {SERVING}"
    ))
    .bind(&domain)
    .fetch_optional(svc.db.pool())
    .await?;
    Ok(row.map(|r| {
        let settings: serde_json::Value = serde_json::from_str(&r.settings).unwrap_or_default();
        let display_name = settings["displayName"].as_str().map(str::to_string).unwrap_or(r.name);
        Branding { project_id: r.id, slug: r.slug, display_name, logo_url: r.logo_url, brand_color: r.brand_color }
    }))
}

/// `GET /api/v1/domains/check?domain=`: `Ok` when `domain` is a serving project's custom domain,
/// else not found.
pub async fn check(svc: &Services, domain: &str) -> Result<()> {
    branding_for_host(svc, domain).await?.map(|_| ()).ok_or(Error::NotFound)
}

/// `Admin.Example.com:443` -> `admin.example.com`; `None` for what cannot be a host name.
fn normalise(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.');
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    (!host.is_empty() && host.len() <= 253 && !host.contains(['/', ' ', '[']) && host.contains('.'))
        .then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(normalise("Admin.Example.com:8443").as_deref(), Some("admin.example.com"));
        assert_eq!(normalise("admin.example.com.").as_deref(), Some("admin.example.com"));
        assert_eq!(normalise("localhost:3000"), None);
        assert_eq!(normalise("[::1]:3000"), None);
        assert_eq!(normalise(""), None);
    }
}
