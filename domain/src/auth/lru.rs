//! A small bounded cache with a time to live: at most `capacity` entries, the least recently used
//! evicted first, so lookups of values that do not exist (random keys from the internet) cannot
//! grow memory nor push the values in use out all at once.

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hashlink::LruCache;

pub struct TtlLru<K: Hash + Eq, V: Clone> {
    ttl: Duration,
    inner: Mutex<LruCache<K, (Instant, V)>>,
}

impl<K: Hash + Eq, V: Clone> TtlLru<K, V> {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        TtlLru { ttl, inner: Mutex::new(LruCache::new(capacity.max(1))) }
    }

    /// The value, when cached and younger than the time to live.
    pub fn get<Q>(&self, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match inner.get(k) {
            Some((at, v)) if at.elapsed() < self.ttl => Some(v.clone()),
            Some(_) => {
                inner.remove(k);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, k: K, v: V) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).insert(k, (Instant::now(), v));
    }

    pub fn remove<Q>(&self, k: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).remove(k);
    }

    /// Drops every entry whose value `drop` picks.
    pub fn remove_where(&self, drop: impl Fn(&V) -> bool)
    where
        K: Clone,
    {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let doomed: Vec<K> = inner.iter().filter(|(_, (_, v))| drop(v)).map(|(k, _)| k.clone()).collect();
        for k in doomed {
            inner.remove(&k);
        }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_capacity_and_evicts_the_least_recently_used() {
        let c: TtlLru<String, u32> = TtlLru::new(2, Duration::from_secs(60));
        c.put("a".into(), 1);
        c.put("b".into(), 2);
        assert_eq!(c.get("a"), Some(1));
        c.put("c".into(), 3);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get("b"), None);
        assert_eq!(c.get("a"), Some(1));
    }

    #[test]
    fn entries_expire() {
        let c: TtlLru<String, u32> = TtlLru::new(2, Duration::ZERO);
        c.put("a".into(), 1);
        assert_eq!(c.get("a"), None);
    }
}
