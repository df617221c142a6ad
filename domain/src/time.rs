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

/// A bound of a client's time range (`from`, `to`): an RFC 3339 time as given, or a date
/// (`YYYY-MM-DD`) as its first instant; for an end bound (`end`), a date takes in that whole day:
/// the first instant of the next day, excluded (the `bool` says so). A bad value is 400 on `field`.
pub fn parse_bound(field: &str, v: &str, end: bool) -> crate::error::Result<(Timestamp, bool)> {
    if let Some(t) = parse_client(v) {
        return Ok((t, false));
    }
    let day = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| crate::error::Error::field(field, "must be an RFC 3339 time or a date (YYYY-MM-DD)"))?;
    let day = if end { day.succ_opt().unwrap_or(day) } else { day };
    Ok((day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(), end))
}
