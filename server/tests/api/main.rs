//! Integration tests: the real server over HTTP, on SQLite, and on PostgreSQL (+ Redis) when
//! TEST_DATABASE_URL (and TEST_REDIS_URL) are set.

mod analytics;
mod api_keys;
mod audit;
mod auth_hardening;
mod billing;
mod bombs;
mod delivery;
mod engine;
mod errors;
mod events;
mod helpers;
mod isolation;
mod mail;
mod own_pusher;
mod platform;
mod poison;
mod projects_me;
mod push;
mod quotas;
mod realtime;
mod roles;
mod signup;
mod sounds;
mod storage;
mod users;
mod webhooks;
