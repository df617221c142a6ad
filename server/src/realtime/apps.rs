//! A short-lived cache of realtime apps by key and by app id, so a reconnect storm or a burst of
//! HTTP API calls does not become one database read (and one decryption) per request. Changes
//! made elsewhere (a suspended project, a rotated secret) apply within the cache's lifetime.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use domain::realtime::{self, RealtimeApp};
use domain::Services;

/// Entries kept at most; past it the cache starts over rather than grow with junk keys.
const MAX_ENTRIES: usize = 10_000;

struct Cached {
    at: Instant,
    app: Option<Arc<RealtimeApp>>,
}

pub(crate) struct AppCache {
    ttl: Duration,
    by_key: DashMap<String, Cached>,
    by_id: DashMap<String, Cached>,
}

impl AppCache {
    pub fn new(ttl: Duration) -> Self {
        AppCache { ttl, by_key: DashMap::new(), by_id: DashMap::new() }
    }

    /// The app a publishable key names (see [`realtime::app_for_key`]).
    pub async fn by_key(&self, svc: &Services, key: &str) -> domain::Result<Option<Arc<RealtimeApp>>> {
        if key.is_empty() || key.len() > 100 {
            return Ok(None);
        }
        if let Some(hit) = self.fresh(&self.by_key, key) {
            return Ok(hit);
        }
        let app = realtime::app_for_key(svc, key).await?.map(Arc::new);
        Self::put(&self.by_key, key, app.clone());
        Ok(app)
    }

    /// The app an app id names (see [`realtime::app_for_id`]).
    pub async fn by_id(&self, svc: &Services, app_id: &str) -> domain::Result<Option<Arc<RealtimeApp>>> {
        if let Some(hit) = self.fresh(&self.by_id, app_id) {
            return Ok(hit);
        }
        let app = realtime::app_for_id(svc, app_id).await?.map(Arc::new);
        Self::put(&self.by_id, app_id, app.clone());
        Ok(app)
    }

    /// Drops a project's entries at once, after its credentials changed in this process.
    pub fn forget(&self, project_id: &str) {
        let keep = |_: &String, c: &mut Cached| c.app.as_ref().is_none_or(|a| a.project_id != project_id);
        self.by_key.retain(keep);
        self.by_id.retain(keep);
    }

    fn fresh(&self, map: &DashMap<String, Cached>, k: &str) -> Option<Option<Arc<RealtimeApp>>> {
        map.get(k).filter(|c| c.at.elapsed() < self.ttl).map(|c| c.app.clone())
    }

    fn put(map: &DashMap<String, Cached>, k: &str, app: Option<Arc<RealtimeApp>>) {
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(k.to_string(), Cached { at: Instant::now(), app });
    }
}
