//! argon2id off the async workers and bounded: each hash takes tens of milliseconds of CPU on the
//! blocking pool the rule engine also uses, so at most `PASSWORD_HASH_CONCURRENCY` run at once and
//! a login flood waits its turn instead of starving everything else.

use tokio::sync::Semaphore;

use crate::crypto;
use crate::error::{Error, Result};
use crate::services::Services;

/// The permits for password work, one per hash running.
pub struct PasswordWork {
    permits: Semaphore,
}

impl PasswordWork {
    pub fn new(concurrency: usize) -> Self {
        PasswordWork { permits: Semaphore::new(concurrency.max(1)) }
    }
}

/// Whether `password` matches the stored argon2id hash.
pub async fn verify(svc: &Services, password: String, hash: String) -> bool {
    let Ok(_permit) = svc.password_work.permits.acquire().await else { return false };
    tokio::task::spawn_blocking(move || crypto::verify_password(&password, &hash)).await.unwrap_or(false)
}

/// The argon2id hash of `password`.
pub async fn hash(svc: &Services, password: String) -> Result<String> {
    let _permit = svc.password_work.permits.acquire().await.map_err(Error::internal)?;
    tokio::task::spawn_blocking(move || crypto::hash_password(&password)).await.map_err(Error::internal)
}
