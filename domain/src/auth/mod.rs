//! Authentication: turns credentials into a [`Tenant`] or a [`PlatformAdminCtx`]. Nothing else can
//! build either.

pub mod cache;
pub mod client_addr;
pub mod login;
pub mod lru;
pub mod passwords;
pub mod permission;
pub mod public;
pub mod settings;
pub mod tenant;
pub mod throttle;
pub mod token;

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub use permission::Permission;
pub use public::{publishable, PublicProject};
pub use tenant::{Actor, AdminRole, PlatformAdminCtx, Tenant};
pub use token::{Claims, TokenType};

use crate::error::{Error, Result};
use crate::services::Services;

/// A bearer token's holder.
pub enum Principal {
    PlatformAdmin(PlatformAdminCtx),
    Tenant(Tenant),
}

/// Limits wrong secrets per (key, client address): a guesser is slowed down, while the project's
/// own servers, calling from elsewhere, keep working. (A lockout per key alone would let anyone who
/// knows the publishable key lock the project out.)
pub struct FailedSecretLimiter {
    failures: DefaultKeyedRateLimiter<(String, Option<IpAddr>)>,
    locked_until: dashmap::DashMap<(String, Option<IpAddr>), std::time::Instant>,
}

impl FailedSecretLimiter {
    /// Allows `per_minute` wrong secrets per (key, address); past that the pair is refused with
    /// 429 until the budget refills.
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).expect("non-zero");
        FailedSecretLimiter { failures: RateLimiter::keyed(Quota::per_minute(n)), locked_until: Default::default() }
    }

    /// Seconds left on a lock, if the pair is locked.
    fn locked_for(&self, key: &(String, Option<IpAddr>)) -> Option<u64> {
        let until = *self.locked_until.get(key)?;
        let now = std::time::Instant::now();
        if until > now {
            Some((until - now).as_secs().max(1))
        } else {
            self.locked_until.remove(key);
            None
        }
    }

    fn record_failure(&self, key: &(String, Option<IpAddr>)) {
        if let Err(not_until) = self.failures.check_key(key) {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            self.locked_until.insert(key.clone(), std::time::Instant::now() + wait);
        }
    }

    pub fn housekeep(&self) {
        self.failures.retain_recent();
        self.failures.shrink_to_fit();
        let now = std::time::Instant::now();
        self.locked_until.retain(|_, until| *until > now);
    }
}

/// Checks an `X-API-Key` / `X-API-Secret` pair.
pub async fn api_key(svc: &Services, key: &str, secret: &str, client: Option<IpAddr>) -> Result<Tenant> {
    let cached = svc.auth_cache.key(&svc.db, key).await?;
    let Some(k) = cached else {
        return Err(Error::Unauthenticated("unknown API key"));
    };
    let limiter_key = (k.id.clone(), client);
    if let Some(secs) = svc.failed_secrets.locked_for(&limiter_key) {
        return Err(Error::RateLimited { retry_after_secs: secs });
    }
    if !svc.keys.verify_api_secret(secret, &k.secret_hash) {
        svc.failed_secrets.record_failure(&limiter_key);
        if let (Some(limit), false) = (k.auto_revoke_after_failures, k.revoked) {
            svc.auth_cache.note_failure(&k.id);
            if let Err(e) = crate::api_keys::count_failure(svc, &k, key, limit, client).await {
                tracing::warn!(error = %e, "could not count a wrong secret");
            }
        }
        return Err(Error::Unauthenticated("wrong API secret"));
    }
    if k.revoked {
        return Err(Error::Unauthenticated("this API key was revoked"));
    }
    if k.expires_at.is_some_and(|t| t <= crate::time::now()) {
        return Err(Error::Unauthenticated("this API key has expired"));
    }
    let tenant =
        Tenant::new(k.project_id.clone(), Actor::ApiKey { key_id: k.id.clone(), permissions: k.permissions.clone() });
    if !k.allowed_ips.is_empty() && !client.is_some_and(|ip| k.allowed_ips.iter().any(|r| r.contains(ip))) {
        // The key's owner hears of it, once a minute per address at most (the log is theirs to
        // read, not a megaphone for whoever holds the leaked secret).
        if svc.auth_cache.first_refusal(&k.id, client) {
            let meta = crate::audit::RequestMeta { ip: client.map(|ip| ip.to_string()), user_agent: None };
            let entry =
                crate::audit::AuditEntry::tenant(&tenant, "api_key.address_refused", "api_key", Some(&k.id), &meta)
                    .with_metadata(serde_json::json!({ "ipAddress": meta.ip }));
            if let Err(e) = crate::audit::record(svc, entry).await {
                tracing::warn!(error = %e, "could not audit a refused key address");
            }
        }
        return Err(Error::Forbidden("this API key may not be used from this address (see its allowedIps)"));
    }
    ensure_project_active(svc, &k.project_id).await?;
    let per_second = svc.limits.get(&svc.db, &k.project_id).await?.and_then(|l| l.rate_limit_per_second);
    let rate = svc.rate_limits.check(&k.id, per_second)?;
    svc.auth_cache.touch(&k.id);
    if k.auto_revoke_after_failures.is_some() && svc.auth_cache.take_failure(&k) {
        if let Err(e) = crate::api_keys::reset_failures(svc, &k.id).await {
            tracing::warn!(error = %e, "could not reset a key's count of wrong secrets");
        }
    }
    Ok(tenant.with_rate(rate))
}

