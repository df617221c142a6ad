//! The project's sounds: the list and delete. Uploads are a plain multipart form posted to
//! `/_panel/sounds/upload` (a file does not fit a server function's URL-encoded form; see
//! docs/PANELS.md "Uploads"), which comes back to the page with `?uploaded=` or `?error=`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the sounds page's upload form posts.
pub const UPLOAD_PATH: &str = "/_panel/sounds/upload";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SoundView {
    pub id: String,
    pub name: String,
    pub format: String,
    pub size_bytes: i64,
    pub duration_ms: i64,
    pub file_name: String,
    pub url: String,
    pub created_at: String,
}

#[server(prefix = "/_panel")]
pub async fn list_sounds() -> Result<Vec<SoundView>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let page = domain::sounds::list(&svc, &t, domain::page::PageRequest::new(Some(200), None))
        .await
        .map_err(ssr::user_error)?;
    ssr::view_of(page.data)
}

/// Deletes a sound; `force` (a checkbox) also takes it off the active rules that play it.
#[server(prefix = "/_panel")]
pub async fn delete_sound(id: String, force: Option<String>) -> Result<(), ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    domain::sounds::delete(&svc, &t, &id, force.is_some(), &ssr::meta(&svc)?).await.map_err(ssr::user_error)
}
