//! Each project's active rules, in evaluation order, with the texts the rule sandbox runs.
//! Refreshed at once in this process when a rule changes, and at most `ttl` late in other
//! processes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::sandbox::RuleText;
use super::{Rule, RuleRow, COLUMNS};
use crate::db::Db;
use crate::error::Result;

/// A project's active rules, highest priority first; `texts[i]` is `rules[i]`'s.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub texts: Vec<RuleText>,
}

struct Entry {
    loaded: Instant,
    rules: Arc<RuleSet>,
}

pub struct RuleCache {
    ttl: Duration,
    entries: DashMap<String, Entry>,
}

impl RuleCache {
    pub fn new(ttl: Duration) -> Self {
        RuleCache { ttl, entries: DashMap::new() }
    }

    /// The project's active rules, highest priority first.
    pub async fn active(&self, db: &Db, project_id: &str) -> Result<Arc<RuleSet>> {
        if let Some(e) = self.entries.get(project_id) {
            if e.loaded.elapsed() < self.ttl {
                return Ok(e.rules.clone());
            }
        }
        let rows: Vec<RuleRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM rules WHERE project_id = $1 AND active = 1 ORDER BY priority DESC, created_at, id"
        ))
        .bind(project_id)
        .fetch_all(db.pool())
        .await?;
        let rules: Vec<Rule> = rows.into_iter().map(Rule::from).collect();
        let texts = rules.iter().map(Rule::text).collect();
        let rules = Arc::new(RuleSet { rules, texts });
        self.entries.insert(project_id.to_string(), Entry { loaded: Instant::now(), rules: rules.clone() });
        Ok(rules)
    }

    pub fn forget(&self, project_id: &str) {
        self.entries.remove(project_id);
    }
}
