//! The `server` binary's library: the HTTP API, start-up, and (later) the realtime socket and
//! workers. Integration tests drive [`startup::app`] directly.

pub mod http;
pub mod realtime;
pub mod startup;
pub mod worker;
