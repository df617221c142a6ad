//! A project's notification sounds (SPEC §5.9, docs/SOUNDS.md): uploaded once, proven to be
//! audio by decoding, served without credentials from a URL that never changes its bytes (a new
//! upload is a new id), named by rules, and carried by notifications as `sound` + `soundUrl`.

pub mod probe;
pub mod store;

use bytes::Bytes;
use serde::Serialize;

use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::{Permission, Tenant};
use crate::error::{Error, OnConstraint, Result};
use crate::page::{Cursor, Page, PageRequest};
use crate::services::Services;
use crate::time::{self, Timestamp};
use crate::validate;

pub use store::SoundStore;

/// The largest upload: 1 MiB.
pub const MAX_BYTES: usize = 1024 * 1024;
/// The longest sound: 30 s, the most iOS plays for a notification.
pub const MAX_DURATION_MS: i64 = 30_000;
/// What a sound's name may be, as validation errors say it.
pub const NAME_RULE: &str = "must be 1 to 64 of a-z, 0-9 and _ (the name apps bundle the sound under)";

/// 1 to 64 of `a-z`, `0-9` and `_`: what Android allows as a raw resource name, so an app can
/// bundle the file under the sound's own name.
pub fn valid_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sound {
    pub id: String,
    pub name: String,
    /// What the bytes decoded as: wav, mp3, ogg, aiff or caf.
    pub format: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub duration_ms: i64,
    pub sample_rate: i64,
    pub channels: i64,
    /// `{name}.{format}`: the file name an app bundles it under (APNs plays it by this name).
    pub file_name: String,
    /// Public, no credentials; the bytes behind it never change.
    pub url: String,
    pub created_at: Timestamp,
    #[serde(skip)]
    pub(crate) storage_key: String,
    #[serde(skip)]
    pub sha256: String,
}

#[derive(sqlx::FromRow)]
struct SoundRow {
    id: String,
    project_id: String,
    name: String,
    format: String,
    content_type: String,
    size_bytes: i64,
    duration_ms: i64,
    sample_rate: i64,
    channels: i64,
    sha256: String,
    storage_key: String,
    created_at: String,
}

const COLUMNS: &str = "id, project_id, name, format, content_type, size_bytes, duration_ms, sample_rate, channels, \
    sha256, storage_key, created_at";

impl SoundRow {
    fn into_sound(self, svc: &Services) -> Sound {
        Sound {
            url: url_of(svc, &self.project_id, &self.id, &self.format),
            file_name: format!("{}.{}", self.name, self.format),
            id: self.id,
            name: self.name,
            format: self.format,
            content_type: self.content_type,
            size_bytes: self.size_bytes,
            duration_ms: self.duration_ms,
            sample_rate: self.sample_rate,
            channels: self.channels,
            created_at: time::from_db(&self.created_at),
            storage_key: self.storage_key,
            sha256: self.sha256,
        }
    }
}

impl Sound {
    /// Where the bytes are in the [`SoundStore`].
    pub fn storage_key(&self) -> &str {
        &self.storage_key
    }
}

/// The public URL of a sound's bytes: `{PUBLIC_URL}/media/sounds/{projectId}/{id}.{format}`.
pub fn url_of(svc: &Services, project_id: &str, id: &str, format: &str) -> String {
    format!("{}/media/sounds/{project_id}/{id}.{format}", svc.settings.public_url.trim_end_matches('/'))
}

/// An upload as the multipart form gave it.
pub struct Upload {
    pub name: Option<String>,
    /// The file part's own name, used for the sound's name when `name` is left out.
    pub file_name: Option<String>,
    pub bytes: Bytes,
}

/// The sound's name when the form gives none: the file's name without its extension,
/// lower-cased, other characters as `_`.
fn name_from_file(file_name: &str) -> String {
    let stem = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
    stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(64).collect()
}

