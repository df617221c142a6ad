//! Server functions of the panels: thin adapters over `domain`, exactly as the REST handlers are
//! (docs/PANELS.md). Each authorises itself from the session cookie, calls one domain function and
//! answers a small serialisable view of the result. The views are read off the domain's own JSON
//! (the REST API's shapes), so the panel and the API cannot disagree on a field.

pub mod activity;
pub mod analytics;
pub mod audit;
pub mod billing;
pub mod dashboard;
pub mod keys;
pub mod platform;
pub mod roles;
pub mod rules;
pub mod session;
pub mod settings;
pub mod signup;
pub mod sounds;
pub mod users;
pub mod webhook;

#[cfg(feature = "ssr")]
pub mod ssr;

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The cookie holding a project admin's session token.
pub const SESSION_COOKIE: &str = "notify_session";
/// The cookie holding a platform admin's session token.
pub const ADMIN_COOKIE: &str = "notify_admin";
/// The message of the error a server function answers when no one is signed in.
pub const SIGN_IN_FIRST: &str = "Please sign in.";

/// A failure as the panel shows it: a sentence, and per-field messages for a form.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Problem {
    pub message: String,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

impl Problem {
    /// Reads the problem a server function sent (see `ssr::user_error`).
    pub fn of(e: &ServerFnError) -> Problem {
        match e {
            ServerFnError::ServerError(text) => {
                serde_json::from_str(text).unwrap_or_else(|_| Problem { message: text.clone(), ..Default::default() })
            }
            _ => Problem { message: "The server could not be reached. Try again.".into(), ..Default::default() },
        }
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }
}

/// The sentence of a server function's error.
pub fn message(e: &ServerFnError) -> String {
    Problem::of(e).message
}
