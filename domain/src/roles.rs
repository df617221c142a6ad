//! A project's roles (SPEC §5.7): the names its users hold and its rules target
//! (`targetRoles`). `admin` is built in: it makes a user a project admin, every project has it,
//! it is never stored here, and it can be neither created, renamed nor deleted.
//!
//! A role is addressed by its id or, for convenience, by its name (`/roles/finance`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::{Permission, Tenant};
use crate::error::{Error, OnConstraint, Result, Validator};
use crate::page::{Cursor, Page, PageRequest};
use crate::patch::{self, nullable};
use crate::services::Services;
use crate::time::{self, Timestamp};
use crate::users::{self, ADMIN_ROLE};

/// What a role name may be, as the validation errors say it.
pub const NAME_RULE: &str = "must be 1 to 50 of a-z, 0-9, _ and -";
const DESCRIPTION_MAX: usize = 500;

/// 1 to 50 of `a-z`, `0-9`, `_` and `-`.
pub fn valid_name(s: &str) -> bool {
    (1..=50).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    /// How many users hold the role.
    pub user_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    id: String,
    project_id: String,
    name: String,
    description: Option<String>,
    user_count: i64,
    created_at: String,
    updated_at: String,
}

impl From<RoleRow> for Role {
    fn from(r: RoleRow) -> Self {
        Role {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            description: r.description,
            user_count: r.user_count,
            created_at: time::from_db(&r.created_at),
            updated_at: time::from_db(&r.updated_at),
        }
    }
}

const SELECT: &str = "SELECT r.id, r.project_id, r.name, r.description, \
    (SELECT COUNT(*) FROM user_roles ur WHERE ur.project_id = r.project_id AND ur.role = r.name) AS user_count, \
    r.created_at, r.updated_at FROM roles r";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRole {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A role's changes: a field left out keeps its value; `description: null` clears it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolePatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
}

fn check_name(v: &mut Validator, name: &str) {
    v.check(valid_name(name), "name", NAME_RULE).check(
        name != ADMIN_ROLE,
        "name",
        "admin is built in: it cannot be created, renamed or deleted",
    );
}

/// `admin` is not stored, so a path naming it would be a 404; say why instead.
fn refuse_builtin(id_or_name: &str) -> Result<()> {
    if id_or_name == ADMIN_ROLE {
        return Err(Error::field("name", "admin is built in: it cannot be created, renamed or deleted"));
    }
    Ok(())
}

fn check_description(v: &mut Validator, d: Option<&str>) {
    v.check(d.is_none_or(|d| d.chars().count() <= DESCRIPTION_MAX), "description", "must be at most 500 characters");
}