pub async fn create(svc: &Services, t: &Tenant, upload: Upload, meta: &RequestMeta) -> Result<Sound> {
    t.require(Permission::RulesManage)?;
    let name = upload
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .or_else(|| upload.file_name.as_deref().map(name_from_file))
        .unwrap_or_default();
    if name.is_empty() {
        return Err(Error::field("name", "is required"));
    }
    if !valid_name(&name) {
        return Err(Error::field("name", NAME_RULE));
    }
    if upload.bytes.is_empty() {
        return Err(Error::field("file", "is required"));
    }
    if upload.bytes.len() > MAX_BYTES {
        return Err(Error::PayloadTooLarge);
    }
    crate::usage::quota::require_room(svc, t.project_id(), crate::usage::quota::Counted::Sounds, 1).await?;
    let bytes = upload.bytes;
    let decoded = {
        let bytes = bytes.clone();
        tokio::task::spawn_blocking(move || probe::probe(bytes, MAX_DURATION_MS)).await.map_err(Error::internal)??
    };
    let id = uuid::Uuid::new_v4().to_string();
    let format = decoded.format.extension();
    let storage_key = format!("{}/{id}.{format}", t.project_id());
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    svc.sounds.put(&storage_key, bytes.clone()).await?;
    let now = time::now();
    let inserted = sqlx::query(&format!(
        "INSERT INTO sounds ({COLUMNS}, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&id)
    .bind(t.project_id())
    .bind(&name)
    .bind(format)
    .bind(decoded.format.content_type())
    .bind(bytes.len() as i64)
    .bind(decoded.duration_ms)
    .bind(decoded.sample_rate as i64)
    .bind(decoded.channels as i64)
    .bind(&sha256)
    .bind(&storage_key)
    .bind(time::to_db(now))
    .bind(t.audit_actor().1)
    .execute(svc.db.pool())
    .await
    .on_unique(|| Error::Conflict(format!("a sound named {name} exists; delete it first or pick another name")));
    if let Err(e) = inserted {
        // The row is what makes a file exist; without it the bytes are garbage.
        let _ = svc.sounds.delete(&storage_key).await;
        return Err(e);
    }
    record_storage(svc, t.project_id()).await?;
    audit::record(
        svc,
        AuditEntry::tenant(t, "sound.create", "sound", Some(&id), meta).with_metadata(serde_json::json!({
            "name": name, "format": format, "sizeBytes": bytes.len(), "durationMs": decoded.duration_ms,
        })),
    )
    .await?;
    get(svc, t, &id).await
}

pub async fn get(svc: &Services, t: &Tenant, id: &str) -> Result<Sound> {
    t.require(Permission::RulesManage)?;
    let id = validate::id(id)?;
    find(svc, t.project_id(), &id).await?.ok_or(Error::NotFound)
}

async fn find(svc: &Services, project_id: &str, id: &str) -> Result<Option<Sound>> {
    let row: Option<SoundRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM sounds WHERE project_id = $1 AND id = $2"))
            .bind(project_id)
            .bind(id)
            .fetch_optional(svc.db.pool())
            .await?;
    Ok(row.map(|r| r.into_sound(svc)))
}

/// The project's sound called `name`, for a rule naming it.
pub(crate) async fn named(svc: &Services, project_id: &str, name: &str) -> Result<Option<Sound>> {
    let row: Option<SoundRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM sounds WHERE project_id = $1 AND name = $2"))
            .bind(project_id)
            .bind(name)
            .fetch_optional(svc.db.pool())
            .await?;
    Ok(row.map(|r| r.into_sound(svc)))
}

/// The project's sounds, newest first.
pub async fn list(svc: &Services, t: &Tenant, page: PageRequest) -> Result<Page<Sound>> {
    t.require(Permission::RulesManage)?;
    let (at, id) = page.keyset();
    let rows: Vec<SoundRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM sounds WHERE project_id = $1 AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind(t.project_id())
    .bind(at)
    .bind(id)
    .bind(page.fetch_limit())
    .fetch_all(svc.db.pool())
    .await?;
    let sounds = rows.into_iter().map(|r| r.into_sound(svc)).collect();
    Ok(Page::from_rows(sounds, page.limit, |s: &Sound| Cursor(format!("{}{}", time::to_db(s.created_at), s.id))))
}

/// Deletes a sound. While an active rule names it: 409 with the rules in `details`, unless
/// `force`, which also takes the sound off every rule naming it.
pub async fn delete(svc: &Services, t: &Tenant, id: &str, force: bool, meta: &RequestMeta) -> Result<()> {
    let sound = get(svc, t, id).await?;
    let mut tx = svc.db.begin_write().await?;
    let users: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT id, name, active FROM rules WHERE project_id = $1 AND sound = $2")
            .bind(t.project_id())
            .bind(&sound.name)
            .fetch_all(&mut *tx)
            .await?;
    let active: Vec<_> = users.iter().filter(|(_, _, a)| *a != 0).collect();
    if !active.is_empty() && !force {
        return Err(Error::ConflictWith {
            message: format!(
                "{} active rule(s) play {}; change them first or delete with ?force=true",
                active.len(),
                sound.name
            ),
            details: serde_json::json!({
                "rules": active.iter().map(|(id, name, _)| serde_json::json!({"id": id, "name": name})).collect::<Vec<_>>(),
            }),
        });
    }
    sqlx::query("UPDATE rules SET sound = NULL, sound_url = NULL WHERE project_id = $1 AND sound = $2")
        .bind(t.project_id())
        .bind(&sound.name)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sounds WHERE project_id = $1 AND id = $2")
        .bind(t.project_id())
        .bind(&sound.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if !users.is_empty() {
        svc.rules.forget(t.project_id());
    }
    svc.sounds.delete(&sound.storage_key).await?;
    record_storage(svc, t.project_id()).await?;
    audit::record(
        svc,
        AuditEntry::tenant(t, "sound.delete", "sound", Some(&sound.id), meta).with_metadata(serde_json::json!({
            "name": sound.name, "force": force, "rulesUpdated": users.len(),
        })),
    )
    .await?;
    Ok(())
}

/// The sound a public URL names: no credentials, so the project and id in the path are all
/// there is (an id is a random UUID). `file` is `{id}.{format}`; its bytes are in `svc.sounds`.
pub async fn for_serving(svc: &Services, project_id: &str, file: &str) -> Result<Sound> {
    let (id, ext) = file.rsplit_once('.').ok_or(Error::NotFound)?;
    let (Ok(project), Ok(id)) = (validate::id(project_id), validate::id(id)) else { return Err(Error::NotFound) };
    find(svc, &project, &id).await?.filter(|s| s.format == ext).ok_or(Error::NotFound)
}

/// The project's stored bytes now, written into the current day's and month's usage rows
/// (`storageUsedBytes` is a level, not a sum).
async fn record_storage(svc: &Services, project_id: &str) -> Result<()> {
    let bytes = stored_bytes(svc, project_id).await?;
    crate::usage::set_storage(&svc.db, project_id, time::now(), bytes).await
}

/// The bytes of the project's sounds: its `storageUsedBytes`.
pub(crate) async fn stored_bytes(svc: &Services, project_id: &str) -> Result<i64> {
    let bytes =
        sqlx::query_scalar("SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM sounds WHERE project_id = $1")
            .bind(project_id)
            .fetch_one(svc.db.pool())
            .await?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_what_apps_can_bundle() {
        assert!(valid_name("alarm_2"));
        assert!(!valid_name("Alarm") && !valid_name("a-b") && !valid_name("a.mp3") && !valid_name(""));
        assert!(!valid_name(&"a".repeat(65)));
        assert_eq!(name_from_file("C:\\sounds\\Cash Register.MP3"), "cash_register");
        assert_eq!(name_from_file("chime"), "chime");
    }
}
