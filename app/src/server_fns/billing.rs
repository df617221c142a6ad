//! The project's plan and billing: state, usage against the plan's quotas, and the ways to Stripe
//! (Checkout to upgrade, the Customer Portal to manage payment).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::dashboard::Meter;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BillingView {
    pub plan: String,
    pub status: String,
    pub billing_email: Option<String>,
    pub subscription_status: Option<String>,
    pub current_period_end: Option<String>,
    pub grace_until: Option<String>,
    pub overage: String,
    #[serde(default)]
    pub meters: Vec<Meter>,
    /// Whether this platform takes payments (Stripe is configured).
    #[serde(default)]
    pub available: bool,
}

#[server(prefix = "/_panel")]
pub async fn get_billing() -> Result<BillingView, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let mut view: BillingView = match domain::billing::get(&svc, &t).await {
        Ok(b) => {
            let mut v: BillingView = ssr::view_of(b)?;
            v.available = true;
            v
        }
        // Without Stripe the plan and usage still show; only paying is unavailable.
        Err(domain::Error::BillingUnavailable) => {
            let p = domain::projects::me::get(&svc, &t).await.map_err(ssr::user_error)?;
            let mut v: BillingView = ssr::view_of(&p)?;
            v.available = false;
            v
        }
        Err(e) => return Err(ssr::user_error(e)),
    };
    let usage = domain::usage::for_project(&svc, &t, &Default::default()).await.map_err(ssr::user_error)?;
    view.meters = vec![
        Meter {
            label: "Events this month".into(),
            used: usage.current.events_this_month,
            limit: usage.quotas.events_per_month,
        },
        Meter {
            label: "Notifications this month".into(),
            used: usage.current.notifications_this_month,
            limit: usage.quotas.notifications_per_month,
        },
    ];
    Ok(view)
}

/// Sends the browser to Stripe Checkout for `plan`.
#[server(prefix = "/_panel")]
pub async fn upgrade(plan: String) -> Result<(), ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let input = domain::billing::CheckoutInput { plan };
    let url = domain::billing::checkout(&svc, &t, input, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    leptos_axum::redirect(&url.url);
    Ok(())
}

/// Sends the browser to Stripe's Customer Portal.
#[server(prefix = "/_panel")]
pub async fn manage_billing() -> Result<(), ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let url = domain::billing::portal(&svc, &t, &ssr::meta(&svc)?).await.map_err(ssr::user_error)?;
    leptos_axum::redirect(&url.url);
    Ok(())
}
