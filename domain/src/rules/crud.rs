//! Creating, reading, changing and deleting rules. Conditions and templates are checked when
//! saved; the project's compiled rules are refreshed on every change.

use serde::Deserialize;

use super::{compile, Rule, RuleRow, COLUMNS};
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::{Permission, Tenant};
use crate::error::{Error, Result, Validator};
use crate::page::{Cursor, Page, PageRequest};
use crate::patch::nullable;
use crate::services::Services;
use crate::{time, validate};

/// A rule as sent to create it (all of `name`, `condition`, `title` needed) or to change it
/// (any subset).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    pub condition: Option<String>,
    pub target_roles: Option<Vec<String>>,
    pub title: Option<String>,
    pub message: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub sound: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sound_url: Option<Option<String>>,
    pub priority: Option<i64>,
    pub active: Option<bool>,
    pub notify_event_user: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub action: Option<Option<serde_json::Value>>,
}

impl RuleInput {
    /// Applies the input to `rule` and checks the result as a whole.
    fn apply(self, rule: &mut Rule) {
        use crate::patch::apply as p;
        if let Some(v) = self.name {
            rule.name = v.trim().to_string()
        }
        rule.description = p(rule.description.take(), self.description);
        if let Some(v) = self.condition {
            rule.condition = v
        }
        if let Some(v) = self.target_roles {
            rule.target_roles = v
        }
        if let Some(v) = self.title {
            rule.title = v
        }
        if let Some(v) = self.message {
            rule.message = v
        }
        // Taking the sound off takes its URL too, unless the input sets one of its own.
        let sound_cleared = matches!(self.sound, Some(None)) && rule.sound.is_some();
        rule.sound = p(rule.sound.take(), self.sound);
        rule.sound_url = match (sound_cleared, self.sound_url) {
            (true, None) => None,
            (_, given) => p(rule.sound_url.take(), given),
        };
        if let Some(v) = self.priority {
            rule.priority = v
        }
        if let Some(v) = self.active {
            rule.active = v
        }
        if let Some(v) = self.notify_event_user {
            rule.notify_event_user = v
        }
        rule.action = p(rule.action.take(), self.action);
    }
}

async fn check(svc: &Services, t: &Tenant, r: &mut Rule) -> Result<()> {
    let mut v = Validator::new();
    v.check(validate::name(&r.name, 255), "name", "must be 1 to 255 characters")
        .check(
            r.description.as_ref().is_none_or(|d| d.chars().count() <= 2000),
            "description",
            "must be at most 2000 characters",
        )
        .check(
            !r.target_roles.is_empty() || r.notify_event_user,
            "targetRoles",
            "name at least one role, or set notifyEventUser",
        )
        .check(r.target_roles.len() <= 50, "targetRoles", "must hold at most 50 roles")
        .check(r.sound_url.as_deref().is_none_or(validate::http_url), "soundUrl", "must be an http(s) URL")
        .check((-1_000_000..=1_000_000).contains(&r.priority), "priority", "must be between -1000000 and 1000000")
        .check(r.action.as_ref().is_none_or(|a| a.is_object()), "action", "must be a JSON object")
        .check(r.action.as_ref().is_none_or(|a| a.to_string().len() <= 8192), "action", "must be at most 8 KiB")
        .check(!r.title.trim().is_empty(), "title", "must not be empty");
    v.finish()?;
    resolve_sound(svc, t, r).await?;
    compile::within_size(&r.condition, &r.title, &r.message)?;
    svc.sandbox.check(&r.text()).await?;
    crate::roles::ensure_exist(svc, t, &r.target_roles).await.map_err(|e| match e {
        Error::Validation(mut f) => {
            if let Some(m) = f.remove("roles") {
                f.insert("targetRoles".into(), m);
            }
            Error::Validation(f)
        }
        other => other,
    })
}

/// A rule's `sound` names one of the project's sounds (docs/SOUNDS.md); its `soundUrl` becomes
/// that sound's URL. Without a sound, `soundUrl` may point anywhere the client likes.
async fn resolve_sound(svc: &Services, t: &Tenant, r: &mut Rule) -> Result<()> {
    let Some(name) = r.sound.as_deref() else { return Ok(()) };
    let sound = crate::sounds::named(svc, t.project_id(), name).await?.ok_or_else(|| {
        Error::field("sound", "names no sound of this project: upload it first (POST /api/v1/sounds)")
    })?;
    r.sound_url = Some(sound.url);
    Ok(())
}

/// Checks a rule's texts as saving it would (sizes, then compiling them in the sandbox), without
/// saving anything: the panel's editor calls it as the admin types. A blank title or message is
/// left to the save.
pub async fn check_text(svc: &Services, t: &Tenant, condition: &str, title: &str, message: &str) -> Result<()> {
    t.require(Permission::RulesManage)?;
    compile::within_size(condition, title, message)?;
    let text = super::sandbox::RuleText { condition: condition.into(), title: title.into(), message: message.into() };
    svc.sandbox.check(&text).await
}

