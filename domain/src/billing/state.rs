//! A project's billing state and its changes: plan (and with it the quotas not overridden),
//! subscription mirror, `past_due` with a grace period, suspension and reactivation. Every change
//! writes its audit row in the caller's transaction.

use crate::audit::{self, AuditEntry, RequestMeta};
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time::{self, Timestamp};

/// What a Stripe event changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct Change {
    pub customer: Option<String>,
    pub subscription_id: Option<Option<String>>,
    pub subscription_status: Option<Option<String>>,
    pub subscription_item_id: Option<Option<String>>,
    pub current_period_end: Option<Option<Timestamp>>,
    pub plan: Option<String>,
    /// Paid: a `past_due` or billing-suspended project is active again.
    pub reactivate: bool,
    /// A payment failed: an active project becomes `past_due` with a grace period.
    pub payment_failed: bool,
}

pub(crate) async fn apply(
    conn: &mut sqlx::AnyConnection,
    svc: &Services,
    project_id: &str,
    c: Change,
    actor: &str,
) -> Result<()> {
    let mut p = load_in(conn, project_id).await?;
    let before = (p.plan.clone(), p.status.clone(), p.subscription_status.clone());
    if let Some(customer) = c.customer {
        p.stripe_customer_id = Some(customer);
    }
    if let Some(s) = c.subscription_id {
        p.subscription_id = s;
    }
    if let Some(s) = c.subscription_status {
        p.subscription_status = s;
    }
    if let Some(s) = c.subscription_item_id {
        p.subscription_item_id = s;
    }
    if let Some(t) = c.current_period_end {
        p.current_period_end = t;
    }
    if c.reactivate && (p.status == "past_due" || (p.status == "suspended" && p.grace_until.is_some())) {
        p.status = "active".into();
        p.grace_until = None;
    }
    if c.payment_failed && p.status == "active" {
        p.status = "past_due".into();
        let grace = chrono::Duration::from_std(svc.settings.billing.grace).unwrap_or(chrono::Duration::days(7));
        p.grace_until = Some(time::now() + grace);
    }
    if let Some(plan) = c.plan {
        set_plan(&mut p, &plan);
    }
    sqlx::query(
        "UPDATE projects SET plan = $1, status = $2, stripe_customer_id = $3, subscription_id = $4, subscription_status = $5, \
         subscription_item_id = $6, current_period_end = $7, grace_until = $8, quota_events_per_month = $9, \
         quota_notifications_per_month = $10, quota_users = $11, quota_rules = $12, quota_sounds = $13, updated_at = $14 \
         WHERE id = $15",
    )
    .bind(&p.plan)
    .bind(&p.status)
    .bind(&p.stripe_customer_id)
    .bind(&p.subscription_id)
    .bind(&p.subscription_status)
    .bind(&p.subscription_item_id)
    .bind(p.current_period_end.map(time::to_db))
    .bind(p.grace_until.map(time::to_db))
    .bind(p.quotas.events_per_month)
    .bind(p.quotas.notifications_per_month)
    .bind(p.quotas.users)
    .bind(p.quotas.rules)
    .bind(p.quotas.sounds)
    .bind(time::to_db(time::now()))
    .bind(&p.id)
    .execute(&mut *conn)
    .await?;
    let after = (p.plan.clone(), p.status.clone(), p.subscription_status.clone());
    if before != after {
        let meta = RequestMeta::default();
        let entry = AuditEntry::system("billing", "billing.update", "project", Some(project_id), &meta)
            .in_project(project_id)
            .with_metadata(serde_json::json!({
                "by": actor, "plan": {"from": before.0, "to": after.0}, "status": {"from": before.1, "to": after.1},
                "subscriptionStatus": after.2, "graceUntil": p.grace_until,
            }));
        audit::record_in(conn, entry).await?;
    }
    Ok(())
}

/// Changes the plan and with it every quota staff did not override.
pub(crate) fn set_plan(p: &mut crate::projects::Project, plan: &str) {
    p.plan = plan.to_string();
    p.quotas = crate::plans::effective(plan, &p.quota_overrides);
}

pub(crate) async fn load_in(conn: &mut sqlx::AnyConnection, project_id: &str) -> Result<crate::projects::Project> {
    let row: crate::projects::ProjectRow =
        sqlx::query_as(&format!("SELECT {} FROM projects WHERE id = $1", crate::projects::COLUMNS))
            .bind(project_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(Error::NotFound)?;
    Ok(row.into())
}

/// Suspends every `past_due` project whose grace ran out; answers how many. Cross-project by
/// nature (a platform job, not reachable from a request).
pub async fn suspend_overdue(svc: &Services) -> Result<usize> {
    let now = time::to_db(time::now());
    let due: Vec<String> =
        sqlx::query_scalar("SELECT id FROM projects WHERE status = 'past_due' AND grace_until <= $1")
            .bind(&now)
            .fetch_all(svc.db.pool())
            .await?;
    let mut suspended = 0;
    for id in due {
        let mut tx = svc.db.begin_write().await?;
        let won = sqlx::query(
            "UPDATE projects SET status = 'suspended', updated_at = $1 WHERE id = $2 AND status = 'past_due' AND grace_until <= $1",
        )
        .bind(&now)
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if won {
            let meta = RequestMeta::default();
            let entry = AuditEntry::system("billing", "project.suspend", "project", Some(&id), &meta)
                .in_project(&id)
                .with_metadata(serde_json::json!({"reason": "payment overdue past the grace period"}));
            audit::record_in(&mut tx, entry).await?;
        }
        tx.commit().await?;
        if won {
            crate::projects::forget(svc, &id);
            tracing::info!(project.id = %id, "suspended: payment overdue past the grace period");
            suspended += 1;
        }
    }
    Ok(suspended)
}
