//! A small typed client for the parts of Stripe's API billing uses, spoken as Stripe speaks it:
//! form-encoded requests with bracketed keys, a bearer secret key, JSON answers, and
//! `Idempotency-Key` on writes that may be retried. `STRIPE_API_BASE` points it elsewhere (the
//! test suite's stand-in). See docs/PLANS.md for why this is not the `async-stripe` crate.

use std::time::Duration;

use serde::Deserialize;

use crate::config::BillingSettings;
use crate::error::{Error, Result};

pub struct Stripe {
    http: reqwest::Client,
    base: String,
    secret_key: String,
}

#[derive(Debug, Deserialize)]
pub struct Created {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
}

impl Stripe {
    /// The client, when `STRIPE_SECRET_KEY` is set.
    pub fn from_settings(s: &BillingSettings) -> Option<Stripe> {
        let secret_key = s.stripe_secret_key.clone()?;
        let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().ok()?;
        Some(Stripe { http, base: s.api_base.trim_end_matches('/').to_string(), secret_key })
    }

    async fn post(&self, path: &str, form: &[(String, String)], idempotency_key: Option<&str>) -> Result<Created> {
        let mut req = self.http.post(format!("{}{}", self.base, path)).bearer_auth(&self.secret_key).form(form);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        let res = req.send().await.map_err(|e| Error::Upstream(format!("Stripe could not be reached: {e}")))?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        if !status.is_success() {
            let message = body.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or("no message");
            tracing::warn!(stripe.path = path, http.status = status.as_u16(), "Stripe refused a request");
            return Err(Error::Upstream(format!("Stripe answered {status}: {message}")));
        }
        serde_json::from_value(body).map_err(|e| Error::Upstream(format!("Stripe's answer was not understood: {e}")))
    }

    /// `POST /v1/customers`.
    pub async fn create_customer(&self, project_id: &str, name: &str, email: Option<&str>) -> Result<String> {
        let mut form =
            vec![("name".to_string(), name.to_string()), ("metadata[projectId]".into(), project_id.to_string())];
        if let Some(e) = email {
            form.push(("email".into(), e.to_string()));
        }
        Ok(self.post("/v1/customers", &form, Some(&format!("customer-{project_id}"))).await?.id)
    }

    /// `POST /v1/checkout/sessions`: a subscription to `price` (and the metered overage price,
    /// when configured) for the project; answers the page's URL.
    pub async fn create_checkout_session(&self, c: &CheckoutRequest<'_>) -> Result<String> {
        let mut form: Vec<(String, String)> = vec![
            ("mode".into(), "subscription".into()),
            ("customer".into(), c.customer.into()),
            ("client_reference_id".into(), c.project_id.into()),
            ("success_url".into(), format!("{}?checkout=success", c.return_url)),
            ("cancel_url".into(), format!("{}?checkout=cancelled", c.return_url)),
            ("line_items[0][price]".into(), c.price.into()),
            ("line_items[0][quantity]".into(), "1".into()),
            ("metadata[projectId]".into(), c.project_id.into()),
            ("metadata[plan]".into(), c.plan.into()),
            ("subscription_data[metadata][projectId]".into(), c.project_id.into()),
            ("subscription_data[metadata][plan]".into(), c.plan.into()),
        ];
        if let Some(overage) = c.overage_price {
            form.push(("line_items[1][price]".into(), overage.into()));
        }
        self.post("/v1/checkout/sessions", &form, None)
            .await?
            .url
            .ok_or_else(|| Error::Upstream("Stripe's checkout session has no url".into()))
    }

    /// `POST /v1/billing_portal/sessions`; answers the portal's URL.
    pub async fn create_portal_session(&self, customer: &str, return_url: &str) -> Result<String> {
        let form = vec![("customer".to_string(), customer.to_string()), ("return_url".into(), return_url.to_string())];
        self.post("/v1/billing_portal/sessions", &form, None)
            .await?
            .url
            .ok_or_else(|| Error::Upstream("Stripe's portal session has no url".into()))
    }

    /// `POST /v1/subscription_items/{item}/usage_records`: adds `quantity` metered units.
    /// `idempotency_key` makes a retried report count once.
    pub async fn report_usage(&self, item: &str, quantity: i64, idempotency_key: &str) -> Result<()> {
        let form = vec![
            ("quantity".to_string(), quantity.to_string()),
            ("timestamp".into(), crate::time::now().timestamp().to_string()),
            ("action".into(), "increment".into()),
        ];
        self.post(&format!("/v1/subscription_items/{item}/usage_records"), &form, Some(idempotency_key)).await?;
        Ok(())
    }
}

pub struct CheckoutRequest<'a> {
    pub project_id: &'a str,
    pub customer: &'a str,
    pub plan: &'a str,
    pub price: &'a str,
    pub overage_price: Option<&'a str>,
    pub return_url: &'a str,
}
