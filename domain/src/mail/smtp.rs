//! Sending over SMTP with lettre: `SMTP_URL` as `smtp://user:pass@host:port` (plain, or
//! `?tls=required` for STARTTLS) or `smtps://…` (TLS from the start); `MAIL_FROM` is the sender.
//! One connection per mail, no pool: platform mail is rare.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{outbox, OutboxMail};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::services::Services;

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    /// The transport `SMTP_URL` describes; `None` when it is unset. The URL's password never
    /// appears in the error.
    pub fn from_settings(settings: &Settings) -> Result<Option<Smtp>> {
        let Some(url) = &settings.smtp_url else { return Ok(None) };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| Error::Internal("SMTP_URL must look like smtp://user:pass@host:port or smtps://…".into()))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        let from = settings
            .mail_from
            .parse::<Mailbox>()
            .map_err(|e| Error::Internal(format!("MAIL_FROM is not a mailbox: {e}")))?;
        Ok(Some(Smtp { transport, from }))
    }

    /// Sends one mail; on failure answers the reason and whether retrying is pointless.
    pub async fn deliver(&self, m: &OutboxMail) -> std::result::Result<(), (String, bool)> {
        let to = m.to_address.parse::<Mailbox>().map_err(|e| (format!("bad recipient: {e}"), true))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(m.body_text.clone())
            .map_err(|e| (format!("could not build the message: {e}"), true))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| (e.to_string(), e.is_permanent()))
    }
}

/// Records what one attempt came to.
pub async fn record(
    svc: &Services,
    c: &outbox::Claimed,
    outcome: &std::result::Result<(), (String, bool)>,
) -> Result<()> {
    match outcome {
        Ok(()) => {
            outbox::mark_sent(svc, c).await?;
            tracing::info!(mail.id = %c.mail.id, "mail sent");
        }
        Err((error, permanent)) => {
            tracing::warn!(mail.id = %c.mail.id, attempt = c.mail.attempts, permanent, error = %error, "mail not sent");
            outbox::mark_failed(svc, c, error, *permanent).await?;
        }
    }
    Ok(())
}
