//! Webhooks to the client (CONTRACT "Webhooks to the client"): a project's endpoint and signing
//! secret ([`endpoint`]), the events that queue a message for it ([`emit`]), the delivery worker's
//! side of storage: claiming due messages, recording attempts, retrying and disabling
//! ([`delivery`]), and the attempt log with redelivery ([`logs`]).
//!
//! Messages live in `webhook_messages` until delivered or failed, so a restart loses none; a
//! request only inserts a row, the worker (server/src/worker/webhooks) sends. Delivery is
//! at-least-once: a worker that dies mid-send leaves a lease that runs out, and the message is
//! sent again under the same `webhook-id`, which receivers use to deduplicate.

pub mod delivery;
pub mod emit;
pub mod endpoint;
pub mod guard;
pub mod logs;
pub mod signing;

use std::time::Duration;

pub use endpoint::{Endpoint, EndpointInput};
pub use logs::WebhookLog;

/// Svix's schedule: seconds before each attempt (immediately, 5 s, 5 min, 30 min, 2 h, 5 h,
/// 10 h, 10 h), then the message is failed.
pub const DEFAULT_RETRY_SCHEDULE: [u64; 8] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

/// The event types a project may subscribe to.
pub const EVENT_TYPES: [&str; 6] = [
    "notification.delivered",
    "notification.failed",
    "notification.acknowledged",
    "user.registered",
    "quota.warning",
    "quota.exceeded",
];

/// The event `POST /projects/me/webhook/test` sends; always delivered, whatever the subscription.
pub const TEST_EVENT: &str = "webhook.test";

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

/// An endpoint failing without a single success for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);

/// Wakes the delivery worker when a message is due now, so it need not wait for its next poll.
#[derive(Default)]
pub struct Wake(tokio::sync::Notify);

impl Wake {
    pub(crate) fn ring(&self) {
        self.0.notify_one();
    }
}
