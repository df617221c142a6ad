//! Bulk sync from the client's own user base (`POST /users/sync`): up to [`MAX_SYNC`] users per
//! call, each matched by its `externalUserId`, created when new and updated (only the fields sent)
//! when known. Each item has its own savepoint, so one bad item sinks nothing else — PostgreSQL
//! would otherwise abort the whole transaction at the first failed statement.

use std::collections::BTreeSet;

use serde::Serialize;
use sqlx::{Acquire, Any, Transaction};

use super::input::{self, Checked, UserFields};
use super::{guard_admin, store, User, UserRow, ADMIN_ROLE, COLUMNS};
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::{Permission, Tenant};
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time;

/// Most users in one sync call.
pub const MAX_SYNC: usize = 1_000;

/// Most users of one sync call that may set a password: each costs an argon2id hash.
pub const MAX_SYNC_PASSWORDS: usize = 100;

/// One item of a sync's answer, in the order sent.
#[derive(Debug, Serialize)]
pub struct SyncItem {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `created`, `updated` or `rejected`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

impl SyncItem {
    fn rejected(index: usize, e: &Error) -> Self {
        SyncItem { index, id: None, status: "rejected", error: Some(e.error_object()) }
    }
}

/// An item ready to write.
struct Prepared {
    index: usize,
    external_user_id: String,
    fields: Checked,
    password_hash: Option<String>,
}

/// `{users: [...]}` → one result per item. New users are `active` unless the item says otherwise.
pub async fn sync(svc: &Services, t: &Tenant, body: &serde_json::Value, meta: &RequestMeta) -> Result<Vec<SyncItem>> {
    t.require(Permission::UsersManage)?;
    let items = body
        .get("users")
        .and_then(|u| u.as_array())
        .filter(|u| (1..=MAX_SYNC).contains(&u.len()))
        .ok_or_else(|| Error::field("users", format!("must be an array of 1 to {MAX_SYNC} users")))?;
    let known: BTreeSet<String> = sqlx::query_scalar::<_, String>("SELECT name FROM roles WHERE project_id = $1")
        .bind(t.project_id())
        .fetch_all(svc.db.pool())
        .await?
        .into_iter()
        .chain(std::iter::once(ADMIN_ROLE.to_string()))
        .collect();

    let mut results: Vec<Option<SyncItem>> = Vec::with_capacity(items.len());
    let mut ready = Vec::new();
    let mut passwords = 0;
    for (index, item) in items.iter().enumerate() {
        let prepared = prepare(t, &known, index, item).and_then(|p| {
            if p.fields.password.clone().flatten().is_some() {
                passwords += 1;
                if passwords > MAX_SYNC_PASSWORDS {
                    return Err(Error::field(
                        "password",
                        format!("at most {MAX_SYNC_PASSWORDS} users of one sync call may set a password"),
                    ));
                }
            }
            Ok(p)
        });
        match prepared {
            Ok(p) => {
                ready.push(p);
                results.push(None);
            }
            Err(e) => results.push(Some(SyncItem::rejected(index, &e))),
        }
    }
    hash_passwords(svc, &mut ready).await?;

    let mut tx = svc.db.begin_write().await?;
    for p in ready {
        let mut savepoint = (&mut tx).begin().await?;
        match upsert(&mut savepoint, svc.db.backend(), t, &p).await {
            Ok((id, status)) => {
                savepoint.commit().await?;
                svc.auth_cache.forget_user(t.project_id(), &id);
                results[p.index] = Some(SyncItem { index: p.index, id: Some(id), status, error: None });
            }
            Err(e @ Error::Internal(_)) => return Err(e),
            Err(e) => {
                savepoint.rollback().await?;
                results[p.index] = Some(SyncItem::rejected(p.index, &e));
            }
        }
    }
    tx.commit().await?;

    let results: Vec<SyncItem> = results.into_iter().flatten().collect();
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    audit::record(
        svc,
        AuditEntry::tenant(t, "user.sync", "user", None, meta).with_metadata(serde_json::json!({
            "created": count("created"), "updated": count("updated"), "rejected": count("rejected"),
        })),
    )
    .await?;
    Ok(results)
}

/// Checks one item without touching the database.
fn prepare(t: &Tenant, known: &BTreeSet<String>, index: usize, item: &serde_json::Value) -> Result<Prepared> {
    if !item.is_object() {
        return Err(Error::BadRequest("each user must be a JSON object".into()));
    }
    let fields: UserFields =
        serde_json::from_value(item.clone()).map_err(|e| Error::BadRequest(format!("this user is not valid: {e}")))?;
    let fields = fields.check()?;
    let Some(Some(external_user_id)) = fields.external_user_id.clone() else {
        return Err(Error::field("externalUserId", "is required to sync a user"));
    };
    let unknown: Vec<&str> = fields.role_names().iter().map(String::as_str).filter(|r| !known.contains(*r)).collect();
    if !unknown.is_empty() {
        return Err(Error::field("roles", format!("unknown roles: {}", unknown.join(", "))));
    }
    guard_admin(t, fields.grants_admin())?;
    Ok(Prepared { index, external_user_id, fields, password_hash: None })
}

/// argon2 for every item that sets a password, one at a time under the shared bound (see
/// `auth::passwords`).
async fn hash_passwords(svc: &Services, ready: &mut [Prepared]) -> Result<()> {
    for p in ready.iter_mut() {
        if let Some(pw) = p.fields.password.clone().flatten() {
            p.password_hash = Some(crate::auth::passwords::hash(svc, pw).await?);
        }
    }
    Ok(())
}

/// Whether the row was self-registered; it is not from now on (the sync adopts it).
async fn adopt_self_registered(tx: &mut Transaction<'_, Any>, project_id: &str, id: &str) -> Result<bool> {
    let n =
        sqlx::query("UPDATE users SET self_registered = 0 WHERE project_id = $1 AND id = $2 AND self_registered <> 0")
            .bind(project_id)
            .bind(id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    Ok(n > 0)
}

/// Updates the user with this external id, or creates it: (id, `updated` | `created`).
async fn upsert(
    tx: &mut Transaction<'_, Any>,
    backend: crate::db::Backend,
    t: &Tenant,
    p: &Prepared,
) -> Result<(String, &'static str)> {
    let existing: Option<UserRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE project_id = $1 AND external_user_id = $2"))
            .bind(t.project_id())
            .bind(&p.external_user_id)
            .fetch_optional(&mut **tx)
            .await?;
    match existing {
        Some(row) => {
            let mut user = User::from(row);
            guard_admin(t, user.is_admin())?;
            let was_active_admin = user.is_active_admin();
            let mut columns = p.fields.columns();
            if adopt_self_registered(tx, t.project_id(), &user.id).await? {
                // A stranger may have made this row with the publishable key alone, naming the
                // client's user: nothing it set that signs in or receives is kept.
                user.push_tokens = serde_json::json!({});
                user.roles = vec![];
                for c in ["password_hash", "push_tokens", "roles"] {
                    if !columns.contains(&c) {
                        columns.push(c);
                    }
                }
            }
            p.fields.apply(&mut user);
            input::ensure_identifiable(&user)?;
            user.updated_at = time::now();
            store::update(tx, &user, p.password_hash.as_deref(), &columns).await?;
            store::keep_an_admin(tx, backend, t.project_id(), was_active_admin && !user.is_active_admin()).await?;
            Ok((user.id, "updated"))
        }
        None => {
            let user = super::create::new_user(t.project_id(), &p.fields, "active")?;
            store::insert(tx, &user, p.password_hash.as_deref()).await?;
            Ok((user.id, "created"))
        }
    }
}
