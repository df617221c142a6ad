//! The mail sender, a job kind of [`super::jobs`]: with `SMTP_URL` set, sends the outbox's due
//! mail (domain::mail) as it is enqueued, and retries failures on a poll. Without it there is
//! nothing to do: mail stays in the outbox.

use std::sync::Arc;
use std::time::Duration;

use domain::error::Result;
use domain::mail::outbox::{self, Claimed};
use domain::mail::smtp::{self, Smtp};
use domain::Services;

use super::jobs::JobKind;

/// How often the outbox is asked for due retries (and mail other processes enqueued).
const POLL: Duration = Duration::from_secs(5);

/// Mails in flight per process at most: platform mail is rare.
const MAX_IN_FLIGHT: usize = 4;

pub async fn run(svc: Arc<Services>) {
    let smtp = match Smtp::from_settings(&svc.settings) {
        Ok(Some(s)) => s,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, "mail is not sent: SMTP_URL or MAIL_FROM is invalid; it stays in the outbox");
            return;
        }
    };
    super::jobs::run(svc, Mail { smtp }).await
}

struct Mail {
    smtp: Smtp,
}

impl JobKind for Mail {
    type Due = Claimed;
    type Outcome = std::result::Result<(), (String, bool)>;
    const NAME: &'static str = "mail";

    fn max_in_flight(&self) -> usize {
        MAX_IN_FLIGHT
    }

    fn poll(&self) -> Duration {
        POLL
    }

    async fn claim(&self, svc: &Services, limit: i64) -> Result<Vec<Claimed>> {
        outbox::claim_due(svc, limit).await
    }

    async fn attempt(&self, due: &Claimed) -> Self::Outcome {
        self.smtp.deliver(&due.mail).await
    }

    async fn record(&self, svc: &Services, done: &[(Claimed, Self::Outcome)]) -> Result<()> {
        for (c, outcome) in done {
            if let Err(e) = smtp::record(svc, c, outcome).await {
                tracing::error!(error = %e, mail.id = %c.mail.id, "could not record a mail attempt");
            }
        }
        Ok(())
    }

    async fn wait_for_work(&self, svc: &Services, at_most: Duration) {
        svc.mailer.wait_for_work(at_most).await
    }
}
