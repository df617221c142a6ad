//! One file per area of the REST API; each exposes `routes()`.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod events;
pub mod health;
pub mod notifications;
pub mod platform;
pub mod projects_me;
pub mod push;
pub mod roles;
pub mod rules;
pub mod signup;
pub mod sounds;
pub mod users;
pub mod webhooks;
