//! Platform mail (to project owners and admins, never to end users): [`Mailer::send`] always
//! writes the mail to the `outbox` table first, so none is lost to a crash or an SMTP outage.
//! With `SMTP_URL` set, the mail worker (server/src/worker/mail.rs) sends pending rows through
//! [`smtp::Smtp`] and marks them `sent` or `failed`; without it the mail stays in the outbox
//! (for the admin panel) and is written to the log, without its body or address.

pub mod outbox;
pub mod smtp;

use std::time::Duration;

use crate::db::Db;
use crate::error::Result;
use crate::time;

pub use outbox::OutboxMail;

/// Attempts before a mail is `failed` (a permanent SMTP refusal fails it at once).
pub const MAX_ATTEMPTS: i64 = 3;

/// How long a failed attempt waits before the next one.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// Enqueues platform mail; see the module docs.
pub struct Mailer {
    db: Db,
    smtp_configured: bool,
    wake: tokio::sync::Notify,
}

impl Mailer {
    pub fn new(db: Db, smtp_configured: bool) -> Self {
        Mailer { db, smtp_configured, wake: tokio::sync::Notify::new() }
    }

    /// Stores the mail in the outbox (durable) and wakes the sender; answers the outbox id.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<String> {
        let id = Self::enqueue_with(self.db.pool(), to, subject, body).await?;
        self.queued(&id, to, subject);
        Ok(id)
    }

    /// Writes the mail to the outbox through `ex`, typically the transaction of the change the
    /// mail tells about, so the change and its mail commit together. Call [`Mailer::queued`]
    /// after the commit.
    pub async fn enqueue_with<'e, E>(ex: E, to: &str, subject: &str, body: &str) -> Result<String>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO outbox (id, to_address, subject, body_text, status, attempts, claimed_at, created_at, sent_at, error) \
             VALUES ($1, $2, $3, $4, 'pending', 0, NULL, $5, NULL, NULL)",
        )
        .bind(&id)
        .bind(to)
        .bind(subject)
        .bind(body.replace('\0', ""))
        .bind(time::to_db(time::now()))
        .execute(ex)
        .await?;
        Ok(id)
    }

    /// After a mail's outbox row committed: wakes the sender, or logs that the mail stays in the
    /// outbox when no SMTP server is configured.
    pub fn queued(&self, id: &str, to: &str, subject: &str) {
        if self.smtp_configured {
            self.wake();
        } else {
            // No SMTP: the outbox row is the mail. The log names the domain only (the address is
            // personal data, the body may carry links that act as credentials).
            let domain = to.rsplit_once('@').map_or("", |(_, d)| d);
            tracing::info!(mail.id = %id, mail.subject = subject, mail.to_domain = domain, "mail kept in the outbox (SMTP_URL is not set)");
        }
    }

    /// Wakes the sender after mail was stored with [`Mailer::enqueue_with`] and committed.
    pub(crate) fn wake(&self) {
        if self.smtp_configured {
            self.wake.notify_one();
        }
    }

    /// Waits until a mail may be pending, or `at_most`.
    pub async fn wait_for_work(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.wake.notified()).await;
    }
}
