//! Metered overage: for each project on a paid plan whose policy is `bill` and whose subscription
//! has the metered item, the events past this month's quota not yet reported are sent to Stripe
//! as a usage record. The idempotency key names the month and the running total, so a report
//! retried (or made by two processes at once) counts once.

use crate::error::Result;
use crate::services::Services;
use crate::time;

pub(super) async fn report(svc: &Services) -> Result<()> {
    let Some(client) = svc.stripe.as_ref() else { return Ok(()) };
    let period = crate::usage::month(time::now());
    let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT p.id, p.subscription_item_id, p.quota_events_per_month, u.events_received, u.overage_reported \
         FROM projects p JOIN usage_metrics u ON u.project_id = p.id AND u.period = $1 AND u.period_type = 'monthly' \
         WHERE p.overage = 'bill' AND p.plan <> 'free' AND p.subscription_item_id IS NOT NULL \
         AND p.quota_events_per_month IS NOT NULL AND u.events_received > p.quota_events_per_month + u.overage_reported",
    )
    .bind(&period)
    .fetch_all(svc.db.pool())
    .await?;
    for (project_id, item, limit, events, reported) in rows {
        let over = events - limit;
        let key = format!("overage-{project_id}-{period}-{over}");
        client.report_usage(&item, over - reported, &key).await?;
        sqlx::query(
            "UPDATE usage_metrics SET overage_reported = $1 WHERE project_id = $2 AND period = $3 \
             AND period_type = 'monthly' AND overage_reported < $1",
        )
        .bind(over)
        .bind(&project_id)
        .bind(&period)
        .execute(svc.db.pool())
        .await?;
        tracing::info!(project.id = %project_id, quantity = over - reported, "overage reported to Stripe");
    }
    Ok(())
}
