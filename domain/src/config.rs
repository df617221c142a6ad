//! Settings read from the environment (a `.env` file may add to it; the binary loads that first).

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// Everything the platform needs to start, as CONTRACT.md "Running it" names it.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub app_secret: String,
    pub data_dir: PathBuf,
    pub bootstrap_admin: Option<(String, String)>,
    /// How long a cached API key is trusted before it is read again; bounds how long another
    /// process may still accept a key revoked elsewhere.
    pub api_key_cache_secs: u64,
    /// With Redis: how long a stream entry may sit unacknowledged with a consumer before another
    /// process takes it over (that consumer is presumed dead). `STREAM_CLAIM_IDLE_MS`.
    pub stream_claim_idle: std::time::Duration,
    /// Prefix of the platform's own Redis keys (`REDIS_NAMESPACE`), so several deployments, or
    /// test runs, can share one Redis. Per-project keys are named by the contract and unprefixed.
    pub redis_namespace: String,
    /// Delay in seconds before each webhook delivery attempt (the first is usually 0); one attempt
    /// per entry, then the message is failed. `WEBHOOK_RETRY_SCHEDULE`, comma-separated.
    pub webhook_retry_schedule: Vec<u64>,
    /// Lets webhooks target loopback, private and link-local addresses (tests, private
    /// deployments). `WEBHOOK_ALLOW_PRIVATE_TARGETS=true`; off by default.
    pub webhook_allow_private_targets: bool,
    /// Where platform mail goes (`SMTP_URL`, `smtp://user:pass@host:port` or `smtps://…`); unset
    /// keeps it in the outbox and the log (see `mail`).
    pub smtp_url: Option<String>,
    /// The sender of platform mail (`MAIL_FROM`, default `Notify <no-reply@localhost>`).
    pub mail_from: String,
    /// FCM's API root (`FCM_BASE_URL`, default `https://fcm.googleapis.com`); messages go to
    /// `{base}/v1/projects/{project}/messages:send`.
    pub fcm_base_url: String,
    /// Where service-account assertions are exchanged for access tokens (`FCM_TOKEN_URL`,
    /// default `https://oauth2.googleapis.com/token`); also the assertion's audience.
    pub fcm_token_url: String,
    /// APNs' API root (`APNS_BASE_URL`); unset means Apple's production or sandbox host, as
    /// each project's credentials say.
    pub apns_base_url: Option<String>,
    /// The bounds of rule evaluation (`RULE_EVAL_BUDGET_MS`, `RULE_EVAL_MEMORY_MB`,
    /// `RULE_SANDBOX_PROCESSES`; see `rules::sandbox`).
    pub rule_limits: crate::rules::sandbox::Limits,
    /// How the durable job workers (webhooks, push, own-Pusher triggers, mail) share their
    /// slots between projects, and how long they wait on outside servers (docs/JOBS.md).
    pub jobs: JobSettings,
    /// Authentication and abuse limits (see `auth::settings`).
    pub auth: crate::auth::settings::AuthSettings,
    /// Usage metering and quota warnings (docs/PLANS.md).
    pub usage: UsageSettings,
    /// Stripe billing (docs/PLANS.md); without a secret key the billing endpoints answer 503.
    pub billing: BillingSettings,
    /// The platform's address as the outside reaches it (`PUBLIC_URL`, default
    /// `http://{LEPTOS_SITE_ADDR}`): sound URLs in notifications and pushes start with it.
    pub public_url: String,
    /// Object storage for sound files (`STORAGE_URL=s3://bucket/prefix`); unset keeps them in
    /// `{DATA_DIR}/sounds` (docs/SOUNDS.md).
    pub storage_url: Option<String>,
    /// Days an audit row is kept (`AUDIT_RETENTION_DAYS`, default 365; 0 keeps rows for good).
    pub audit_retention_days: u32,
    /// The addresses webhooks leave from, as the operator publishes them (`WEBHOOK_SOURCE_IPS`,
    /// comma-separated addresses or CIDR ranges): shown with each project's endpoint.
    pub webhook_source_ips: Vec<String>,
}

