//! The audit log: one row for each change made through the API or the panels (SPEC §4.6),
//! queried and exported by a project's admins (`query`), kept for `AUDIT_RETENTION_DAYS`
//! (`retention`).

pub mod query;
pub mod retention;

use crate::auth::{PlatformAdminCtx, PublicProject, Tenant};
use crate::error::Result;
use crate::services::Services;
use crate::time;

pub use query::{AuditLog, AuditQuery};

/// Where a request came from, as the audit log keeps it.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One change, before it is written.
pub struct AuditEntry<'a> {
    project_id: Option<&'a str>,
    actor_type: &'static str,
    actor_id: Option<&'a str>,
    action: &'static str,
    resource_type: &'static str,
    resource_id: Option<&'a str>,
    metadata: serde_json::Value,
    meta: &'a RequestMeta,
}

impl<'a> AuditEntry<'a> {
    /// A change inside a project by its tenant.
    pub fn tenant(
        t: &'a Tenant,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<&'a str>,
        meta: &'a RequestMeta,
    ) -> Self {
        let (actor_type, actor_id) = t.audit_actor();
        AuditEntry {
            project_id: Some(t.project_id()),
            actor_type,
            actor_id: Some(actor_id),
            action,
            resource_type,
            resource_id,
            metadata: serde_json::Value::Object(Default::default()),
            meta,
        }
    }

    /// A change by platform staff; `project_id` when it concerns one project.
    pub fn platform(
        by: &'a PlatformAdminCtx,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<&'a str>,
        meta: &'a RequestMeta,
    ) -> Self {
        AuditEntry {
            project_id: None,
            actor_type: "platform_admin",
            actor_id: Some(by.admin_id()),
            action,
            resource_type,
            resource_id,
            metadata: serde_json::Value::Object(Default::default()),
            meta,
        }
    }

    /// A change inside a project asked for with its publishable key alone (self-registration).
    pub fn public(
        p: &'a PublicProject,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<&'a str>,
        meta: &'a RequestMeta,
    ) -> Self {
        AuditEntry {
            project_id: Some(p.project_id()),
            actor_type: "publishable_key",
            actor_id: Some(p.key_id()),
            action,
            resource_type,
            resource_id,
            metadata: serde_json::Value::Object(Default::default()),
            meta,
        }
    }

    /// A change the platform made by itself (the billing sweeper, a Stripe event).
    pub fn system(
        actor_id: &'static str,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<&'a str>,
        meta: &'a RequestMeta,
    ) -> Self {
        AuditEntry {
            project_id: None,
            actor_type: "system",
            actor_id: Some(actor_id),
            action,
            resource_type,
            resource_id,
            metadata: serde_json::Value::Object(Default::default()),
            meta,
        }
    }

    pub fn in_project(mut self, project_id: &'a str) -> Self {
        self.project_id = Some(project_id);
        self
    }

    pub fn with_metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = metadata;
        self
    }
}

pub async fn record(svc: &Services, e: AuditEntry<'_>) -> Result<()> {
    record_with(svc.db.pool(), e).await
}

/// Writes the audit row through `ex`: pass the change's own transaction, so that the change and
/// its audit row commit together or not at all (docs/ARCHITECTURE.md, "Side effects").
/// [`record_with`] on the caller's transaction (`&mut *tx`).
pub async fn record_in(conn: &mut sqlx::AnyConnection, e: AuditEntry<'_>) -> Result<()> {
    record_with(conn, e).await
}

pub async fn record_with<'e, E>(ex: E, e: AuditEntry<'_>) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_logs (id, project_id, actor_type, actor_id, action, resource_type, resource_id, \
         metadata, ip_address, user_agent, timestamp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(e.project_id)
    .bind(e.actor_type)
    .bind(e.actor_id)
    .bind(e.action)
    .bind(e.resource_type)
    .bind(e.resource_id)
    .bind(e.metadata.to_string())
    .bind(e.meta.ip.as_deref())
    .bind(e.meta.user_agent.as_deref().map(|s| s.chars().take(500).collect::<String>()))
    .bind(time::to_db(time::now()))
    .execute(ex)
    .await?;
    Ok(())
}
