//! Platform mail: without SMTP_URL it stays in the outbox; with it, the mail worker sends it over
//! SMTP (here to a stub speaking just enough of the protocol, AUTH PLAIN included) and marks it sent. The webhook
//! auto-disable mails the project's billing address.

use std::time::Duration;

use domain::mail::outbox;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::helpers::TestApp;

/// An SMTP server in miniature: answers every command, and hands over each message received as
/// `(envelope recipients, DATA text)`.
async fn smtp_stub() -> (u16, mpsc::UnboundedReceiver<(Vec<String>, String)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 stub ESMTP\r\n").await.unwrap();
                let (mut rcpt, mut data, mut in_data) = (Vec::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let _ = tx.send((std::mem::take(&mut rcpt), std::mem::take(&mut data)));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-stub\r\n250 AUTH PLAIN\r\n"
                    } else if upper.starts_with("AUTH") {
                        b"235 accepted\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(line[8..].trim().trim_matches(|c| c == '<' || c == '>').to_string());
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if upper.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

async fn outbox_row(app: &TestApp, id: &str, until: impl Fn(&outbox::OutboxMail) -> bool) -> outbox::OutboxMail {
    for _ in 0..200 {
        if let Some(m) = outbox::recent(&app.svc, 50).await.unwrap().into_iter().find(|m| m.id == id) {
            if until(&m) {
                return m;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("outbox row {id} never got there");
}

#[tokio::test]
async fn without_smtp_the_mail_stays_in_the_outbox() {
    let app = TestApp::spawn().await;
    let id = app.svc.mailer.send("owner@example.com", "Hello", "The body.").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let m = outbox_row(&app, &id, |_| true).await;
    assert_eq!(
        (m.to_address.as_str(), m.subject.as_str(), m.body_text.as_str()),
        ("owner@example.com", "Hello", "The body.")
    );
    assert_eq!((m.status.as_str(), m.attempts), ("pending", 0));
    assert!(m.sent_at.is_none() && m.error.is_none());
    app.teardown().await;
}

#[tokio::test]
async fn with_smtp_the_mail_is_sent_and_marked_sent() {
    let (port, mut rx) = smtp_stub().await;
    let app = TestApp::spawn_with(|s| s.smtp_url = Some(format!("smtp://user:pass@127.0.0.1:{port}"))).await;
    let id = app.svc.mailer.send("owner@example.com", "Webhook disabled", "Line one.\nLine two.").await.unwrap();
    let Ok(Some((rcpt, data))) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await else {
        panic!("no mail within 5 s: {:?}", outbox::recent(&app.svc, 5).await.unwrap());
    };
    assert_eq!(rcpt, vec!["owner@example.com".to_string()]);
    assert!(data.contains("Subject: Webhook disabled"), "{data}");
    assert!(data.contains("no-reply@platform.test"), "{data}");
    assert!(data.contains("Line one.") && data.contains("Line two."), "{data}");
    let m = outbox_row(&app, &id, |m| m.status != "sending" && m.status != "pending").await;
    assert_eq!(m.status, "sent", "{m:?}");
    assert!(m.sent_at.is_some());
    app.teardown().await;
}

#[tokio::test]
async fn smtp_refusals_are_recorded_as_failed() {
    // Nothing listens on port 9 of loopback: every attempt fails; the error is kept.
    let app = TestApp::spawn_with(|s| s.smtp_url = Some("smtp://127.0.0.1:9".into())).await;
    let id = app.svc.mailer.send("owner@example.com", "Hello", "Body").await.unwrap();
    let m = outbox_row(&app, &id, |m| m.error.is_some()).await;
    assert!(m.sent_at.is_none(), "{m:?}");
    assert_eq!(m.attempts, 1);
    app.teardown().await;
}
