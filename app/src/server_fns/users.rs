//! End users of the signed-in admin's project: search and filter, approve a pending one,
//! disable, delete.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub email: Option<String>,
    pub external_user_id: Option<String>,
    pub roles: Vec<String>,
    pub status: String,
    pub created_at: String,
}

#[server(prefix = "/_panel")]
pub async fn list_users(q: Option<String>, status: Option<String>) -> Result<Vec<UserView>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let filter = domain::users::ListFilter {
        q: q.filter(|s| !s.trim().is_empty()),
        status: status.filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let page = domain::users::list(&svc, &t, filter, domain::page::PageRequest::new(Some(200), None))
        .await
        .map_err(ssr::user_error)?;
    ssr::view_of(page.data)
}

/// `action` is `approve`, `disable`, `enable` or `delete`.
#[server(prefix = "/_panel")]
pub async fn change_user(id: String, action: String) -> Result<(), ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let meta = ssr::meta(&svc)?;
    let status = |s: &str| ssr::input_of::<domain::users::UserFields>(serde_json::json!({ "status": s }));
    match action.as_str() {
        "approve" => domain::users::approve(&svc, &t, &id, &meta).await.map(|_| ()),
        "disable" => domain::users::update(&svc, &t, &id, status("disabled")?, &meta).await.map(|_| ()),
        "enable" => domain::users::update(&svc, &t, &id, status("active")?, &meta).await.map(|_| ()),
        "delete" => domain::users::delete(&svc, &t, &id, &meta).await,
        _ => Err(domain::Error::field("action", "must be approve, disable, enable or delete")),
    }
    .map_err(ssr::user_error)
}
