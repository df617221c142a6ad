//! Self-service sign-up (`POST /api/v1/signup`, docs/API.md "Sign-up and custom domains"): a new
//! project on the free plan, its owner as the project admin, the first key pair (secret shown once)
//! and a session token for the owner. A paid plan asked for at sign-up starts on free and the answer
//! carries the Stripe Checkout link that moves it to the paid plan once paid (docs/PLANS.md).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::platform::{self, NewProject};
use super::Project;
use crate::api_keys::CreatedApiKey;
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::{self, Principal};
use crate::error::{Error, Result, Validator};
use crate::services::Services;
use crate::time::Timestamp;
use crate::validate;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signup {
    pub email: String,
    pub password: String,
    /// The owner's own name.
    pub name: String,
    pub project_name: String,
    #[serde(default)]
    pub plan: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedUp {
    pub project: Project,
    pub api_key: CreatedApiKey,
    pub token: String,
    pub expires_at: Timestamp,
    /// Where to pay for the paid plan asked for; `null` for free, or when billing is not set up.
    pub checkout_url: Option<String>,
}

/// Signs a new client company up. `client` is the caller's address: sign-ups per address are
/// limited (`SIGNUPS_PER_ADDRESS_PER_HOUR`).
pub async fn signup(svc: &Services, input: Signup, client: Option<IpAddr>, meta: &RequestMeta) -> Result<SignedUp> {
    let plan = input.plan.clone().unwrap_or_else(|| "free".into());
    let mut v = Validator::new();
    v.check(validate::email(input.email.trim()), "email", "must be an email address")
        .check(validate::password(&input.password), "password", "must be 8 to 256 characters")
        .check(validate::name(&input.name, 255), "name", "must be 1 to 255 characters")
        .check(validate::name(&input.project_name, 255), "projectName", "must be 1 to 255 characters")
        .check(crate::plans::is_plan(&plan) && plan != "enterprise", "plan", "must be free, starter or professional");
    v.finish()?;
    svc.login_throttle.signup(client)?;

    let created = platform::insert(
        svc,
        NewProject {
            name: input.project_name.clone(),
            slug: None,
            plan: Some("free".into()),
            billing_email: Some(input.email.trim().to_lowercase()),
            owner_email: Some(input.email.clone()),
            owner_password: Some(input.password.clone()),
            owner_name: Some(input.name.clone()),
        },
        None,
    )
    .await?;
    let owner = created.owner.ok_or_else(|| Error::internal("sign-up created no owner"))?;

    let (token, expires_at) = auth::token::issue(
        &svc.keys,
        owner.id.clone(),
        Some(created.project.id.clone()),
        owner.roles.clone(),
        auth::token::TokenType::ProjectAdmin,
    );
    let Principal::Tenant(tenant) = auth::bearer(svc, &token).await? else {
        return Err(Error::internal("the owner's token is not a project token"));
    };
    audit::record(
        svc,
        AuditEntry::tenant(&tenant, "project.signup", "project", Some(&created.project.id), meta)
            .with_metadata(serde_json::json!({"name": created.project.name, "plan": plan})),
    )
    .await?;

    let checkout_url = if plan == "free" {
        None
    } else {
        match crate::billing::checkout(svc, &tenant, crate::billing::CheckoutInput { plan }, meta).await {
            Ok(u) => Some(u.url),
            Err(Error::BillingUnavailable) => None,
            Err(e) => return Err(e),
        }
    };
    Ok(SignedUp { project: created.project, api_key: created.api_key, token, expires_at, checkout_url })
}
