//! Timestamps as stored: RFC 3339 in UTC with a fixed width, so text order is time order on both
//! backends.

use chrono::{DateTime, SecondsFormat, Utc};

pub type Timestamp = DateTime<Utc>;

pub fn now() -> Timestamp {
    Utc::now()
}

/// The stored form: `2026-11-27T05:30:00.123456Z`.
pub fn to_db(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn from_db(s: &str) -> Timestamp {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

pub fn opt_from_db(s: Option<String>) -> Option<Timestamp> {
    s.as_deref().map(from_db)
}

/// Parses a client-supplied RFC 3339 time.
pub fn parse_client(s: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}
