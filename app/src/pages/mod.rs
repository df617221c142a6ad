//! One module per page (docs/PANELS.md "Pages"): the client panel's at the top, the platform
//! panel's under [`platform`].

pub mod activity;
pub mod analytics;
pub mod audit;
pub mod billing;
pub mod dashboard;
pub mod keys;
pub mod login;
pub mod platform;
pub mod roles;
pub mod rules;
pub mod settings;
pub mod signup;
pub mod sounds;
pub mod users;
pub mod webhook;
