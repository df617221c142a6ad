//! API keys of the signed-in admin's project: list, create (the secret shown once), revoke.

// A server function takes a form's fields as its arguments; the key form has eight.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The permissions a key may hold: (form field, the API's name, label).
pub const PERMISSIONS: [(&str, &str, &str); 4] = [
    ("events_write", "events:write", "Send events"),
    ("users_manage", "users:manage", "Manage users and roles"),
    ("notifications_read", "notifications:read", "Read notifications"),
    ("rules_manage", "rules:manage", "Manage rules"),
];

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub key: String,
    pub permissions: Vec<String>,
    pub status: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    #[serde(default)]
    pub auto_revoke_after_failures: Option<i64>,
    pub created_at: String,
}

/// A new key and its secret, which is never shown again.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CreatedKey {
    pub key: String,
    pub secret: String,
}

#[server(prefix = "/_panel")]
pub async fn list_keys() -> Result<Vec<KeyView>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let page = domain::api_keys::list(&svc, &t, domain::page::PageRequest::new(Some(200), None))
        .await
        .map_err(ssr::user_error)?;
    ssr::view_of(page.data)
}

/// One checkbox per permission (see [`PERMISSIONS`]); none checked means all four. `expires_at`
/// is a date (`YYYY-MM-DD`, the end of that day in UTC) or empty for never; `allowed_ips` the
/// addresses and CIDR ranges the secret may be used from, empty for anywhere.
#[server(prefix = "/_panel")]
pub async fn create_key(
    name: String,
    expires_at: Option<String>,
    events_write: Option<String>,
    users_manage: Option<String>,
    notifications_read: Option<String>,
    rules_manage: Option<String>,
    allowed_ips: Option<String>,
    auto_revoke_after_failures: Option<String>,
) -> Result<CreatedKey, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let checked = [events_write, users_manage, notifications_read, rules_manage];
    let permissions: Vec<&str> =
        PERMISSIONS.iter().zip(&checked).filter(|(_, c)| c.is_some()).map(|((_, api, _), _)| *api).collect();
    let expires_at = expires_at.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).map(|d| {
        if d.len() == 10 {
            format!("{d}T23:59:59Z")
        } else {
            d
        }
    });
    let auto_revoke =
        match auto_revoke_after_failures.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                ssr::user_error(domain::Error::field("autoRevokeAfterFailures", "must be a whole number"))
            })?),
        };
    let input = ssr::input_of(serde_json::json!({
        "autoRevokeAfterFailures": auto_revoke,
        "name": name,
        "permissions": (!permissions.is_empty()).then_some(permissions),
        "expiresAt": expires_at,
        // Commas or spaces between entries.
        "allowedIps": allowed_ips.unwrap_or_default().split([',', ' ', '\n']).filter(|a| !a.trim().is_empty()).map(str::trim).collect::<Vec<_>>(),
    }))?;
    let created = domain::api_keys::create(&svc, &t, input, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    Ok(CreatedKey { key: created.key.key, secret: created.secret })
}

#[server(prefix = "/_panel")]
pub async fn revoke_key(id: String) -> Result<(), ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    domain::api_keys::revoke(&svc, &t, &id, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    Ok(())
}
