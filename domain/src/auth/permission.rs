//! What an API key may do, from the contract's list.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    #[serde(rename = "events:write")]
    EventsWrite,
    #[serde(rename = "users:manage")]
    UsersManage,
    #[serde(rename = "notifications:read")]
    NotificationsRead,
    #[serde(rename = "rules:manage")]
    RulesManage,
}

impl Permission {
    pub const ALL: [Permission; 4] =
        [Permission::EventsWrite, Permission::UsersManage, Permission::NotificationsRead, Permission::RulesManage];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::EventsWrite => "events:write",
            Permission::UsersManage => "users:manage",
            Permission::NotificationsRead => "notifications:read",
            Permission::RulesManage => "rules:manage",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
}
