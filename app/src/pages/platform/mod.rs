//! The platform panel's pages.

pub mod login;
pub mod projects;