/// The job workers' limits (docs/JOBS.md). Caps count a project's leased rows across every
/// process, so one project's slow server holds at most its own cap of slots.
#[derive(Clone, Debug)]
pub struct JobSettings {
    /// A webhook attempt's limit (`WEBHOOK_TIMEOUT_MS`, default 15000).
    pub webhook_timeout: Duration,
    /// Attempts in flight to one endpoint at most (`WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT`, default 8).
    pub webhook_max_in_flight_per_endpoint: i64,
    /// A push request's limit (`PUSH_TIMEOUT_MS`, default 15000).
    pub push_timeout: Duration,
    /// Push jobs in flight per project at most (`PUSH_MAX_IN_FLIGHT_PER_PROJECT`, default 8).
    pub push_max_in_flight_per_project: i64,
    /// A trigger on a project's own Pusher app: its limit (`PUSHER_TIMEOUT_MS`, default 10000).
    pub pusher_timeout: Duration,
    /// Own-Pusher triggers in flight per project at most (`PUSHER_MAX_IN_FLIGHT_PER_PROJECT`,
    /// default 8).
    pub pusher_max_in_flight_per_project: i64,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            webhook_timeout: Duration::from_secs(15),
            webhook_max_in_flight_per_endpoint: 8,
            push_timeout: Duration::from_secs(15),
            push_max_in_flight_per_project: 8,
            pusher_timeout: Duration::from_secs(10),
            pusher_max_in_flight_per_project: 8,
        }
    }
}

impl JobSettings {
    /// The defaults, overridden by the variables named on each field.
    pub fn from_env() -> Result<Self> {
        let d = JobSettings::default();
        Ok(JobSettings {
            webhook_timeout: env_millis("WEBHOOK_TIMEOUT_MS", d.webhook_timeout)?,
            webhook_max_in_flight_per_endpoint: env_count(
                "WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT",
                d.webhook_max_in_flight_per_endpoint,
            )?,
            push_timeout: env_millis("PUSH_TIMEOUT_MS", d.push_timeout)?,
            push_max_in_flight_per_project: env_count(
                "PUSH_MAX_IN_FLIGHT_PER_PROJECT",
                d.push_max_in_flight_per_project,
            )?,
            pusher_timeout: env_millis("PUSHER_TIMEOUT_MS", d.pusher_timeout)?,
            pusher_max_in_flight_per_project: env_count(
                "PUSHER_MAX_IN_FLIGHT_PER_PROJECT",
                d.pusher_max_in_flight_per_project,
            )?,
        })
    }
}

/// A whole number above 0 from the environment; `None` when unset.
fn env_positive(name: &str) -> Result<Option<u64>> {
    match std::env::var(name).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => match s.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(Error::Internal(format!("{name} must be a whole number above 0"))),
        },
    }
}

fn env_millis(name: &str, default: Duration) -> Result<Duration> {
    Ok(env_positive(name)?.map(Duration::from_millis).unwrap_or(default))
}

fn env_count(name: &str, default: i64) -> Result<i64> {
    Ok(env_positive(name)?.map(|n| n.min(i64::MAX as u64) as i64).unwrap_or(default))
}

#[derive(Clone, Debug)]
pub struct UsageSettings {
    /// How often counts kept in memory are added to the usage rows (`USAGE_FLUSH_MS`, default 1000).
    pub flush_interval: std::time::Duration,
}

