//! Self-service sign-up from the panel, and the first steps after it: the same domain function as
//! `POST /api/v1/signup`, then a test event sent with the new key and followed until processed.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the welcome page shows once: the first key pair, and where the project lives.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Welcome {
    pub project_slug: String,
    pub key: String,
    pub secret: String,
    pub checkout_url: Option<String>,
    /// This platform's address as the browser reached it, for the snippets.
    pub api_base: String,
}

#[server(prefix = "/_panel")]
pub async fn sign_up(
    name: String,
    email: String,
    password: String,
    project_name: String,
) -> Result<Welcome, ServerFnError> {
    use super::ssr;
    use domain::projects::signup;
    let svc = ssr::services()?;
    let client = ssr::client_ip(&svc)?;
    let input = signup::Signup { email, password, name, project_name, plan: None };
    let done = signup::signup(&svc, input, client, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    ssr::set_session_cookie(super::SESSION_COOKIE, Some(&done.token))?;
    let parts = ssr::parts()?;
    Ok(Welcome {
        api_base: format!("{}://{}", if ssr::https(&parts) { "https" } else { "http" }, ssr::host(&parts)),
        project_slug: done.project.slug,
        key: done.api_key.key.key,
        secret: done.api_key.secret,
        checkout_url: done.checkout_url,
    })
}

/// An event's progress as the welcome page follows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub notification_ids: Vec<String>,
}

/// Sends a `panel.test` event into the signed-in admin's project, as its backend would.
#[server(prefix = "/_panel")]
pub async fn send_test_event() -> Result<EventView, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let body = serde_json::json!({"type": "panel.test", "payload": {"message": "Hello from the setup page"}});
    let (outcome, _) = domain::events::send(&svc, &t, &body).await.map_err(ssr::user_error)?;
    let event = domain::events::get(&svc, &t, outcome.id()).await.map_err(ssr::user_error)?;
    ssr::view_of(event)
}

#[server(prefix = "/_panel")]
pub async fn event_status(id: String) -> Result<EventView, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    ssr::view_of(domain::events::get(&svc, &t, &id).await.map_err(ssr::user_error)?)
}
