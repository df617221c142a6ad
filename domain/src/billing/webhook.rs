//! `POST /billing/stripe/webhook`: Stripe's events, verified ([`super::signature`]) and each
//! handled once (its id is recorded in `stripe_events` in the same transaction as its effect).
//! An object belongs to the project named by `metadata.projectId` (or a Checkout Session's
//! `client_reference_id`), else to the project whose `stripeCustomerId` it carries.

use serde_json::Value;

use super::state::{self, Change};
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time;

/// What became of a delivered event.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub received: bool,
    pub duplicate: bool,
}

pub async fn receive(svc: &Services, signature: Option<&str>, body: &[u8]) -> Result<Receipt> {
    let secret = svc.settings.billing.stripe_webhook_secret.as_deref().ok_or(Error::BillingUnavailable)?;
    let header = signature.ok_or_else(|| Error::BadRequest("the Stripe-Signature header is missing".into()))?;
    super::signature::verify(
        secret,
        header,
        body,
        time::now().timestamp(),
        svc.settings.billing.webhook_tolerance_secs,
    )
    .map_err(|m| Error::BadRequest(m.into()))?;
    let event: Value = serde_json::from_slice(body).map_err(|_| Error::BadRequest("the event is not JSON".into()))?;
    let id = event["id"].as_str().ok_or_else(|| Error::BadRequest("the event has no id".into()))?;
    let kind = event["type"].as_str().unwrap_or("");
    let object = &event["data"]["object"];

    let mut tx = svc.db.begin_write().await?;
    let project_id = owner(&mut tx, object).await?;
    let fresh = sqlx::query(
        "INSERT INTO stripe_events (id, event_type, project_id, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(kind)
    .bind(&project_id)
    .bind(time::to_db(time::now()))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        tx.rollback().await?;
        return Ok(Receipt { received: true, duplicate: true });
    }
    if let Some(project_id) = &project_id {
        if let Some(change) = change_for(svc, kind, object) {
            state::apply(&mut tx, svc, project_id, change, &format!("stripe:{kind}")).await?;
        }
    } else {
        tracing::info!(stripe.event = id, stripe.type = kind, "a Stripe event for no known project");
    }
    tx.commit().await?;
    if let Some(p) = &project_id {
        crate::projects::forget(svc, p);
    }
    Ok(Receipt { received: true, duplicate: false })
}

async fn owner(conn: &mut sqlx::AnyConnection, object: &Value) -> Result<Option<String>> {
    let named = object["metadata"]["projectId"].as_str().or_else(|| object["client_reference_id"].as_str());
    if let Some(id) = named {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM projects WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let Some(customer) = object["customer"].as_str() else { return Ok(None) };
    Ok(sqlx::query_scalar("SELECT id FROM projects WHERE stripe_customer_id = $1")
        .bind(customer)
        .fetch_optional(&mut *conn)
        .await?)
}

/// The plan a subscription's prices (or its metadata) name.
fn plan_of(svc: &Services, subscription: &Value) -> Option<String> {
    let b = &svc.settings.billing;
    let items = subscription["items"]["data"].as_array().cloned().unwrap_or_default();
    for item in &items {
        let price = item["price"]["id"].as_str();
        if price.is_some() && price == b.price_starter.as_deref() {
            return Some("starter".into());
        }
        if price.is_some() && price == b.price_professional.as_deref() {
            return Some("professional".into());
        }
    }
    subscription["metadata"]["plan"].as_str().filter(|p| crate::plans::is_plan(p)).map(str::to_string)
}

fn change_for(svc: &Services, kind: &str, o: &Value) -> Option<Change> {
    let epoch = |v: &Value| v.as_i64().and_then(|s| chrono::DateTime::from_timestamp(s, 0));
    match kind {
        "checkout.session.completed" => Some(Change {
            customer: o["customer"].as_str().map(str::to_string),
            subscription_id: Some(o["subscription"].as_str().map(str::to_string)),
            plan: o["metadata"]["plan"].as_str().filter(|p| crate::plans::is_plan(p)).map(str::to_string),
            subscription_status: Some(Some("active".into())),
            ..Default::default()
        }),
        "customer.subscription.created" | "customer.subscription.updated" => {
            let status = o["status"].as_str().unwrap_or("").to_string();
            let live = matches!(status.as_str(), "active" | "trialing" | "past_due");
            let period_end =
                epoch(&o["current_period_end"]).or_else(|| epoch(&o["items"]["data"][0]["current_period_end"]));
            let overage_item = svc.settings.billing.price_overage.as_deref().and_then(|price| {
                o["items"]["data"].as_array()?.iter().find(|i| i["price"]["id"].as_str() == Some(price))?["id"]
                    .as_str()
                    .map(str::to_string)
            });
            Some(Change {
                customer: o["customer"].as_str().map(str::to_string),
                subscription_id: Some(o["id"].as_str().map(str::to_string)),
                subscription_status: Some(Some(status)),
                subscription_item_id: Some(overage_item),
                current_period_end: Some(period_end),
                plan: if live { plan_of(svc, o) } else { Some("free".into()) },
                ..Default::default()
            })
        }
        "customer.subscription.deleted" => Some(Change {
            subscription_id: Some(None),
            subscription_status: Some(Some("canceled".into())),
            subscription_item_id: Some(None),
            current_period_end: Some(None),
            plan: Some("free".into()),
            reactivate: true,
            ..Default::default()
        }),
        "invoice.paid" => Some(Change { reactivate: true, ..Default::default() }),
        "invoice.payment_failed" => Some(Change { payment_failed: true, ..Default::default() }),
        _ => None,
    }
}
