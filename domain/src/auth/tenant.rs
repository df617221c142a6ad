//! The tenant context. Only authentication in this module can build one, so every handler that
//! touches a project's data shows in its signature that it was authenticated for that project, and
//! every repository call takes it first and binds its project id.

use super::permission::Permission;
use crate::error::{Error, Result};

/// Who acts inside a project.
#[derive(Clone, Debug)]
pub enum Actor {
    /// A server holding an API key and secret.
    ApiKey { key_id: String, permissions: Vec<Permission> },
    /// A user holding the project's `admin` role, signed in with a token.
    ProjectAdmin { user_id: String },
    /// An end user, signed in with a token.
    User { user_id: String },
    /// The platform's own workers acting on a project's queued work.
    System,
}

/// An authenticated request's project and actor.
#[derive(Clone, Debug)]
pub struct Tenant {
    project_id: String,
    actor: Actor,
    /// The key's request budget after this request (API keys of rate-limited plans).
    rate: Option<crate::usage::rate::RateStatus>,
}

impl Tenant {
    /// Authentication only; see the `auth` module.
    pub(in crate::auth) fn new(project_id: String, actor: Actor) -> Self {
        Tenant { project_id, actor, rate: None }
    }

    pub(in crate::auth) fn with_rate(mut self, rate: Option<crate::usage::rate::RateStatus>) -> Self {
        self.rate = rate;
        self
    }

    /// For the `RateLimit-*` headers of the answer.
    pub fn rate(&self) -> Option<crate::usage::rate::RateStatus> {
        self.rate
    }

    /// A context for the platform's own background work on one project (the rule engine, the
    /// delivery workers): the project comes from the queued work, not from credentials. Only
    /// crate-internal jobs may build one; nothing reachable from a request does.
    pub(crate) fn system_for_queued_work(project_id: &str) -> Self {
        Tenant { project_id: project_id.to_string(), actor: Actor::System, rate: None }
    }

    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// A key must hold the permission; a project admin holds them all; an end user none.
    pub fn require(&self, permission: Permission) -> Result<()> {
        match &self.actor {
            Actor::ApiKey { permissions, .. } if permissions.contains(&permission) => Ok(()),
            Actor::ApiKey { .. } => Err(Error::Forbidden("this API key lacks the permission")),
            Actor::ProjectAdmin { .. } | Actor::System => Ok(()),
            Actor::User { .. } => Err(Error::Forbidden("end users cannot do this")),
        }
    }

    /// The end user acting, if the actor is one (or a project admin, who is also a user).
    pub fn user_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::User { user_id } | Actor::ProjectAdmin { user_id } => Some(user_id),
            _ => None,
        }
    }

    /// Project settings, keys and credentials take a project admin's token.
    pub fn require_admin(&self) -> Result<()> {
        match &self.actor {
            Actor::ProjectAdmin { .. } => Ok(()),
            _ => Err(Error::Forbidden("a project admin's token is required")),
        }
    }

    /// The actor as the audit log records it: (type, id).
    pub fn audit_actor(&self) -> (&'static str, &str) {
        match &self.actor {
            Actor::ApiKey { key_id, .. } => ("api_key", key_id),
            Actor::ProjectAdmin { user_id } => ("project_admin", user_id),
            Actor::User { user_id } => ("user", user_id),
            Actor::System => ("system", "worker"),
        }
    }
}

/// A platform admin, from a verified token.
#[derive(Clone, Debug)]
pub struct PlatformAdminCtx {
    admin_id: String,
    role: AdminRole,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    SuperAdmin,
    Support,
    Billing,
}

impl AdminRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::SuperAdmin => "super_admin",
            AdminRole::Support => "support",
            AdminRole::Billing => "billing",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [AdminRole::SuperAdmin, AdminRole::Support, AdminRole::Billing].into_iter().find(|r| r.as_str() == s)
    }
}

impl PlatformAdminCtx {
    pub(in crate::auth) fn new(admin_id: String, role: AdminRole) -> Self {
        PlatformAdminCtx { admin_id, role }
    }

    pub fn admin_id(&self) -> &str {
        &self.admin_id
    }

    pub fn role(&self) -> AdminRole {
        self.role
    }

    /// Fails unless the admin holds one of `roles` (a super admin holds every one).
    pub fn require(&self, roles: &[AdminRole]) -> Result<()> {
        if self.role == AdminRole::SuperAdmin || roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Error::Forbidden("your platform role does not allow this"))
        }
    }
}
