//! The publishable key alone (`X-API-Key: pk_…` without a secret). It is printed into mobile apps
//! and web pages, so it proves nothing about the caller: it only names a project. The one thing it
//! opens is self-registration (a `pending` user that an admin approves); it never builds a
//! [`super::Tenant`].

use crate::error::{Error, Result};
use crate::services::Services;

/// A project named by its publishable key. Only [`publishable`] builds one.
#[derive(Clone, Debug)]
pub struct PublicProject {
    project_id: String,
    key_id: String,
}

impl PublicProject {
    pub(in crate::auth) fn new(project_id: String, key_id: String) -> Self {
        PublicProject { project_id, key_id }
    }

    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The key that named the project, as the audit log records it.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

/// Looks a publishable key up: it must exist, be active and unexpired, and its project active.
pub async fn publishable(svc: &Services, key: &str) -> Result<PublicProject> {
    let Some(k) = svc.auth_cache.key(&svc.db, key).await? else {
        return Err(Error::Unauthenticated("unknown API key"));
    };
    if k.revoked {
        return Err(Error::Unauthenticated("this API key was revoked"));
    }
    if k.expires_at.is_some_and(|t| t <= crate::time::now()) {
        return Err(Error::Unauthenticated("this API key has expired"));
    }
    super::ensure_project_active(svc, &k.project_id).await?;
    Ok(PublicProject::new(k.project_id.clone(), k.id.clone()))
}
