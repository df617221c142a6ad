//! Each project's active rules, compiled, in evaluation order. Refreshed at once in this process
//! when a rule changes, and at most `ttl` late in other processes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::{compile, Rule, RuleRow, COLUMNS};
use crate::db::Db;
use crate::error::Result;

/// A rule ready to run.
pub struct CompiledRule {
    pub rule: Rule,
    pub program: cel::Program,
}

struct Entry {
    loaded: Instant,
    rules: Arc<Vec<CompiledRule>>,
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
    pub async fn active(&self, db: &Db, project_id: &str) -> Result<Arc<Vec<CompiledRule>>> {
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
        let rules: Vec<CompiledRule> = rows
            .into_iter()
            .map(Rule::from)
            .filter_map(|rule| match compile::condition(&rule.condition) {
                Ok(program) => Some(CompiledRule { rule, program }),
                // Saved rules compiled when saved; one that no longer does is skipped, not fatal.
                Err(_) => {
                    tracing::warn!(rule.id = %rule.id, "stored rule condition does not compile; skipped");
                    None
                }
            })
            .collect();
        let rules = Arc::new(rules);
        self.entries.insert(project_id.to_string(), Entry { loaded: Instant::now(), rules: rules.clone() });
        Ok(rules)
    }

    pub fn forget(&self, project_id: &str) {
        self.entries.remove(project_id);
    }
}