/// Checks a bearer token.
pub async fn bearer(svc: &Services, token: &str) -> Result<Principal> {
    let claims = token::verify(&svc.keys, token)?;
    match claims.token_type {
        TokenType::PlatformAdmin => {
            let admin = crate::platform_admins::find_active(svc, &claims.sub)
                .await?
                .ok_or(Error::Unauthenticated("this admin no longer exists or is disabled"))?;
            Ok(Principal::PlatformAdmin(PlatformAdminCtx::new(admin.id, admin.role)))
        }
        TokenType::ProjectAdmin | TokenType::User => {
            let project_id = claims.project_id.ok_or(Error::Unauthenticated("token names no project"))?;
            ensure_project_active(svc, &project_id).await?;
            ensure_holder_current(svc, &project_id, &claims.sub, claims.token_type, claims.kid.as_deref()).await?;
            let actor = if claims.token_type == TokenType::ProjectAdmin {
                Actor::ProjectAdmin { user_id: claims.sub }
            } else {
                Actor::User { user_id: claims.sub }
            };
            Ok(Principal::Tenant(Tenant::new(project_id, actor)))
        }
    }
}

/// A project token is only as good as its holder now: the user still exists and is active, a
/// `project_admin` token's holder still holds `admin`, and the key a token was minted through is
/// still active. (Tokens carry their claims for 12 hours; this is what makes them revocable.)
async fn ensure_holder_current(
    svc: &Services,
    project_id: &str,
    user_id: &str,
    kind: TokenType,
    kid: Option<&str>,
) -> Result<()> {
    let state = svc
        .auth_cache
        .user(&svc.db, project_id, user_id)
        .await?
        .ok_or(Error::Unauthenticated("this token's user no longer exists"))?;
    if !state.active {
        return Err(Error::Unauthenticated("this token's user is not active"));
    }
    if kind == TokenType::ProjectAdmin && !state.admin {
        return Err(Error::Unauthenticated("this token's user is no longer a project admin; sign in again"));
    }
    if let Some(key_id) = kid {
        if !svc.auth_cache.key_active(&svc.db, project_id, key_id).await? {
            return Err(Error::Unauthenticated("the API key this token was minted with was revoked or expired"));
        }
    }
    Ok(())
}

/// Whether `key` has the shape of a key this platform issues (`pk_live_` or `pk_test_` and 32
/// hex digits), so junk is refused before any lookup.
pub fn well_formed_key(key: &str) -> bool {
    let rest = key.strip_prefix("pk_live_").or_else(|| key.strip_prefix("pk_test_"));
    rest.is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn ensure_project_active(svc: &Services, project_id: &str) -> Result<()> {
    match svc.auth_cache.project_status(&svc.db, project_id).await?.as_deref() {
        None => Err(Error::Unauthenticated("the project no longer exists")),
        Some("suspended") | Some("cancelled") => Err(Error::Forbidden("this project is suspended")),
        Some(_) => Ok(()),
    }
}