pub async fn create(svc: &Services, t: &Tenant, input: RuleInput, meta: &RequestMeta) -> Result<Rule> {
    t.require(Permission::RulesManage)?;
    crate::usage::quota::require_room(svc, t.project_id(), crate::usage::quota::Counted::Rules, 1).await?;
    let mut missing = Validator::new();
    missing
        .check(input.name.is_some(), "name", "is required")
        .check(input.condition.is_some(), "condition", "is required")
        .check(input.title.is_some(), "title", "is required");
    missing.finish()?;
    let now = time::now();
    let mut rule = Rule {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: t.project_id().to_string(),
        name: String::new(),
        description: None,
        condition: String::new(),
        target_roles: vec![],
        title: String::new(),
        message: String::new(),
        sound: None,
        sound_url: None,
        priority: 0,
        active: true,
        notify_event_user: false,
        action: None,
        created_by: Some(t.audit_actor().1.to_string()),
        created_at: now,
        updated_at: now,
    };
    input.apply(&mut rule);
    check(svc, t, &mut rule).await?;
    sqlx::query(&format!(
        "INSERT INTO rules ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)"
    ))
    .bind(&rule.id)
    .bind(&rule.project_id)
    .bind(&rule.name)
    .bind(&rule.description)
    .bind(&rule.condition)
    .bind(serde_json::to_string(&rule.target_roles).expect("strings serialize"))
    .bind(&rule.title)
    .bind(&rule.message)
    .bind(&rule.sound)
    .bind(&rule.sound_url)
    .bind(rule.priority)
    .bind(rule.active as i64)
    .bind(rule.notify_event_user as i64)
    .bind(rule.action.as_ref().map(|a| a.to_string()))
    .bind(&rule.created_by)
    .bind(time::to_db(now))
    .execute(svc.db.pool())
    .await?;
    svc.rules.forget(t.project_id());
    audit::record(
        svc,
        AuditEntry::tenant(t, "rule.create", "rule", Some(&rule.id), meta)
            .with_metadata(serde_json::json!({"name": rule.name, "condition": rule.condition})),
    )
    .await?;
    Ok(rule)
}

pub async fn get(svc: &Services, t: &Tenant, id: &str) -> Result<Rule> {
    t.require(Permission::RulesManage)?;
    load(svc, t, id).await
}

pub(crate) async fn load(svc: &Services, t: &Tenant, id: &str) -> Result<Rule> {
    let id = validate::id(id)?;
    let row: RuleRow = sqlx::query_as(&format!("SELECT {COLUMNS} FROM rules WHERE project_id = $1 AND id = $2"))
        .bind(t.project_id())
        .bind(&id)
        .fetch_optional(svc.db.pool())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(row.into())
}

/// The project's rules, newest first.
pub async fn list(svc: &Services, t: &Tenant, page: PageRequest) -> Result<Page<Rule>> {
    t.require(Permission::RulesManage)?;
    let before = page.cursor.as_ref().map(|c| c.0.clone()).unwrap_or_else(|| "~".into());
    let rows: Vec<RuleRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM rules WHERE project_id = $1 AND created_at || id < $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(t.project_id())
    .bind(before)
    .bind(page.fetch_limit())
    .fetch_all(svc.db.pool())
    .await?;
    let rules = rows.into_iter().map(Rule::from).collect();
    Ok(Page::from_rows(rules, page.limit, |r: &Rule| Cursor(format!("{}{}", time::to_db(r.created_at), r.id))))
}

pub async fn update(svc: &Services, t: &Tenant, id: &str, input: RuleInput, meta: &RequestMeta) -> Result<Rule> {
    t.require(Permission::RulesManage)?;
    let mut rule = load(svc, t, id).await?;
    input.apply(&mut rule);
    check(svc, t, &mut rule).await?;
    rule.updated_at = time::now();
    sqlx::query(
        "UPDATE rules SET name = $1, description = $2, condition = $3, target_roles = $4, title = $5, message = $6, \
         sound = $7, sound_url = $8, priority = $9, active = $10, notify_event_user = $11, action = $12, updated_at = $13 \
         WHERE project_id = $14 AND id = $15",
    )
    .bind(&rule.name)
    .bind(&rule.description)
    .bind(&rule.condition)
    .bind(serde_json::to_string(&rule.target_roles).expect("strings serialize"))
    .bind(&rule.title)
    .bind(&rule.message)
    .bind(&rule.sound)
    .bind(&rule.sound_url)
    .bind(rule.priority)
    .bind(rule.active as i64)
    .bind(rule.notify_event_user as i64)
    .bind(rule.action.as_ref().map(|a| a.to_string()))
    .bind(time::to_db(rule.updated_at))
    .bind(t.project_id())
    .bind(&rule.id)
    .execute(svc.db.pool())
    .await?;
    svc.rules.forget(t.project_id());
    audit::record(svc, AuditEntry::tenant(t, "rule.update", "rule", Some(&rule.id), meta)).await?;
    Ok(rule)
}

/// Deletes a rule. Notifications it already made stay.
pub async fn delete(svc: &Services, t: &Tenant, id: &str, meta: &RequestMeta) -> Result<()> {
    t.require(Permission::RulesManage)?;
    let rule = load(svc, t, id).await?;
    sqlx::query("DELETE FROM rules WHERE project_id = $1 AND id = $2")
        .bind(t.project_id())
        .bind(&rule.id)
        .execute(svc.db.pool())
        .await?;
    svc.rules.forget(t.project_id());
    audit::record(svc, AuditEntry::tenant(t, "rule.delete", "rule", Some(&rule.id), meta)).await?;
    Ok(())
}
