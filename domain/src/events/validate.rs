//! Checks an event as the contract states it, field by field.

use crate::error::{Error, FieldErrors, Result};
use crate::time::{self, Timestamp};

/// The most events one batch call takes.
pub const MAX_BATCH: usize = 500;

/// An event that passed validation, ready to store.
#[derive(Debug, Clone)]
pub struct ValidEvent {
    pub event_type: String,
    pub payload: String,
    pub source: Option<String>,
    pub client_event_id: Option<String>,
    pub client_timestamp: Option<Timestamp>,
}

fn valid_type(t: &str) -> bool {
    (1..=100).contains(&t.len())
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Validates `{type, payload, clientEventId?, source?, timestamp?}`.
pub fn validate(v: &serde_json::Value) -> Result<ValidEvent> {
    let mut errors = FieldErrors::new();
    let Some(obj) = v.as_object() else {
        return Err(Error::field("event", "must be a JSON object"));
    };
    let event_type = match obj.get("type") {
        Some(serde_json::Value::String(t)) if valid_type(t) => Some(t.clone()),
        _ => {
            errors.insert("type".into(), "must be 1 to 100 characters of A-Z a-z 0-9 . _ : -".into());
            None
        }
    };
    let payload = match obj.get("payload") {
        Some(p @ serde_json::Value::Object(_)) => Some(p.to_string()),
        _ => {
            errors.insert("payload".into(), "must be a JSON object".into());
            None
        }
    };
    let client_event_id = optional_string(obj.get("clientEventId"), "clientEventId", 255, &mut errors);
    let source = optional_string(obj.get("source"), "source", 100, &mut errors);
    let client_timestamp = match optional_string(obj.get("timestamp"), "timestamp", 64, &mut errors) {
        Some(s) => match time::parse_client(&s) {
            Some(t) => Some(t),
            None => {
                errors.insert("timestamp".into(), "must be an RFC 3339 time".into());
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(ValidEvent {
        event_type: event_type.expect("checked"),
        payload: payload.expect("checked"),
        source,
        client_event_id,
        client_timestamp,
    })
}

fn optional_string(v: Option<&serde_json::Value>, field: &str, max: usize, errors: &mut FieldErrors) -> Option<String> {
    match v {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.chars().count() <= max && !s.contains('\0') => {
            Some(s.clone())
        }
        Some(_) => {
            errors.insert(field.into(), format!("must be a string of 1 to {max} characters"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_a_well_formed_event() {
        let e =
            validate(&json!({"type": "order.completed:v1-x_y", "payload": {"a": 1}, "clientEventId": "c1"})).unwrap();
        assert_eq!(e.event_type, "order.completed:v1-x_y");
        assert_eq!(e.client_event_id.as_deref(), Some("c1"));
    }

    #[test]
    fn names_each_bad_field() {
        let Err(Error::Validation(f)) =
            validate(&json!({"type": "bad type!", "payload": [1], "timestamp": "yesterday"}))
        else {
            panic!("expected a validation error")
        };
        assert!(f.contains_key("type") && f.contains_key("payload") && f.contains_key("timestamp"));
    }

    #[test]
    fn type_length_is_bounded() {
        assert!(validate(&json!({"type": "a".repeat(100), "payload": {}})).is_ok());
        assert!(validate(&json!({"type": "a".repeat(101), "payload": {}})).is_err());
        assert!(validate(&json!({"type": "", "payload": {}})).is_err());
    }
}