pub async fn create(svc: &Services, t: &Tenant, input: NewRole, meta: &RequestMeta) -> Result<Role> {
    t.require(Permission::UsersManage)?;
    let name = input.name.unwrap_or_default();
    let mut v = Validator::new();
    v.check(!name.is_empty(), "name", "is required");
    check_name(&mut v, &name);
    check_description(&mut v, input.description.as_deref());
    v.finish()?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = time::to_db(time::now());
    sqlx::query(
        "INSERT INTO roles (id, project_id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(t.project_id())
    .bind(&name)
    .bind(input.description.as_deref().map(str::trim).filter(|d| !d.is_empty()))
    .bind(&now)
    .execute(svc.db.pool())
    .await
    .on_unique(|| name_taken(&name))?;
    audit::record(
        svc,
        AuditEntry::tenant(t, "role.create", "role", Some(&id), meta).with_metadata(serde_json::json!({"name": name})),
    )
    .await?;
    get(svc, t, &id).await
}

fn name_taken(name: &str) -> Error {
    Error::ConflictWith {
        message: format!("a role named {name} already exists in this project"),
        details: serde_json::json!({"field": "name"}),
    }
}

/// The project's roles, newest first (`admin`, built in, is not listed).
pub async fn list(svc: &Services, t: &Tenant, page: PageRequest) -> Result<Page<Role>> {
    t.require(Permission::UsersManage)?;
    let (before, before_id) = page.keyset();
    let rows: Vec<RoleRow> = sqlx::query_as(&format!(
        "{SELECT} WHERE r.project_id = $1 AND (r.created_at, r.id) < ($2, $4) ORDER BY r.created_at DESC, r.id DESC LIMIT $3"
    ))
    .bind(t.project_id())
    .bind(before)
    .bind(page.fetch_limit())
    .bind(before_id)
    .fetch_all(svc.db.pool())
    .await?;
    let roles = rows.into_iter().map(Role::from).collect();
    Ok(Page::from_rows(roles, page.limit, |r: &Role| Cursor(format!("{}{}", time::to_db(r.created_at), r.id))))
}

pub async fn get(svc: &Services, t: &Tenant, id_or_name: &str) -> Result<Role> {
    t.require(Permission::UsersManage)?;
    Ok(find(svc.db.pool(), t.project_id(), id_or_name).await?.into())
}

/// One role of the project, by id or name; anything else is a 404.
async fn find<'e, E: sqlx::Executor<'e, Database = Any>>(ex: E, project_id: &str, id_or_name: &str) -> Result<RoleRow> {
    let (column, key) = match uuid::Uuid::parse_str(id_or_name) {
        Ok(id) => ("id", id.to_string()),
        Err(_) if valid_name(id_or_name) => ("name", id_or_name.to_string()),
        Err(_) => return Err(Error::NotFound),
    };
    sqlx::query_as(&format!("{SELECT} WHERE r.project_id = $1 AND r.{column} = $2"))
        .bind(project_id)
        .bind(key)
        .fetch_optional(ex)
        .await?
        .ok_or(Error::NotFound)
}

/// Names of `names` that are not roles of the project (`admin` always is one). For callers that
/// name the field themselves, such as rules' `targetRoles`.
pub async fn missing(svc: &Services, t: &Tenant, names: &[String]) -> Result<Vec<String>> {
    missing_in(svc, t.project_id(), names).await
}

/// [`missing`] for callers without a tenant (self-registration).
pub(crate) async fn missing_in(svc: &Services, project_id: &str, names: &[String]) -> Result<Vec<String>> {
    let wanted: BTreeSet<&str> = names.iter().map(String::as_str).filter(|n| *n != ADMIN_ROLE).collect();
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    let known: BTreeSet<String> = sqlx::query_scalar::<_, String>("SELECT name FROM roles WHERE project_id = $1")
        .bind(project_id)
        .fetch_all(svc.db.pool())
        .await?
        .into_iter()
        .collect();
    Ok(wanted.into_iter().filter(|n| !known.contains(*n)).map(str::to_string).collect())
}

/// Fails with a `roles` field error unless every name is a role of the project.
pub async fn ensure_exist(svc: &Services, t: &Tenant, names: &[String]) -> Result<()> {
    let unknown = missing(svc, t, names).await?;
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::field("roles", format!("unknown roles: {} (create them under /roles first)", unknown.join(", "))))
    }
}

/// Changes a role's name or description. Renaming a role that users or rules still hold answers
/// 409 with `details: {users, rules}` counting them, unless `force` is set: then every user
/// and rule holding the old name gets the new one, in the same transaction.
pub async fn update(
    svc: &Services,
    t: &Tenant,
    id_or_name: &str,
    input: RolePatch,
    force: bool,
    meta: &RequestMeta,
) -> Result<Role> {
    t.require(Permission::UsersManage)?;
    refuse_builtin(id_or_name)?;
    let mut v = Validator::new();
    if let Some(name) = &input.name {
        check_name(&mut v, name);
    }
    check_description(&mut v, input.description.as_ref().and_then(|d| d.as_deref()));
    v.finish()?;
    let mut tx = svc.db.begin_write().await?;
    let role = find(&mut *tx, t.project_id(), id_or_name).await?;
    let new_name = input.name.clone().unwrap_or_else(|| role.name.clone());
    let renamed = new_name != role.name;
    let mut held = Holders::default();
    if renamed {
        held = Holders::load(&mut tx, t.project_id(), &role.name).await?;
        if !held.is_empty() && !force {
            return Err(held.conflict("renamed", &role.name));
        }
        held.rewrite(&mut tx, t.project_id(), &role.name, Some(&new_name)).await?;
    }
    let description = patch::apply(role.description.clone(), input.description)
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    sqlx::query("UPDATE roles SET name = $1, description = $2, updated_at = $3 WHERE project_id = $4 AND id = $5")
        .bind(&new_name)
        .bind(&description)
        .bind(time::to_db(time::now()))
        .bind(t.project_id())
        .bind(&role.id)
        .execute(&mut *tx)
        .await
        .on_unique(|| name_taken(&new_name))?;
    tx.commit().await?;
    held.after_commit(svc, t);
    audit::record(
        svc,
        AuditEntry::tenant(t, "role.update", "role", Some(&role.id), meta).with_metadata(serde_json::json!({
            "name": new_name, "previousName": role.name, "force": force,
            "usersUpdated": held.users.len(), "rulesUpdated": held.rules.len(),
        })),
    )
    .await?;
    get(svc, t, &role.id).await
}

