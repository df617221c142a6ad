//! Small checks shared by the request validators.

use std::sync::OnceLock;

use regex::Regex;

pub fn email(s: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"^[^\s@]+@[^\s@]+\.[^\s@]+$").expect("valid regex"));
    s.len() <= 255 && re.is_match(s.trim())
}

pub fn password(s: &str) -> bool {
    (8..=256).contains(&s.chars().count())
}

/// A name a person gives: 1 to `max` characters, not only blanks.
pub fn name(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max
}

/// `#rrggbb`.
pub fn hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

pub fn slug(s: &str) -> bool {
    (1..=100).contains(&s.len()) && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

pub fn http_url(s: &str) -> bool {
    s.len() <= 500 && (s.starts_with("https://") || s.starts_with("http://")) && !s.contains(char::is_whitespace)
}

/// Turns a name into a URL-safe slug.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').chars().take(80).collect::<String>();
    if out.is_empty() {
        "project".into()
    } else {
        out
    }
}

/// A path id must be a UUID; anything else cannot name a resource, so it is a 404.
pub fn id(s: &str) -> crate::error::Result<String> {
    uuid::Uuid::parse_str(s).map(|u| u.to_string()).map_err(|_| crate::error::Error::NotFound)
}
