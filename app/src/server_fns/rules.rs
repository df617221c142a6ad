//! Rules of the signed-in admin's project: list, read, save (create or update), check as the
//! admin types, test against a sample event, delete.

// A server function takes a form's fields as its arguments; the rule form has nine.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    pub id: String,
    pub name: String,
    pub condition: String,
    pub target_roles: Vec<String>,
    pub title: String,
    pub message: String,
    pub priority: i64,
    pub active: bool,
    pub sound: Option<String>,
    pub updated_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TestView {
    pub matched: bool,
    pub title: Option<String>,
    pub message: Option<String>,
    pub recipients: Vec<String>,
    pub error: Option<String>,
}

#[server(prefix = "/_panel")]
pub async fn list_rules() -> Result<Vec<RuleView>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let page = domain::rules::list(&svc, &t, domain::page::PageRequest::new(Some(200), None))
        .await
        .map_err(ssr::user_error)?;
    ssr::view_of(page.data)
}

#[server(prefix = "/_panel")]
pub async fn get_rule(id: String) -> Result<RuleView, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    ssr::view_of(domain::rules::get(&svc, &t, &id).await.map_err(ssr::user_error)?)
}

/// Creates the rule (`id` empty) or updates it; answers its id. `target_roles` is a comma-separated
/// list; `active` is a checkbox.
#[server(prefix = "/_panel")]
pub async fn save_rule(
    id: Option<String>,
    name: String,
    condition: String,
    title: String,
    message: String,
    target_roles: String,
    priority: Option<String>,
    active: Option<String>,
    sound: Option<String>,
) -> Result<String, ServerFnError> {
    use super::ssr;
    use domain::rules as crud;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let meta = ssr::meta(&svc)?;
    let priority = match priority.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => 0,
        Some(p) => {
            p.parse::<i64>().map_err(|_| ssr::user_error(domain::Error::field("priority", "must be a whole number")))?
        }
    };
    let roles: Vec<String> =
        target_roles.split(',').map(str::trim).filter(|r| !r.is_empty()).map(str::to_string).collect();
    let input = ssr::input_of(serde_json::json!({
        "name": name, "condition": condition, "title": title, "message": message,
        "targetRoles": roles, "priority": priority, "active": active.is_some(),
        // The sound picker: empty is no sound.
        "sound": sound.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
    }))?;
    let rule = match id.filter(|i| !i.is_empty()) {
        None => crud::create(&svc, &t, input, &meta).await,
        Some(id) => crud::update(&svc, &t, &id, input, &meta).await,
    }
    .map_err(ssr::user_error)?;
    leptos_axum::redirect(&format!("/rules/{}", rule.id));
    Ok(rule.id)
}

/// The first problem with a condition and templates, or `None` when they compile.
#[server(prefix = "/_panel")]
pub async fn check_rule(condition: String, title: String, message: String) -> Result<Option<String>, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    Ok(match domain::rules::check_text(&svc, &t, &condition, &title, &message).await {
        Ok(()) => None,
        Err(domain::Error::Validation(fields)) => fields.into_iter().next().map(|(f, m)| format!("{f}: {m}")),
        Err(e) => return Err(ssr::user_error(e)),
    })
}

/// Runs the saved rule on a sample event (`payload` is JSON text).
#[server(prefix = "/_panel")]
pub async fn test_rule(id: String, event_type: String, payload: String) -> Result<TestView, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let payload: serde_json::Value = serde_json::from_str(&payload)
        .map_err(|e| ssr::user_error(domain::Error::field("payload", format!("must be JSON: {e}"))))?;
    let sample = serde_json::json!({"type": event_type, "payload": payload});
    let r = domain::rules::test(&svc, &t, &id, &sample).await.map_err(ssr::user_error)?;
    Ok(TestView {
        matched: r.matched,
        title: r.title,
        message: r.message,
        recipients: r.recipients.into_iter().map(|u| u.email.or(u.external_user_id).unwrap_or(u.id)).collect(),
        error: r.error,
    })
}

#[server(prefix = "/_panel")]
pub async fn delete_rule(id: String) -> Result<(), ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    domain::rules::delete(&svc, &t, &id, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    leptos_axum::redirect("/rules");
    Ok(())
}
