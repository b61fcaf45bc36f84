//! The catalog and inventory as one value: what can be requested, by and for whom.

use crate::entitlement::Entitlement;
use crate::identity::Identity;
use crate::principal::Principal;
use crate::sod::SodRule;
use crate::system::System;

/// Principals, systems, entitlements, SoD rules and identities. Read whole to plan a
/// `writ apply`; written as upserts by id in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    /// People (and automation acting for people).
    pub principals: Vec<Principal>,
    /// Target systems.
    pub systems: Vec<System>,
    /// What can be requested.
    pub entitlements: Vec<Entitlement>,
    /// Entitlements that must not be held together.
    pub sod_rules: Vec<SodRule>,
    /// Non-human identities under governance.
    pub identities: Vec<Identity>,
}

impl Catalog {
    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.principals.is_empty()
            && self.systems.is_empty()
            && self.entitlements.is_empty()
            && self.sod_rules.is_empty()
            && self.identities.is_empty()
    }
}
