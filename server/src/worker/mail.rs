//! The mail sender: with `SMTP_URL` set, sends the outbox's due mail (domain::mail) as it is
//! enqueued, and retries failures on a poll. Without it there is nothing to do: mail stays in
//! the outbox.

use std::sync::Arc;
use std::time::Duration;

use domain::mail::smtp::{self, Smtp};
use domain::Services;

/// How often the outbox is asked for due retries (and mail other processes enqueued).
const POLL: Duration = Duration::from_secs(5);

pub async fn run(svc: Arc<Services>) {
    let smtp = match Smtp::from_settings(&svc.settings) {
        Ok(Some(s)) => s,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, "mail is not sent: SMTP_URL or MAIL_FROM is invalid; it stays in the outbox");
            return;
        }
    };
    loop {
        if svc.db.pool().is_closed() {
            return; // the process is shutting down (or a test stopped this node)
        }
        match smtp::send_due(&svc, &smtp).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the outbox"),
        }
        svc.mailer.wait_for_work(POLL).await;
    }
}
