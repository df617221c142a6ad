//! The project's audit log: who changed what, from where.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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

#[server(prefix = "/_panel")]
pub async fn list_audit(cursor: Option<String>) -> Result<AuditPage, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    t.require_admin().map_err(ssr::user_error)?;
    let page = domain::audit::list(&svc, &t, domain::page::PageRequest::new(Some(50), cursor))
        .await
        .map_err(ssr::user_error)?;
    Ok(AuditPage { rows: ssr::view_of(page.data)?, next_cursor: page.next_cursor })
}
