//! Everything the platform's operations need, built once at start-up and shared by the HTTP
//! handlers, the admin panel's server functions and the workers.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::cache::AuthCache;
use crate::auth::FailedSecretLimiter;
use crate::config::Settings;
use crate::crypto::Keys;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::events::{self, Ingestor};
use crate::queue::{memory::MemoryQueue, redis_streams::RedisQueue, EventQueue};
use crate::rules::cache::RuleCache;

pub struct Services {
    pub settings: Settings,
    pub db: Db,
    pub keys: Keys,
    pub redis: Option<redis::aio::ConnectionManager>,
    pub queue: EventQueue,
    pub ingestor: Ingestor,
    pub(crate) auth_cache: AuthCache,
    pub(crate) failed_secrets: FailedSecretLimiter,
    pub(crate) login_throttle: crate::auth::throttle::LoginThrottle,
    /// Bounds the argon2 work running at once (see `auth::passwords`).
    pub(crate) password_work: crate::auth::passwords::PasswordWork,
    pub(crate) rules: RuleCache,
    /// Where rules are checked and evaluated, bounded (see `rules::sandbox`).
    pub sandbox: crate::rules::sandbox::Sandbox,
    /// Rung when a webhook message is due now (see `webhooks::delivery::wait_for_work`).
    pub(crate) webhook_wake: crate::webhooks::Wake,
    /// Projects' own Pusher apps, for the notification worker.
    pub(crate) pusher_apps: crate::projects::pusher::PusherAppCache,
    /// Platform mail: every mail lands in the outbox first (see `mail`).
    pub mailer: crate::mail::Mailer,
    /// Rung when a push job is due now (see `push::delivery::wait_for_work`).
    pub(crate) push_wake: crate::push::Wake,
    /// Rung when an own-Pusher trigger is due now (see `projects::pusher_jobs::wait_for_work`).
    pub(crate) pusher_wake: crate::projects::pusher_jobs::Wake,
    /// Where each job table's round-robin claim stands (see `db::lease`).
    pub(crate) job_cursors: crate::db::lease::Cursors,
    /// Projects' plan limits, cached for the hot path (see `usage::limits`).
    pub(crate) limits: crate::usage::limits::LimitCache,
    /// Usage counted in memory until the next flush (see `usage::meter`).
    pub meter: Arc<crate::usage::meter::Meter>,
    /// Analytics counted in memory, flushed with the usage counts (docs/ANALYTICS.md).
    pub analytics: Arc<crate::analytics::Analytics>,
    /// Per-key request rates (see `usage::rate`).
    pub(crate) rate_limits: crate::usage::rate::RateLimits,
    /// Stripe, when `STRIPE_SECRET_KEY` is set (see `billing`).
    pub(crate) stripe: Option<crate::billing::Stripe>,
    /// Where sound files live (see `sounds::store`).
    pub sounds: crate::sounds::SoundStore,
}

impl Services {
    /// Connects to the database (migrating it) and Redis when configured, starts the ingest
    /// writer, re-queues what a previous process left, and creates the bootstrap admin.
    pub async fn start(settings: Settings) -> Result<Arc<Services>> {
        crate::crypto::check_app_secret(&settings.app_secret)?;
        let db = Db::connect(&settings.database_url).await?;
        let redis = match &settings.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str()).map_err(Error::from)?;
                Some(redis::aio::ConnectionManager::new(client).await?)
            }
            None => None,
        };
        let queue = match &redis {
            Some(conn) => EventQueue::Redis(RedisQueue::new(conn.clone(), &settings.redis_namespace)),
            None => EventQueue::Memory(MemoryQueue::new()),
        };
        let meter = Arc::new(crate::usage::meter::Meter::default());
        // The ingest writers start before the services exist; quota warnings they queue wake the
        // senders through this once it is set.
        let this: Arc<std::sync::OnceLock<std::sync::Weak<Services>>> = Default::default();
        let wake_from = this.clone();
        let on_alert = Arc::new(move |queued: crate::usage::alerts::Queued| {
            if let Some(svc) = wake_from.get().and_then(std::sync::Weak::upgrade) {
                queued.wake(&svc);
            }
        });
        let ingestor = Ingestor::start(db.clone(), queue.clone(), meter.clone(), on_alert);
        let svc = Arc::new(Services {
            keys: Keys::derive(&settings.app_secret),
            auth_cache: AuthCache::new(
                Duration::from_secs(settings.api_key_cache_secs),
                Duration::from_secs(settings.auth.state_cache_secs),
            ),
            failed_secrets: FailedSecretLimiter::new(10),
            password_work: crate::auth::passwords::PasswordWork::new(settings.auth.password_hash_concurrency),
            login_throttle: crate::auth::throttle::LoginThrottle::new(
                settings.auth.login_attempts_per_address,
                settings.auth.login_attempts_per_account,
                settings.auth.signups_per_address_per_hour,
            ),
            rules: RuleCache::new(Duration::from_secs(5)),
            sandbox: crate::rules::sandbox::Sandbox::new(settings.rule_limits.clone()),
            webhook_wake: Default::default(),
            pusher_apps: crate::projects::pusher::PusherAppCache::new(Duration::from_secs(5)),
            mailer: crate::mail::Mailer::new(db.clone(), settings.smtp_url.is_some()),
            push_wake: Default::default(),
            pusher_wake: Default::default(),
            job_cursors: Default::default(),
            limits: Default::default(),
            meter,
            analytics: Default::default(),
            rate_limits: Default::default(),
            stripe: crate::billing::Stripe::from_settings(&settings.billing),
            sounds: crate::sounds::SoundStore::open(settings.storage_url.as_deref(), &settings.data_dir)?,
            settings,
            db,
            redis,
            queue,
            ingestor,
        });
        let _ = this.set(Arc::downgrade(&svc));
        if let Some((email, password)) = svc.settings.bootstrap_admin.clone() {
            if crate::platform_admins::bootstrap(&svc, &email, &password).await? {
                tracing::info!("created the bootstrap platform admin");
            }
        }
        match &svc.queue {
            EventQueue::Memory(_) => {
                let n = events::recovery::requeue_all_accepted(&svc).await?;
                if n > 0 {
                    tracing::info!(count = n, "re-queued accepted events from before the restart");
                }
            }
            EventQueue::Redis(_) => {
                events::recovery::sweep_not_enqueued(&svc, Duration::ZERO).await?;
            }
        }
        events::recovery::spawn_sweeper(svc.clone());
        spawn_housekeeping(svc.clone());
        crate::usage::meter::spawn_flusher(svc.clone(), svc.settings.usage.flush_interval);
        crate::billing::spawn_sweeper(svc.clone());
        crate::audit::retention::spawn_sweeper(svc.clone());
        Ok(svc)
    }

    /// API key values held by the authentication cache now (bounded; malformed keys never enter).
    pub fn cached_api_keys(&self) -> usize {
        self.auth_cache.cached_keys()
    }

    /// Database and Redis both answer.
    pub async fn health(&self) -> Result<()> {
        self.db.ping().await?;
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            redis::cmd("PING").query_async::<String>(&mut conn).await?;
        }
        Ok(())
    }
}

/// Writes back keys' `lastUsedAt` and trims the failed-secret limiter.
fn spawn_housekeeping(svc: Arc<Services>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Err(e) = svc.auth_cache.flush_last_used(&svc.db).await {
                tracing::warn!(error = %e, "could not write lastUsedAt");
            }
            svc.failed_secrets.housekeep();
            svc.login_throttle.housekeep();
        }
    });
}