#[derive(Clone, Debug)]
pub struct BillingSettings {
    /// `STRIPE_SECRET_KEY`; unset turns billing off.
    pub stripe_secret_key: Option<String>,
    /// `STRIPE_WEBHOOK_SECRET` (`whsec_…`): verifies `Stripe-Signature`.
    pub stripe_webhook_secret: Option<String>,
    /// `STRIPE_PRICE_STARTER`, `STRIPE_PRICE_PROFESSIONAL`: the prices Checkout subscribes to.
    pub price_starter: Option<String>,
    pub price_professional: Option<String>,
    /// `STRIPE_PRICE_OVERAGE`: a metered price added to subscriptions, billed per event past the
    /// quota for projects whose overage policy is `bill`; unset means overage is not reported.
    pub price_overage: Option<String>,
    /// `STRIPE_API_BASE`, default `https://api.stripe.com`.
    pub api_base: String,
    /// How long a project stays `past_due` before it is suspended (`BILLING_GRACE_DAYS`, default 7).
    pub grace: std::time::Duration,
    /// How often the grace sweeper and the overage reporter run (`BILLING_SWEEP_SECS`, default 60).
    pub sweep_interval: std::time::Duration,
    /// Where Checkout and the Customer Portal send the admin back (`BILLING_RETURN_URL`, default
    /// `http://{LEPTOS_SITE_ADDR}/billing`).
    pub return_url: String,
    /// How old a `Stripe-Signature` timestamp may be (seconds; Stripe's libraries use 300).
    pub webhook_tolerance_secs: i64,
}

impl BillingSettings {
    fn from_env() -> Self {
        let opt = |name: &str| std::env::var(name).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let grace_days: f64 =
            opt("BILLING_GRACE_DAYS").and_then(|v| v.parse().ok()).filter(|d: &f64| *d >= 0.0).unwrap_or(7.0);
        let site = opt("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        BillingSettings {
            stripe_secret_key: opt("STRIPE_SECRET_KEY"),
            stripe_webhook_secret: opt("STRIPE_WEBHOOK_SECRET"),
            price_starter: opt("STRIPE_PRICE_STARTER"),
            price_professional: opt("STRIPE_PRICE_PROFESSIONAL"),
            price_overage: opt("STRIPE_PRICE_OVERAGE"),
            api_base: env_or("STRIPE_API_BASE", "https://api.stripe.com"),
            grace: std::time::Duration::from_secs_f64(grace_days * 86_400.0),
            sweep_interval: std::time::Duration::from_secs(
                opt("BILLING_SWEEP_SECS").and_then(|v| v.parse().ok()).unwrap_or(60).max(1),
            ),
            return_url: opt("BILLING_RETURN_URL").unwrap_or_else(|| format!("http://{site}/billing")),
            webhook_tolerance_secs: 300,
        }
    }
}

impl Settings {
    /// Reads the environment. When `APP_SECRET` is unset, one is generated once and kept in
    /// `<data_dir>/app_secret` so restarts keep tokens valid.
    pub fn from_env() -> Result<Self> {
        let data_dir = PathBuf::from(std::env::var("DATA_DIR").unwrap_or_else(|_| "data".into()));
        let database_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("sqlite://{}/notify.db", data_dir.display()));
        let redis_url = std::env::var("REDIS_URL").ok().filter(|s| !s.is_empty());
        let app_secret = match std::env::var("APP_SECRET").ok().filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => load_or_create_secret(&data_dir)?,
        };
        crate::crypto::check_app_secret(&app_secret)?;
        let bootstrap_admin = match (
            std::env::var("PLATFORM_ADMIN_EMAIL").ok().filter(|s| !s.is_empty()),
            std::env::var("PLATFORM_ADMIN_PASSWORD").ok().filter(|s| !s.is_empty()),
        ) {
            (Some(e), Some(p)) => Some((e, p)),
            _ => None,
        };
        Ok(Settings {
            database_url,
            redis_url,
            app_secret,
            data_dir,
            bootstrap_admin,
            api_key_cache_secs: 10,
            stream_claim_idle: std::time::Duration::from_millis(
                std::env::var("STREAM_CLAIM_IDLE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(30_000),
            ),
            redis_namespace: std::env::var("REDIS_NAMESPACE").unwrap_or_default(),
            webhook_retry_schedule: match std::env::var("WEBHOOK_RETRY_SCHEDULE").ok().filter(|s| !s.trim().is_empty())
            {
                Some(s) => parse_schedule(&s)?,
                None => crate::webhooks::DEFAULT_RETRY_SCHEDULE.to_vec(),
            },
            webhook_allow_private_targets: std::env::var("WEBHOOK_ALLOW_PRIVATE_TARGETS")
                .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
                .unwrap_or(false),
            smtp_url: std::env::var("SMTP_URL").ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            mail_from: std::env::var("MAIL_FROM")
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "Notify <no-reply@localhost>".into()),
            fcm_base_url: env_or("FCM_BASE_URL", crate::push::FCM_BASE_URL),
            fcm_token_url: env_or("FCM_TOKEN_URL", crate::push::FCM_TOKEN_URL),
            apns_base_url: std::env::var("APNS_BASE_URL")
                .ok()
                .map(|s| s.trim().trim_end_matches('/').to_string())
                .filter(|s| !s.is_empty()),
            rule_limits: rule_limits()?,
            jobs: JobSettings::from_env()?,
            auth: crate::auth::settings::AuthSettings::from_env()?,
            usage: UsageSettings {
                flush_interval: std::time::Duration::from_millis(
                    std::env::var("USAGE_FLUSH_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000).max(10),
                ),
            },
            billing: BillingSettings::from_env(),
            public_url: std::env::var("PUBLIC_URL")
                .ok()
                .map(|s| s.trim().trim_end_matches('/').to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| {
                    format!("http://{}", std::env::var("LEPTOS_SITE_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into()))
                }),
            storage_url: std::env::var("STORAGE_URL").ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            audit_retention_days: match std::env::var("AUDIT_RETENTION_DAYS").ok().filter(|s| !s.trim().is_empty()) {
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| Error::Internal("AUDIT_RETENTION_DAYS must be a whole number of days".into()))?,
                None => 365,
            },
            webhook_source_ips: source_ips(&std::env::var("WEBHOOK_SOURCE_IPS").unwrap_or_default())?,
        })
    }
}

