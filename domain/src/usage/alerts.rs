//! The 80% and 100% warnings of a monthly quota, once per quota and period: a `quota.warning` /
//! `quota.exceeded` webhook (when the project has one subscribed) and a mail to the billing
//! email, both written in the transaction that counted the use that crossed the line.

use crate::error::Result;
use crate::time::{self, Timestamp};

/// What [`check`] queued, so the caller wakes the senders after committing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Queued {
    pub webhook: bool,
    pub mail: bool,
}

impl Queued {
    pub fn merge(&mut self, o: Queued) {
        self.webhook |= o.webhook;
        self.mail |= o.mail;
    }

    /// Wakes the webhook and mail senders for what was queued.
    pub fn wake(self, svc: &crate::Services) {
        if self.webhook {
            svc.webhook_wake.ring();
        }
        if self.mail {
            svc.mailer.wake();
        }
    }
}

/// One quota's use moving from `before` to `after` (of `limit`) in the month holding `at`;
/// `refused` when some use was turned away at the limit.
pub struct Crossing<'a> {
    pub project_id: &'a str,
    pub quota: &'static str,
    pub limit: i64,
    pub before: i64,
    pub after: i64,
    pub refused: bool,
    pub at: Timestamp,
}

const LEVELS: [(&str, i64, &str); 2] = [("warning", 80, "quota.warning"), ("exceeded", 100, "quota.exceeded")];

/// Sends each warning whose line this change crossed and that was not sent yet this period.
pub async fn check(conn: &mut sqlx::AnyConnection, c: &Crossing<'_>) -> Result<Queued> {
    let mut queued = Queued::default();
    if c.limit <= 0 {
        return Ok(queued);
    }
    for (level, percent, event) in LEVELS {
        // The first use at or past the line: 80% of 1000 is the 800th event.
        let line = (c.limit * percent + 99) / 100;
        let crossed = c.before < line && c.after >= line;
        if !(crossed || (c.refused && level == "exceeded")) {
            continue;
        }
        let period = super::month(c.at);
        let fresh = sqlx::query(
            "INSERT INTO quota_alerts (project_id, quota, period, level, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (project_id, quota, period, level) DO NOTHING",
        )
        .bind(c.project_id)
        .bind(c.quota)
        .bind(&period)
        .bind(level)
        .bind(time::to_db(time::now()))
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            continue;
        }
        let used = c.after.max(if c.refused { c.limit } else { 0 });
        let resets_at = super::month_resets_at(c.at);
        let data = serde_json::json!({
            "quota": c.quota, "limit": c.limit, "used": used, "percent": percent, "period": period,
            "resetsAt": resets_at,
        });
        queued.webhook |= crate::webhooks::emit::queue_in(conn, c.project_id, event, data).await?;
        queued.mail |= mail(conn, c, percent, used, resets_at).await?;
        tracing::info!(project.id = c.project_id, quota = c.quota, level, "quota warning sent");
    }
    Ok(queued)
}

async fn mail(
    conn: &mut sqlx::AnyConnection,
    c: &Crossing<'_>,
    percent: i64,
    used: i64,
    resets_at: Timestamp,
) -> Result<bool> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT p.name, COALESCE(p.billing_email, u.email) FROM projects p LEFT JOIN users u \
         ON u.id = p.owner_id AND u.project_id = p.id WHERE p.id = $1",
    )
    .bind(c.project_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((name, Some(to))) = row else { return Ok(false) };
    let what = match c.quota {
        "eventsPerMonth" => "events",
        "notificationsPerMonth" => "notifications",
        other => other,
    };
    let subject = if percent >= 100 {
        format!("{name}: the monthly {what} quota is used up")
    } else {
        format!("{name}: {percent}% of the monthly {what} quota used")
    };
    let body = format!(
        "Your project {name} has used {used} of its {limit} {what} this month ({percent}%).\n\
         The quota starts again on {reset}.{tail}\n",
        limit = c.limit,
        reset = resets_at.format("%Y-%m-%d %H:%M UTC"),
        tail = if percent >= 100 {
            " Until then, what goes past it is refused unless the plan bills overage."
        } else {
            ""
        },
    );
    crate::mail::Mailer::enqueue_with(&mut *conn, &to, &subject, &body).await?;
    Ok(true)
}
