//! Login throttling: sign-in attempts per client address, and failed sign-ins per account. Past
//! either budget a sign-in is refused with 429 (and `Retry-After`) before any password is
//! checked, so a flood costs no argon2 work and guessing one account's password from many
//! addresses is slowed down as much as from one. Self-service sign-ups are limited per client
//! address here too.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Instant;

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::{Error, Result};

pub struct LoginThrottle {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    failures: DefaultKeyedRateLimiter<String>,
    locked_until: DashMap<String, Instant>,
    signups: DefaultKeyedRateLimiter<IpAddr>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).expect("non-zero"))
}

impl LoginThrottle {
    pub fn new(attempts_per_address: u32, failures_per_account: u32, signups_per_hour: u32) -> Self {
        LoginThrottle {
            per_address: RateLimiter::keyed(per_minute(attempts_per_address)),
            failures: RateLimiter::keyed(per_minute(failures_per_account)),
            locked_until: DashMap::new(),
            signups: RateLimiter::keyed(Quota::per_hour(NonZeroU32::new(signups_per_hour.max(1)).expect("non-zero"))),
        }
    }

    /// Counts a sign-up from `client`; refuses it past the address's hourly budget.
    pub fn signup(&self, client: Option<IpAddr>) -> Result<()> {
        let Some(ip) = client else { return Ok(()) };
        self.signups.check_key(&ip).map_err(|not_until| Error::RateLimited {
            retry_after_secs: not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1),
        })
    }

    /// Counts an attempt from `client` against `account`; refuses it when either is over budget.
    pub fn attempt(&self, account: &str, client: Option<IpAddr>) -> Result<()> {
        if let Some(until) = self.locked_until.get(account).map(|u| *u) {
            let now = Instant::now();
            if until > now {
                return Err(Error::RateLimited { retry_after_secs: (until - now).as_secs().max(1) });
            }
            self.locked_until.remove(account);
        }
        if let Some(ip) = client {
            if let Err(not_until) = self.per_address.check_key(&ip) {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                return Err(Error::RateLimited { retry_after_secs: wait.as_secs().max(1) });
            }
        }
        Ok(())
    }

    /// A wrong password for `account`: past the budget the account is locked until it refills.
    pub fn failed(&self, account: &str) {
        if let Err(not_until) = self.failures.check_key(&account.to_string()) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            self.locked_until.insert(account.to_string(), Instant::now() + wait);
        }
    }

    pub fn housekeep(&self) {
        self.per_address.retain_recent();
        self.per_address.shrink_to_fit();
        self.failures.retain_recent();
        self.failures.shrink_to_fit();
        self.signups.retain_recent();
        self.signups.shrink_to_fit();
        let now = Instant::now();
        self.locked_until.retain(|_, until| *until > now);
    }
}
