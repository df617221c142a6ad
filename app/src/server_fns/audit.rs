//! The project's audit log: who changed what, from where, filtered as the REST API filters it.
//! Exports are plain downloads from [`EXPORT_PATH`] (a server function answers JSON, not a file).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the audit page's download links point (`?format=csv|ndjson` and the page's filters).
pub const EXPORT_PATH: &str = "/_panel/audit/export";

/// The filters of the page, as its query names them (the REST API's names).
pub const FILTERS: [(&str, &str); 5] =
    [("action", "Action"), ("resourceType", "Resource type"), ("userId", "User id"), ("from", "From"), ("to", "To")];

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuditView {
    pub action: String,
    pub actor_type: String,
    pub user_id: Option<String>,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub timestamp: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditPage {
    pub rows: Vec<AuditView>,
    pub next_cursor: Option<String>,
}

/// One page, filtered by whichever of the filters are given (empty ones are left out).
#[server(prefix = "/_panel")]
pub async fn list_audit(
    action: Option<String>,
    resource_type: Option<String>,
    user_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
) -> Result<AuditPage, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let query = domain::audit::AuditQuery { action, resource_type, user_id, from, to };
    let page = domain::audit::query::list(&svc, &t, &query, domain::page::PageRequest::new(Some(50), cursor))
        .await
        .map_err(ssr::user_error)?;
    Ok(AuditPage { rows: ssr::view_of(page.data)?, next_cursor: page.next_cursor })
}
