//! The `users` and `user_roles` rows, written together inside the caller's transaction so that
//! `user_roles` always mirrors `users.roles`.

use sqlx::{Any, Transaction};

use super::{User, UserRow, ADMIN_ROLE, COLUMNS};
use crate::error::{Error, Result};
use crate::time;

/// One user of the project, or 404.
pub(super) async fn load<'e, E: sqlx::Executor<'e, Database = Any>>(
    ex: E,
    project_id: &str,
    id: &str,
) -> Result<UserRow> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE project_id = $1 AND id = $2"))
        .bind(project_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .ok_or(Error::NotFound)
}

/// Replaces a user's `user_roles` rows by `roles`.
pub(super) async fn write_roles(
    tx: &mut Transaction<'_, Any>,
    project_id: &str,
    user_id: &str,
    roles: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM user_roles WHERE project_id = $1 AND user_id = $2")
        .bind(project_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for role in roles {
        sqlx::query("INSERT INTO user_roles (project_id, user_id, role) VALUES ($1, $2, $3)")
            .bind(project_id)
            .bind(user_id)
            .bind(role)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Sets a user's roles in both places (for role renames and deletions).
pub(crate) async fn store_roles(
    tx: &mut Transaction<'_, Any>,
    project_id: &str,
    user_id: &str,
    roles: &[String],
    now: &str,
) -> Result<()> {
    sqlx::query("UPDATE users SET roles = $1, updated_at = $2 WHERE project_id = $3 AND id = $4")
        .bind(serde_json::to_string(roles).expect("strings serialize"))
        .bind(now)
        .bind(project_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    write_roles(tx, project_id, user_id, roles).await
}

/// A unique violation names the email or the external id; anything else is ours.
pub(super) fn unique_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let (field, what) = if db.message().contains("external_user_id") {
                ("externalUserId", "externalUserId")
            } else {
                ("email", "email")
            };
            Error::ConflictWith {
                message: format!("another user of this project has this {what}"),
                details: serde_json::json!({ "field": field }),
            }
        }
        _ => e.into(),
    }
}

/// Inserts a new user with its roles.
pub(super) async fn insert(tx: &mut Transaction<'_, Any>, u: &User, password_hash: Option<&str>) -> Result<()> {
    sqlx::query(&format!("INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)"))
        .bind(&u.id)
        .bind(&u.project_id)
        .bind(&u.email)
        .bind(&u.phone)
        .bind(password_hash)
        .bind(serde_json::to_string(&u.roles).expect("strings serialize"))
        .bind(&u.status)
        .bind(&u.external_user_id)
        .bind(u.metadata.to_string())
        .bind(u.push_tokens.to_string())
        .bind(time::to_db(u.created_at))
        .execute(&mut **tx)
        .await
        .map_err(unique_error)?;
    write_roles(tx, &u.project_id, &u.id, &u.roles).await
}

/// Writes only `columns` of `u` (and `updated_at`), so concurrent changes to other fields survive.
pub(super) async fn update(
    tx: &mut Transaction<'_, Any>,
    u: &User,
    password_hash: Option<&str>,
    columns: &[&'static str],
) -> Result<()> {
    let mut values: Vec<Option<String>> = Vec::with_capacity(columns.len() + 1);
    for c in columns {
        values.push(match *c {
            "email" => u.email.clone(),
            "phone" => u.phone.clone(),
            "password_hash" => password_hash.map(str::to_string),
            "roles" => Some(serde_json::to_string(&u.roles).expect("strings serialize")),
            "status" => Some(u.status.clone()),
            "external_user_id" => u.external_user_id.clone(),
            "metadata" => Some(u.metadata.to_string()),
            "push_tokens" => Some(u.push_tokens.to_string()),
            other => return Err(Error::internal(format!("not a user column: {other}"))),
        });
    }
    values.push(Some(time::to_db(u.updated_at)));
    let set = columns
        .iter()
        .chain(std::iter::once(&"updated_at"))
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let n = values.len();
    let sql = format!("UPDATE users SET {set} WHERE project_id = ${} AND id = ${}", n + 1, n + 2);
    let mut q = sqlx::query(&sql);
    for v in values {
        q = q.bind(v);
    }
    q.bind(&u.project_id).bind(&u.id).execute(&mut **tx).await.map_err(unique_error)?;
    if columns.contains(&"roles") {
        write_roles(tx, &u.project_id, &u.id, &u.roles).await?;
    }
    Ok(())
}

/// After a change that took an active admin away: the project must keep one, or nobody could
/// manage it any more.
/// Concurrent changes to a project's admins queue on the project's row, so each counts what the
/// others committed.
pub(super) async fn keep_an_admin(
    tx: &mut Transaction<'_, Any>,
    backend: crate::db::Backend,
    project_id: &str,
    was_active_admin: bool,
) -> Result<()> {
    if !was_active_admin {
        return Ok(());
    }
    sqlx::query(&format!("SELECT id FROM projects WHERE id = $1{}", crate::db::dialect::for_update(backend)))
        .bind(project_id)
        .fetch_optional(&mut **tx)
        .await?;
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM user_roles ur JOIN users u ON u.id = ur.user_id \
         WHERE ur.project_id = $1 AND ur.role = $2 AND u.project_id = $1 AND u.status = 'active'",
    )
    .bind(project_id)
    .bind(ADMIN_ROLE)
    .fetch_one(&mut **tx)
    .await?;
    if left == 0 {
        return Err(Error::Conflict("the project must keep at least one active admin".into()));
    }
    Ok(())
}