/// Deletes a role.
///
/// A role that users or rules still hold is not deleted: the answer is 409 `conflict` with
/// `details: {users, rules}` counting them, so nothing silently stops receiving notifications.
/// `DELETE /roles/{id}?force=true` deletes it anyway and, in the same transaction, takes it off
/// every user (`roles`) and every rule (`targetRoles`); a rule left with no target roles then
/// reaches only the event's own user, if it notifies one. The built-in `admin` cannot be deleted.
pub async fn delete(svc: &Services, t: &Tenant, id_or_name: &str, force: bool, meta: &RequestMeta) -> Result<()> {
    t.require(Permission::UsersManage)?;
    refuse_builtin(id_or_name)?;
    let mut tx = svc.db.begin_write().await?;
    let role = find(&mut *tx, t.project_id(), id_or_name).await?;
    let held = Holders::load(&mut tx, t.project_id(), &role.name).await?;
    if !held.is_empty() && !force {
        return Err(held.conflict("deleted", &role.name));
    }
    held.rewrite(&mut tx, t.project_id(), &role.name, None).await?;
    sqlx::query("DELETE FROM roles WHERE project_id = $1 AND id = $2")
        .bind(t.project_id())
        .bind(&role.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    held.after_commit(svc, t);
    audit::record(
        svc,
        AuditEntry::tenant(t, "role.delete", "role", Some(&role.id), meta).with_metadata(serde_json::json!({
            "name": role.name, "force": force, "usersUpdated": held.users.len(), "rulesUpdated": held.rules.len(),
        })),
    )
    .await?;
    Ok(())
}

/// The users and rules holding one role: (id, its role list) each.
#[derive(Default)]
struct Holders {
    users: Vec<(String, Vec<String>)>,
    rules: Vec<(String, Vec<String>)>,
}

impl Holders {
    async fn load(tx: &mut Transaction<'_, Any>, project_id: &str, name: &str) -> Result<Self> {
        let users: Vec<(String, String)> = sqlx::query_as(
            "SELECT u.id, u.roles FROM users u WHERE u.project_id = $1 AND EXISTS \
             (SELECT 1 FROM user_roles ur WHERE ur.project_id = $1 AND ur.user_id = u.id AND ur.role = $2)",
        )
        .bind(project_id)
        .bind(name)
        .fetch_all(&mut **tx)
        .await?;
        // LIKE narrows the rows (`_` in a name matches any character there); the parsed list decides.
        let rules: Vec<(String, String)> =
            sqlx::query_as("SELECT id, target_roles FROM rules WHERE project_id = $1 AND target_roles LIKE $2")
                .bind(project_id)
                .bind(format!("%\"{name}\"%"))
                .fetch_all(&mut **tx)
                .await?;
        let parse = |rows: Vec<(String, String)>| -> Vec<(String, Vec<String>)> {
            rows.into_iter()
                .map(|(id, json)| (id, serde_json::from_str::<Vec<String>>(&json).unwrap_or_default()))
                .filter(|(_, roles)| roles.iter().any(|r| r == name))
                .collect()
        };
        Ok(Holders { users: parse(users), rules: parse(rules) })
    }

    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.rules.is_empty()
    }

    fn conflict(&self, what: &str, name: &str) -> Error {
        Error::ConflictWith {
            message: format!(
                "the role {name} is still held by {} users and {} rules; it can be {what} with ?force=true, \
                 which changes them too",
                self.users.len(),
                self.rules.len()
            ),
            details: serde_json::json!({"users": self.users.len(), "rules": self.rules.len()}),
        }
    }

    /// Replaces `old` by `new` (or removes it) on every holder, keeping `user_roles` in step.
    async fn rewrite(
        &self,
        tx: &mut Transaction<'_, Any>,
        project_id: &str,
        old: &str,
        new: Option<&str>,
    ) -> Result<()> {
        let now = time::to_db(time::now());
        let replace = |roles: &[String]| -> Vec<String> {
            let mut out: Vec<String> = Vec::with_capacity(roles.len());
            for r in roles {
                let r = if r == old { new } else { Some(r.as_str()) };
                if let Some(r) = r.filter(|r| !out.iter().any(|o| o == r)) {
                    out.push(r.to_string());
                }
            }
            out
        };
        for (id, roles) in &self.users {
            users::store_roles(tx, project_id, id, &replace(roles), &now).await?;
        }
        for (id, roles) in &self.rules {
            sqlx::query("UPDATE rules SET target_roles = $1, updated_at = $2 WHERE project_id = $3 AND id = $4")
                .bind(serde_json::to_string(&replace(roles)).expect("strings serialize"))
                .bind(&now)
                .bind(project_id)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// The rule engine caches each project's rules: it must see the rewritten ones at once.
    fn after_commit(&self, svc: &Services, t: &Tenant) {
        if !self.rules.is_empty() {
            svc.rules.forget(t.project_id());
        }
    }
}
