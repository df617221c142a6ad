//! Counts of notifications created, delivered and acknowledged, by rule and by day.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::auth::{Permission, Tenant};
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time;

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    pub since: Option<String>,
    pub until: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub created: i64,
    pub delivered: i64,
    pub acknowledged: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub totals: Counts,
    pub by_rule: Vec<serde_json::Value>,
    pub by_day: Vec<serde_json::Value>,
}

/// `acknowledged` counts notifications at least one recipient acknowledged. Days are UTC.
pub async fn stats(svc: &Services, t: &Tenant, q: StatsQuery) -> Result<Stats> {
    t.require(Permission::NotificationsRead)?;
    let parse = |field: &str, v: &Option<String>| -> Result<Option<String>> {
        v.as_deref()
            .map(|s| {
                time::parse_client(s).map(time::to_db).ok_or_else(|| Error::field(field, "must be an RFC 3339 time"))
            })
            .transpose()
    };
    let since = parse("since", &q.since)?.unwrap_or_else(|| "0000".into());
    let until = parse("until", &q.until)?.unwrap_or_else(|| "9999".into());
    let rows = sqlx::query(
        "SELECT n.rule_id, SUBSTR(n.created_at, 1, 10) AS day, COUNT(*) AS created, CAST(SUM(n.delivered) AS BIGINT) AS delivered, \
         CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM notification_recipients r WHERE r.notification_id = n.id \
         AND r.acknowledged_at IS NOT NULL) THEN 1 ELSE 0 END) AS BIGINT) AS acknowledged \
         FROM notifications n WHERE n.project_id = $1 AND n.created_at >= $2 AND n.created_at < $3 \
         GROUP BY n.rule_id, SUBSTR(n.created_at, 1, 10) ORDER BY 2, 1",
    )
    .bind(t.project_id())
    .bind(since)
    .bind(until)
    .fetch_all(svc.db.pool())
    .await?;
    let mut totals = Counts::default();
    let mut by_rule: std::collections::BTreeMap<String, Counts> = Default::default();
    let mut by_day: std::collections::BTreeMap<String, Counts> = Default::default();
    for r in rows {
        let rule: String = r.get("rule_id");
        let day: String = r.get("day");
        let c = Counts {
            created: r.get::<i64, _>("created"),
            delivered: number(&r, "delivered"),
            acknowledged: number(&r, "acknowledged"),
        };
        for target in [&mut totals, by_rule.entry(rule).or_default(), by_day.entry(day).or_default()] {
            target.created += c.created;
            target.delivered += c.delivered;
            target.acknowledged += c.acknowledged;
        }
    }
    let flat = |key: &str, (k, c): (String, Counts)| serde_json::json!({ key: k, "created": c.created, "delivered": c.delivered, "acknowledged": c.acknowledged });
    Ok(Stats {
        totals,
        by_rule: by_rule.into_iter().map(|e| flat("ruleId", e)).collect(),
        by_day: by_day.into_iter().map(|e| flat("day", e)).collect(),
    })
}

/// A sum, cast to BIGINT in SQL so both backends answer an integer.
fn number(r: &sqlx::any::AnyRow, col: &str) -> i64 {
    r.try_get::<Option<i64>, _>(col).ok().flatten().unwrap_or(0)
}
