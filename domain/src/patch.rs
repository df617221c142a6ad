//! Partial updates: a field left out keeps its value, `null` clears it, a value sets it.

use serde::{Deserialize, Deserializer};

/// `Option<Option<T>>` from a JSON field: absent → `None`, `null` → `Some(None)`.
pub fn nullable<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Applies a nullable patch field to the current value.
pub fn apply<T>(current: Option<T>, patch: Option<Option<T>>) -> Option<T> {
    match patch {
        None => current,
        Some(v) => v,
    }
}
