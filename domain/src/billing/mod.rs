//! Stripe billing (docs/PLANS.md): Checkout for the paid plans, the Customer Portal, the
//! subscription mirrored on the project through Stripe's webhooks ([`webhook`]), `past_due` with a
//! grace period and suspension after it ([`state`]), and metered overage for projects whose
//! policy is `bill`. Without `STRIPE_SECRET_KEY` the endpoints answer 503 `billing_unavailable`
//! and everything else runs.

mod overage;
pub mod signature;
pub mod state;
pub mod stripe;
pub mod webhook;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::Tenant;
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time::Timestamp;

pub use stripe::Stripe;

/// `GET /projects/me/billing`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Billing {
    pub plan: String,
    pub status: String,
    pub billing_email: Option<String>,
    pub stripe_customer_id: Option<String>,
    pub subscription_id: Option<String>,
    pub subscription_status: Option<String>,
    pub current_period_end: Option<Timestamp>,
    pub grace_until: Option<Timestamp>,
    pub overage: String,
}

fn stripe(svc: &Services) -> Result<&Stripe> {
    svc.stripe.as_ref().ok_or(Error::BillingUnavailable)
}

pub async fn get(svc: &Services, t: &Tenant) -> Result<Billing> {
    t.require_admin()?;
    stripe(svc)?;
    let p = crate::projects::load(svc, t.project_id()).await?;
    Ok(Billing {
        plan: p.plan,
        status: p.status,
        billing_email: p.billing_email,
        stripe_customer_id: p.stripe_customer_id,
        subscription_id: p.subscription_id,
        subscription_status: p.subscription_status,
        current_period_end: p.current_period_end,
        grace_until: p.grace_until,
        overage: p.overage,
    })
}

#[derive(Debug, Deserialize)]
pub struct CheckoutInput {
    pub plan: String,
}

#[derive(Debug, Serialize)]
pub struct Url {
    pub url: String,
}

/// The project's Stripe customer, made on first need.
async fn customer(svc: &Services, t: &Tenant, meta: &RequestMeta) -> Result<String> {
    let p = crate::projects::load(svc, t.project_id()).await?;
    if let Some(c) = p.stripe_customer_id {
        return Ok(c);
    }
    let id = stripe(svc)?.create_customer(&p.id, &p.name, p.billing_email.as_deref()).await?;
    let mut tx = svc.db.begin_write().await?;
    let set = sqlx::query("UPDATE projects SET stripe_customer_id = $1 WHERE id = $2 AND stripe_customer_id IS NULL")
        .bind(&id)
        .bind(&p.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if set == 1 {
        let entry = AuditEntry::tenant(t, "billing.customer", "project", Some(t.project_id()), meta)
            .with_metadata(serde_json::json!({"stripeCustomerId": id}));
        audit::record_in(&mut tx, entry).await?;
    }
    tx.commit().await?;
    // Another request may have made one first; theirs stands.
    let current: Option<String> = sqlx::query_scalar("SELECT stripe_customer_id FROM projects WHERE id = $1")
        .bind(&p.id)
        .fetch_one(svc.db.pool())
        .await?;
    current.ok_or_else(|| Error::internal("the Stripe customer was not kept"))
}

/// `POST /projects/me/billing/checkout {plan}`: a Checkout Session for starter or professional.
pub async fn checkout(svc: &Services, t: &Tenant, input: CheckoutInput, meta: &RequestMeta) -> Result<Url> {
    t.require_admin()?;
    let client = stripe(svc)?;
    let b = &svc.settings.billing;
    let price = match input.plan.as_str() {
        "starter" => b.price_starter.as_deref(),
        "professional" => b.price_professional.as_deref(),
        _ => return Err(Error::field("plan", "must be starter or professional")),
    }
    .ok_or(Error::BillingUnavailable)?;
    let customer = customer(svc, t, meta).await?;
    let url = client
        .create_checkout_session(&stripe::CheckoutRequest {
            project_id: t.project_id(),
            customer: &customer,
            plan: &input.plan,
            price,
            overage_price: b.price_overage.as_deref(),
            return_url: &b.return_url,
        })
        .await?;
    Ok(Url { url })
}

/// `POST /projects/me/billing/portal`: a Customer Portal session.
pub async fn portal(svc: &Services, t: &Tenant, meta: &RequestMeta) -> Result<Url> {
    t.require_admin()?;
    let client = stripe(svc)?;
    let customer = customer(svc, t, meta).await?;
    Ok(Url { url: client.create_portal_session(&customer, &svc.settings.billing.return_url).await? })
}

/// Every `BILLING_SWEEP_SECS`: suspends projects past their grace and reports metered overage.
pub fn spawn_sweeper(svc: Arc<Services>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(svc.settings.billing.sweep_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = state::suspend_overdue(&svc).await {
                tracing::warn!(error = %e, "the grace-period sweep failed");
            }
            if svc.stripe.is_some() {
                if let Err(e) = overage::report(&svc).await {
                    tracing::warn!(error = %e, "reporting overage to Stripe failed");
                }
            }
        }
    });
}