/// `RULE_EVAL_BUDGET_MS`, `RULE_EVAL_MEMORY_MB`, `RULE_SANDBOX_PROCESSES` over the defaults.
fn rule_limits() -> Result<crate::rules::sandbox::Limits> {
    let mut limits = crate::rules::sandbox::Limits::default();
    if let Some(ms) = env_positive("RULE_EVAL_BUDGET_MS")? {
        limits.budget = std::time::Duration::from_millis(ms);
    }
    if let Some(mb) = env_positive("RULE_EVAL_MEMORY_MB")? {
        limits.memory_bytes = (mb as usize).saturating_mul(1 << 20);
    }
    if let Some(n) = env_positive("RULE_SANDBOX_PROCESSES")? {
        limits.processes = n.min(64) as usize;
    }
    Ok(limits)
}

/// `WEBHOOK_SOURCE_IPS`: each entry an address or a CIDR range, else start-up stops.
fn source_ips(s: &str) -> Result<Vec<String>> {
    s.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| match crate::auth::settings::IpRange::parse(e) {
            Some(_) => Ok(e.to_string()),
            None => Err(Error::Internal(format!("WEBHOOK_SOURCE_IPS: {e:?} is not an address or a CIDR range"))),
        })
        .collect()
}

/// A URL from the environment without its trailing slash, or `default`.
fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// `0,5,300`: seconds before each attempt; at least one entry.
fn parse_schedule(s: &str) -> Result<Vec<u64>> {
    let delays = s
        .split(',')
        .map(|d| d.trim().parse::<u64>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| Error::Internal("WEBHOOK_RETRY_SCHEDULE must be seconds separated by commas".into()))?;
    if delays.is_empty() {
        return Err(Error::Internal("WEBHOOK_RETRY_SCHEDULE needs at least one entry".into()));
    }
    Ok(delays)
}

fn load_or_create_secret(dir: &std::path::Path) -> Result<String> {
    let path = dir.join("app_secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_string();
        if !s.is_empty() {
            return Ok(s);
        }
    }
    std::fs::create_dir_all(dir).map_err(Error::internal)?;
    let secret = crate::crypto::random_hex(32);
    write_private(&path, &secret).map_err(Error::internal)?;
    tracing::info!(path = %path.display(), "generated APP_SECRET and kept it in the data folder");
    Ok(secret)
}

#[cfg(unix)]
pub(crate) fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
