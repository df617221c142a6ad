//! `POST /rules/{id}/test`: runs one rule over a sample event and tells what would happen,
//! sending nothing.

use serde::Serialize;

use super::sandbox::EventIn;
use crate::auth::{Permission, Tenant};
use crate::error::{Error, Result};
use crate::services::Services;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub id: String,
    pub email: Option<String>,
    pub external_user_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    pub matched: bool,
    pub title: Option<String>,
    pub message: Option<String>,
    pub recipients: Vec<Recipient>,
    /// Why a rule that matched could not render, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The sample is `{type, payload, source?}`, validated like a real event.
pub async fn test(svc: &Services, t: &Tenant, id: &str, sample: &serde_json::Value) -> Result<TestResult> {
    t.require(Permission::RulesManage)?;
    let rule = super::crud::load(svc, t, id).await?;
    let event = crate::events::validate(sample)?;
    let payload: serde_json::Value = serde_json::from_str(&event.payload).map_err(Error::internal)?;
    // The same sandbox and bounds as the engine's (docs/ARCHITECTURE.md, "Fault isolation").
    let text = rule.text();
    let input = EventIn {
        set: 0,
        event_type: std::borrow::Cow::Borrowed(&event.event_type),
        payload: std::borrow::Cow::Borrowed(&payload),
        source: event.source.as_deref().map(std::borrow::Cow::Borrowed),
    };
    let out = svc.sandbox.evaluate(&[std::slice::from_ref(&text)], std::slice::from_ref(&input)).await?.pop();
    let (title, message, error) = match out {
        Some(Ok(out)) => match (out.matches.into_iter().next(), out.error) {
            (Some(m), _) => (Some(m.title), Some(m.message), None),
            (None, Some((_, reason))) => (None, None, Some(reason)),
            (None, None) => {
                return Ok(TestResult { matched: false, title: None, message: None, recipients: vec![], error: None })
            }
        },
        Some(Err(reason)) => (None, None, Some(reason)),
        None => return Ok(TestResult { matched: false, title: None, message: None, recipients: vec![], error: None }),
    };
    let ids = crate::engine::recipients::resolve(svc, t, &rule.target_roles, rule.notify_event_user, &payload).await?;
    let mut recipients = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT id, email, external_user_id FROM users WHERE project_id = $1 AND id IN ({}) ORDER BY id",
            placeholders.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, Option<String>, Option<String>)>(&sql).bind(t.project_id());
        for id in chunk {
            q = q.bind(id);
        }
        for (id, email, external_user_id) in q.fetch_all(svc.db.pool()).await? {
            recipients.push(Recipient { id, email, external_user_id });
        }
    }
    Ok(TestResult { matched: true, title, message, recipients, error })
}
