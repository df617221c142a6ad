//! Roles of the signed-in admin's project: list with how many hold each, create, delete.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub user_count: i64,
}

#[server(prefix = "/_panel")]
pub async fn list_roles() -> Result<Vec<RoleView>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let page = domain::roles::list(&svc, &t, domain::page::PageRequest::new(Some(200), None))
        .await
        .map_err(ssr::user_error)?;
    ssr::view_of(page.data)
}

#[server(prefix = "/_panel")]
pub async fn create_role(name: String, description: String) -> Result<(), ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let description = Some(description.trim().to_string()).filter(|d| !d.is_empty());
    let input = ssr::input_of(serde_json::json!({"name": name, "description": description}))?;
    domain::roles::create(&svc, &t, input, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    Ok(())
}

/// Deletes the role; one that users still hold is refused unless `force` is ticked.
#[server(prefix = "/_panel")]
pub async fn delete_role(id: String, force: Option<String>) -> Result<(), ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    domain::roles::delete(&svc, &t, &id, force.is_some(), &ssr::meta(&svc)?).await.map_err(ssr::user_error)
}
