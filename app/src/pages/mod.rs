//! One module per page of the platform admin panel.

pub mod projects;
pub mod sign_in;
