//! Per-key request rates by plan (or the project's `rateLimitPerSecond`), with `governor`. The
//! limit is per process: behind a load balancer spreading keys over N processes a key may make
//! up to N times its rate (docs/PLANS.md).

use std::num::NonZeroU32;
use std::sync::Arc;

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::error::{Error, Result};

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// What the `RateLimit-*` headers say after an allowed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateStatus {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the budget is whole again.
    pub reset_secs: u64,
}

#[derive(Default)]
pub struct RateLimits {
    keys: DashMap<String, (u32, Arc<Limiter>)>,
}

impl RateLimits {
    /// Takes one request from the key's budget of `per_second` (also the burst); `None` is no
    /// limit. Refuses with 429 `rate_limited` when the budget is spent.
    pub fn check(&self, key_id: &str, per_second: Option<u32>) -> Result<Option<RateStatus>> {
        let Some(limit) = per_second.and_then(NonZeroU32::new) else { return Ok(None) };
        let limiter = match self.keys.get(key_id) {
            Some(e) if e.0 == limit.get() => e.1.clone(),
            _ => {
                let l = Arc::new(
                    RateLimiter::direct(Quota::per_second(limit)).with_middleware::<StateInformationMiddleware>(),
                );
                self.keys.insert(key_id.to_string(), (limit.get(), l.clone()));
                l
            }
        };
        match limiter.check() {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = limit.get() - remaining.min(limit.get());
                // Each spent request comes back after 1/limit s.
                let reset_secs = u64::from(used).div_ceil(u64::from(limit.get()));
                Ok(Some(RateStatus { limit: limit.get(), remaining, reset_secs }))
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(Error::KeyRateLimited {
                    limit: limit.get(),
                    retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_rate_then_a_wait() {
        let r = RateLimits::default();
        for i in 0..3 {
            let s = r.check("k", Some(3)).unwrap().unwrap();
            assert_eq!(s.remaining, 2 - i);
        }
        let e = r.check("k", Some(3)).unwrap_err();
        assert!(matches!(e, Error::KeyRateLimited { limit: 3, retry_after_secs: 1 }));
        assert!(r.check("other", Some(3)).is_ok());
        assert_eq!(r.check("k", None).unwrap(), None);
    }
}
