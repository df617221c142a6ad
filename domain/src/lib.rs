//! The notification platform's business logic and storage. Both the axum handlers and workers
//! (`server`) and the admin panel's server functions (`app`) call into this crate; it never
//! compiles to wasm.

pub mod analytics;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod config;
pub mod crypto;
pub mod db;
pub mod engine;
pub mod error;
pub mod events;
pub mod mail;
pub mod notifications;
pub mod page;
pub mod patch;
pub mod plans;
pub mod platform_admins;
pub mod projects;
pub mod push;
pub mod queue;
pub mod realtime;
pub mod roles;
pub mod rules;
pub mod services;
pub mod sounds;
pub mod time;
pub mod usage;
pub mod users;
pub mod validate;
pub mod webhooks;

pub use error::{Error, Result};
pub use services::Services;
