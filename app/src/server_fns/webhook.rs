//! The project's webhook endpoint: URL and enabled flag, secret rotation (the new secret shown
//! once), a test send, the delivery log and redelivery.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointView {
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: Option<String>,
    /// Where the platform sends from, when the operator published it.
    #[serde(default)]
    pub source_ips: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogView {
    pub id: String,
    pub event_type: String,
    pub response_status: Option<i64>,
    pub attempt_number: i64,
    pub success: bool,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub created_at: String,
}

/// The endpoint, or `None` when none is set yet.
#[server(prefix = "/_panel")]
pub async fn get_webhook() -> Result<Option<EndpointView>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    match domain::webhooks::endpoint::get(&svc, &t).await {
        Ok(ep) => Ok(Some(ssr::view_of(ep)?)),
        Err(domain::Error::NotFound) => Ok(None),
        Err(e) => Err(ssr::user_error(e)),
    }
}

/// Sets the URL; a first endpoint's signing secret comes back once.
#[server(prefix = "/_panel")]
pub async fn save_webhook(url: String, enabled: Option<String>) -> Result<Option<String>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let input = ssr::input_of(serde_json::json!({"url": url.trim(), "enabled": enabled.is_some()}))?;
    let ep = domain::webhooks::endpoint::put(&svc, &t, input, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    Ok(ep.secret)
}

/// A new signing secret (the old one keeps signing during the overlap); answers it, once.
#[server(prefix = "/_panel")]
pub async fn rotate_webhook_secret() -> Result<Option<String>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let ep = domain::webhooks::endpoint::rotate(&svc, &t, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    Ok(ep.secret)
}

/// Queues a `webhook.test` message; answers its message id.
#[server(prefix = "/_panel")]
pub async fn send_test_webhook() -> Result<String, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    domain::webhooks::emit::send_test(&svc, &t).await.map_err(ssr::user_error)
}

#[server(prefix = "/_panel")]
pub async fn webhook_logs() -> Result<Vec<LogView>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let page = domain::webhooks::logs::list(&svc, &t, domain::page::PageRequest::new(Some(50), None))
        .await
        .map_err(ssr::user_error)?;
    ssr::view_of(page.data)
}

#[server(prefix = "/_panel")]
pub async fn redeliver(id: String) -> Result<(), ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    domain::webhooks::logs::redeliver(&svc, &t, &id, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    Ok(())
}
