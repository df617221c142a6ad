//! Mobile push (FCM HTTP v1, APNs): a project's credentials, sealed at rest ([`credentials`]);
//! the signed JWTs both services take ([`signing`]); the presence-aware fallback that queues a
//! push job per recipient when a notification is published ([`schedule`]); and the push worker's
//! storage side: claiming due jobs, what each sends, and recording outcomes ([`delivery`]).
//!
//! Jobs live in `push_jobs` until sent, failed or skipped, so a restart loses none; the publish
//! path only inserts rows, the worker (server/src/worker/push) talks to Google and Apple.

pub mod credentials;
pub mod delivery;
pub mod schedule;
pub mod signing;

pub use credentials::{PushCredentials, PushCredentialsInput};

/// FCM's API root.
pub const FCM_BASE_URL: &str = "https://fcm.googleapis.com";
/// Google's OAuth2 token endpoint, where a service account's assertion buys an access token.
pub const FCM_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// The scope FCM's send API requires.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// APNs' production and sandbox hosts.
pub const APNS_PRODUCTION_URL: &str = "https://api.push.apple.com";
pub const APNS_SANDBOX_URL: &str = "https://api.sandbox.push.apple.com";

/// Seconds a connected recipient has to acknowledge before the push goes out, unless the
/// project's `settings.ackTimeoutSeconds` says otherwise.
pub const DEFAULT_ACK_TIMEOUT_SECS: i64 = 60;

/// How urgently a notification is pushed, from its rule's `priority`: 10 and above is
/// time-sensitive, below 0 passive (delivered quietly), anything else active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Passive,
    Active,
    TimeSensitive,
}

impl Urgency {
    pub fn from_priority(priority: i64) -> Self {
        match priority {
            p if p >= 10 => Urgency::TimeSensitive,
            p if p < 0 => Urgency::Passive,
            _ => Urgency::Active,
        }
    }

    /// APNs' `interruption-level`.
    pub fn interruption_level(self) -> &'static str {
        match self {
            Urgency::Passive => "passive",
            Urgency::Active => "active",
            Urgency::TimeSensitive => "time-sensitive",
        }
    }

    /// `apns-priority`: 10 sends at once, 5 lets the device save power.
    pub fn apns_priority(self) -> u8 {
        match self {
            Urgency::Passive => 5,
            _ => 10,
        }
    }

    /// FCM's `android.priority`.
    pub fn android_priority(self) -> &'static str {
        match self {
            Urgency::Passive => "normal",
            _ => "high",
        }
    }
}

/// Wakes the push worker when a job is due now, so it need not wait for its next poll.
#[derive(Default)]
pub struct Wake(tokio::sync::Notify);

impl Wake {
    pub(crate) fn ring(&self) {
        self.0.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgency_follows_the_priority() {
        assert_eq!(Urgency::from_priority(10), Urgency::TimeSensitive);
        assert_eq!(Urgency::from_priority(5), Urgency::Active);
        assert_eq!(Urgency::from_priority(0), Urgency::Active);
        assert_eq!(Urgency::from_priority(-1), Urgency::Passive);
        assert_eq!(Urgency::from_priority(-1).apns_priority(), 5);
        assert_eq!(Urgency::from_priority(12).interruption_level(), "time-sensitive");
    }
}
