//! A short-lived, bounded cache of realtime apps by key and by app id, so a reconnect storm or a
//! burst of HTTP API calls does not become one database read (and one decryption) per request.
//! Changes made elsewhere (a rotated secret) apply within the cache's lifetime; a suspended project
//! or a revoked key is checked on every lookup against the (shorter-lived, at once forgotten in
//! this process) authentication state.

use std::sync::Arc;
use std::time::Duration;

use domain::auth::lru::TtlLru;
use domain::realtime::{self, RealtimeApp};
use domain::Services;

/// Entries kept at most per map; the least recently used go first, so junk ids cannot push out
/// the apps in use all at once.
const MAX_ENTRIES: usize = 10_000;

pub(crate) struct AppCache {
    by_key: TtlLru<String, Option<Arc<RealtimeApp>>>,
    by_id: TtlLru<String, Option<Arc<RealtimeApp>>>,
}

impl AppCache {
    pub fn new(ttl: Duration) -> Self {
        AppCache { by_key: TtlLru::new(MAX_ENTRIES, ttl), by_id: TtlLru::new(MAX_ENTRIES, ttl) }
    }

    /// The app a publishable key names (see [`realtime::app_for_key`]), while the project is
    /// active and the key valid. Malformed keys are refused before any lookup.
    pub async fn by_key(&self, svc: &Services, key: &str) -> domain::Result<Option<Arc<RealtimeApp>>> {
        if !domain::auth::well_formed_key(key) {
            return Ok(None);
        }
        let app = match self.by_key.get(key) {
            Some(hit) => hit,
            None => {
                let app = realtime::app_for_key(svc, key).await?.map(Arc::new);
                self.by_key.put(key.to_string(), app.clone());
                app
            }
        };
        match app {
            Some(a) if realtime::still_usable(svc, &a.project_id, key).await? => Ok(Some(a)),
            _ => Ok(None),
        }
    }

    /// The app an app id names (see [`realtime::app_for_id`]). Ids that are not all digits are
    /// refused before any lookup.
    pub async fn by_id(&self, svc: &Services, app_id: &str) -> domain::Result<Option<Arc<RealtimeApp>>> {
        if app_id.is_empty() || app_id.len() > 20 || !app_id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let app = match self.by_id.get(app_id) {
            Some(hit) => hit,
            None => {
                let app = realtime::app_for_id(svc, app_id).await?.map(Arc::new);
                self.by_id.put(app_id.to_string(), app.clone());
                app
            }
        };
        match app {
            Some(a) if realtime::project_active(svc, &a.project_id).await? => Ok(Some(a)),
            _ => Ok(None),
        }
    }

    /// Drops a project's entries at once, after its credentials changed in this process.
    pub fn forget(&self, project_id: &str) {
        let of_project = |a: &Option<Arc<RealtimeApp>>| a.as_ref().is_some_and(|a| a.project_id == project_id);
        self.by_key.remove_where(of_project);
        self.by_id.remove_where(of_project);
    }
}
