//! The plans and what each allows (docs/PLANS.md), in one place: monthly volumes, count limits,
//! plan-gated features and the per-key request rate. `None` means unlimited.

use serde::{Deserialize, Serialize};

/// A project's quotas: the plan's, with any staff overrides applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quotas {
    pub events_per_month: Option<i64>,
    pub notifications_per_month: Option<i64>,
    pub users: Option<i64>,
    pub rules: Option<i64>,
    pub sounds: Option<i64>,
}

/// The names of [`Quotas`]' fields as the API spells them.
pub const QUOTA_NAMES: [&str; 5] = ["eventsPerMonth", "notificationsPerMonth", "users", "rules", "sounds"];

impl Quotas {
    pub fn get(&self, name: &str) -> Option<i64> {
        match name {
            "eventsPerMonth" => self.events_per_month,
            "notificationsPerMonth" => self.notifications_per_month,
            "users" => self.users,
            "rules" => self.rules,
            "sounds" => self.sounds,
            _ => None,
        }
    }

    pub fn set(&mut self, name: &str, value: Option<i64>) {
        match name {
            "eventsPerMonth" => self.events_per_month = value,
            "notificationsPerMonth" => self.notifications_per_month = value,
            "users" => self.users = value,
            "rules" => self.rules = value,
            "sounds" => self.sounds = value,
            _ => {}
        }
    }
}

/// A plan tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub name: &'static str,
    pub quotas: Quotas,
    pub webhook: bool,
    pub custom_domain: bool,
    /// Requests a second per API key (also the burst).
    pub rate_limit_per_second: Option<u32>,
    /// Whether the plan may go past its monthly event quota when the project's overage policy is
    /// `bill`. The free plan always stops at 100%.
    pub paid: bool,
}

const fn q(events: i64, notifications: i64, users: i64, rules: i64, sounds: i64) -> Quotas {
    Quotas {
        events_per_month: Some(events),
        notifications_per_month: Some(notifications),
        users: Some(users),
        rules: Some(rules),
        sounds: Some(sounds),
    }
}

pub const PLANS: [Plan; 4] = [
    Plan {
        name: "free",
        quotas: q(1_000, 5_000, 100, 5, 3),
        webhook: false,
        custom_domain: false,
        rate_limit_per_second: Some(10),
        paid: false,
    },
    Plan {
        name: "starter",
        quotas: q(50_000, 100_000, 1_000, 25, 10),
        webhook: true,
        custom_domain: false,
        rate_limit_per_second: Some(100),
        paid: true,
    },
    Plan {
        name: "professional",
        quotas: q(500_000, 1_000_000, 10_000, 100, 50),
        webhook: true,
        custom_domain: true,
        rate_limit_per_second: Some(500),
        paid: true,
    },
    Plan {
        name: "enterprise",
        quotas: Quotas {
            events_per_month: None,
            notifications_per_month: None,
            users: None,
            rules: None,
            sounds: None,
        },
        webhook: true,
        custom_domain: true,
        rate_limit_per_second: None,
        paid: true,
    },
];

/// The plan named `name`; an unknown name (never stored: plans are validated) reads as free.
pub fn plan(name: &str) -> &'static Plan {
    PLANS.iter().find(|p| p.name == name).unwrap_or(&PLANS[0])
}

pub fn is_plan(name: &str) -> bool {
    PLANS.iter().any(|p| p.name == name)
}

/// The plans a project can check out through Stripe.
pub const CHECKOUT_PLANS: [&str; 2] = ["starter", "professional"];

/// A project's overrides: quota name → value (`null` = unlimited), as stored in
/// `projects.quota_overrides`.
pub type Overrides = serde_json::Map<String, serde_json::Value>;

/// The plan's quotas with `overrides` applied.
pub fn effective(plan_name: &str, overrides: &Overrides) -> Quotas {
    let mut quotas = plan(plan_name).quotas;
    for name in QUOTA_NAMES {
        if let Some(v) = overrides.get(name) {
            quotas.set(name, v.as_i64());
        }
    }
    quotas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_over_the_plan_and_null_is_unlimited() {
        let mut o = Overrides::new();
        o.insert("eventsPerMonth".into(), 7.into());
        o.insert("users".into(), serde_json::Value::Null);
        let q = effective("free", &o);
        assert_eq!(q.events_per_month, Some(7));
        assert_eq!(q.users, None);
        assert_eq!(q.rules, Some(5));
        assert_eq!(effective("enterprise", &Overrides::new()).events_per_month, None);
        assert_eq!(plan("starter").quotas.events_per_month, Some(50_000));
    }
}
