//! A project's rules (SPEC §4.3, CONTRACT "Rules"): a CEL condition over `type`, `payload` and
//! `source`; the roles to notify; title and message templates. Checked when saved and evaluated,
//! both in [`sandbox`] processes; each project's active rules are kept in [`cache::RuleCache`].

pub mod cache;
pub mod compile;
mod crud;
mod dry_run;
pub mod sandbox;

use serde::Serialize;

pub use crud::{check_text, create, delete, get, list, update, RuleInput};
pub use dry_run::{test, TestResult};

use crate::time::{self, Timestamp};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub condition: String,
    pub target_roles: Vec<String>,
    pub title: String,
    pub message: String,
    pub sound: Option<String>,
    pub sound_url: Option<String>,
    /// Higher first: rules are evaluated in descending priority.
    pub priority: i64,
    pub active: bool,
    pub notify_event_user: bool,
    pub action: Option<serde_json::Value>,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RuleRow {
    id: String,
    project_id: String,
    name: String,
    description: Option<String>,
    condition: String,
    target_roles: String,
    title: String,
    message: String,
    sound: Option<String>,
    sound_url: Option<String>,
    priority: i64,
    active: i64,
    notify_event_user: i64,
    action: Option<String>,
    created_by: Option<String>,
    created_at: String,
    updated_at: String,
}

impl Rule {
    /// The texts the sandbox compiles and runs.
    pub fn text(&self) -> sandbox::RuleText {
        sandbox::RuleText {
            condition: self.condition.clone(),
            title: self.title.clone(),
            message: self.message.clone(),
        }
    }
}

impl From<RuleRow> for Rule {
    fn from(r: RuleRow) -> Self {
        Rule {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            description: r.description,
            condition: r.condition,
            target_roles: serde_json::from_str(&r.target_roles).unwrap_or_default(),
            title: r.title,
            message: r.message,
            sound: r.sound,
            sound_url: r.sound_url,
            priority: r.priority,
            active: r.active != 0,
            notify_event_user: r.notify_event_user != 0,
            action: r.action.and_then(|a| serde_json::from_str(&a).ok()),
            created_by: r.created_by,
            created_at: time::from_db(&r.created_at),
            updated_at: time::from_db(&r.updated_at),
        }
    }
}

pub(crate) const COLUMNS: &str = "id, project_id, name, description, condition, target_roles, title, message, sound, \
    sound_url, priority, active, notify_event_user, action, created_by, created_at, updated_at";
