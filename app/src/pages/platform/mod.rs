//! The platform panel's pages.

pub mod dashboard;
pub mod login;
pub mod projects;
