//! The closed vocabularies of the domain: risk, environment, kinds and statuses, each an enum
//! with one text form used in storage, on the wire, in policy and on screen.

/// Defines a closed vocabulary: a `Copy` enum whose variants each have one snake_case text form,
/// with `ALL`, `as_str()`, `Display`, `FromStr` (a `ParseError` naming the allowed values) and
/// serde as that same text.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The text form, as stored, sent and shown.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => {
                        let allowed: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        Err($crate::error::ParseError::new(
                            $what,
                            s,
                            format!("expected one of `{}`", allowed.join("`, `")),
                        ))
                    }
                }
            }
        }
    };
}

pub(crate) use string_enum;

string_enum! {
    /// How much damage an entitlement can do in the wrong hands; ordered, so `risk >= Risk::High`
    /// reads as it should.
    #[derive(PartialOrd, Ord)]
    Risk as "risk" {
        /// Read-only or harmless access.
        Low = "low",
        /// Ordinary write access.
        Medium = "medium",
        /// Access to sensitive data or administrative functions.
        High = "high",
        /// Access that can take over or destroy the system.
        Critical = "critical",
    }
}

string_enum! {
    /// Which environment a system (or an identity, or an entitlement) belongs to.
    Environment as "environment" {
        /// Serves real users and real data.
        Production = "production",
        /// Pre-production.
        Staging = "staging",
        /// Development and test.
        Development = "development",
    }
}

string_enum! {
    /// How much the business depends on a system; ordered from least to most.
    #[derive(PartialOrd, Ord)]
    Criticality as "criticality" {
        /// An outage is an inconvenience.
        Low = "low",
        /// An outage hurts a team.
        Medium = "medium",
        /// An outage hurts customers.
        High = "high",
        /// An outage stops the business.
        Critical = "critical",
    }
}

string_enum! {
    /// What sort of non-human identity an Identity is.
    IdentityKind as "identity kind" {
        /// A service account of an application or platform.
        ServiceAccount = "service_account",
        /// A standalone API key.
        ApiKey = "api_key",
        /// A token used by a CI/CD pipeline.
        CiToken = "ci_token",
        /// A role assumed by automation (e.g. a cloud IAM role).
        AutomationRole = "automation_role",
        /// An AI agent acting with its own credentials.
        AiAgent = "ai_agent",
        /// A workload identity (a pod, a VM, a function).
        Workload = "workload",
    }
}

string_enum! {
    /// Where an Identity is in its life.
    IdentityStatus as "identity status" {
        /// In use; may request and hold access.
        Active = "active",
        /// Temporarily barred, e.g. because its owner left; holds no new access.
        Suspended = "suspended",
        /// Retired everywhere by an offboard request; never comes back.
        Decommissioned = "decommissioned",
    }
}

string_enum! {
    /// Whether an Identity's account in a System can be used.
    AccountStatus as "account status" {
        /// Enabled in the target system.
        Active = "active",
        /// Disabled in the target system.
        Disabled = "disabled",
    }
}

string_enum! {
    /// What change a Request asks for.
    RequestKind as "request kind" {
        /// Grant an entitlement to an identity.
        Grant = "grant",
        /// Take an entitlement away from an identity.
        Revoke = "revoke",
        /// Replace an identity's credential in a system.
        Rotate = "rotate",
        /// Decommission an identity everywhere.
        Offboard = "offboard",
        /// An emergency elevation: pre-approved, short, reviewed after use.
        BreakGlass = "break_glass",
        /// A grant policy would refuse, accepted explicitly, time-bound and reviewed separately.
        Exception = "exception",
        /// Hand the ownership of an identity to another principal.
        Transfer = "transfer",
    }
}

string_enum! {
    /// How a Request is routed, what evidence it needs and its SLA; derived, never typed in
    /// (see [`Category::derive`]).
    Category as "category" {
        /// Removes access; routed without extra scrutiny.
        Standard = "standard",
        /// Adds or renews high-risk or production access.
        Privileged = "privileged",
        /// The ordinary life of a non-human identity: low-risk grants, rotation, offboard,
        /// transfer.
        ServiceAccount = "service_account",
        /// Break-glass elevation.
        Emergency = "emergency",
        /// An explicit policy exception.
        Exception = "exception",
    }
}

impl Category {
    /// The category of a request, from its kind, the risk of what it touches and the
    /// environment it touches.
    ///
    /// | kind                  | category                                                   |
    /// |-----------------------|------------------------------------------------------------|
    /// | `break_glass`         | `emergency`                                                |
    /// | `exception`           | `exception`                                                |
    /// | `grant`, `rotate`     | `privileged` if risk ≥ high or production, else `service_account` |
    /// | `offboard`, `transfer`| `service_account`                                          |
    /// | `revoke`              | `standard`                                                 |
    ///
    /// `grant` and `rotate` put new access material in the hands of an identity, so they follow
    /// the risk; `revoke` only takes access away and must never be slowed by privileged routing.
    /// For kinds without an entitlement, pass the highest risk involved (`Risk::Low` if none)
    /// and the identity's environment.
    pub fn derive(kind: RequestKind, risk: Risk, environment: Environment) -> Self {
        match kind {
            RequestKind::BreakGlass => Self::Emergency,
            RequestKind::Exception => Self::Exception,
            RequestKind::Grant | RequestKind::Rotate
                if risk >= Risk::High || environment == Environment::Production =>
            {
                Self::Privileged
            }
            RequestKind::Grant
            | RequestKind::Rotate
            | RequestKind::Offboard
            | RequestKind::Transfer => Self::ServiceAccount,
            RequestKind::Revoke => Self::Standard,
        }
    }
}

string_enum! {
    /// Whose holdings a separation-of-duties rule looks at.
    SodScope as "sod scope" {
        /// One identity must not hold the conflicting entitlements.
        Identity = "identity",
        /// The identities of one owner, taken together, must not hold them.
        Owner = "owner",
    }
}

string_enum! {
    /// How serious a rule breach or finding is; ordered from least to most.
    #[derive(PartialOrd, Ord)]
    Severity as "severity" {
        /// Worth a look.
        Low = "low",
        /// Fix in the normal course of work.
        Medium = "medium",
        /// Fix soon.
        High = "high",
        /// Fix now.
        Critical = "critical",
    }
}

string_enum! {
    /// Where a Credential is in its life.
    CredentialStatus as "credential status" {
        /// The credential in use.
        Active = "active",
        /// Replaced by a newer version through rotation.
        Superseded = "superseded",
        /// Withdrawn; proven no longer to work.
        Revoked = "revoked",
    }
}

string_enum! {
    /// What gap between governed and live state a Finding reports.
    #[derive(PartialOrd, Ord)]
    FindingKind as "finding kind" {
        /// Live access that no grant covers.
        UnapprovedAccess = "unapproved_access",
        /// Live access whose grant was revoked, expired or failed: it should be gone.
        OrphanedAccess = "orphaned_access",
        /// An active grant the live system does not show.
        MissingAccess = "missing_access",
        /// A live account that no registered identity owns.
        UnownedAccount = "unowned_account",
        /// Holdings that break a separation-of-duties rule.
        SodViolation = "sod_violation",
    }
}

string_enum! {
    /// Where a Finding is in its handling.
    FindingStatus as "finding status" {
        /// Seen and not yet handled.
        Open = "open",
        /// The gap is gone (live state matches governed state again).
        Resolved = "resolved",
        /// The gap is accepted explicitly, with a reason.
        Accepted = "accepted",
        /// A remediation (e.g. a revoke request) is under way.
        Remediating = "remediating",
    }
}

string_enum! {
    /// A reviewer's verdict on one grant in a recertification campaign.
    ReviewDecision as "review decision" {
        /// The grant is still needed.
        Keep = "keep",
        /// The grant must go.
        Revoke = "revoke",
    }
}

string_enum! {
    /// An approver's verdict on one stage of a request.
    ApprovalDecision as "approval decision" {
        /// Approve the plan as it stands.
        Approve = "approve",
        /// Deny the request.
        Deny = "deny",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_text() {
        for kind in IdentityKind::ALL {
            assert_eq!(kind.as_str().parse::<IdentityKind>(), Ok(*kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        for kind in RequestKind::ALL {
            assert_eq!(kind.as_str().parse::<RequestKind>(), Ok(*kind));
        }
    }

    #[test]
    fn unknown_text_is_refused_naming_the_allowed_values() {
        let err = "extreme".parse::<Risk>().unwrap_err();
        assert_eq!(err.what, "risk");
        assert_eq!(err.value, "extreme");
        assert_eq!(
            err.reason,
            "expected one of `low`, `medium`, `high`, `critical`"
        );
    }

    #[test]
    fn serde_uses_the_same_text_as_display() {
        let json = serde_json::to_string(&RequestKind::BreakGlass).unwrap();
        assert_eq!(json, "\"break_glass\"");
        let back: IdentityKind = serde_json::from_str("\"ai_agent\"").unwrap();
        assert_eq!(back, IdentityKind::AiAgent);
        assert!(serde_json::from_str::<IdentityKind>("\"AiAgent\"").is_err());
    }

    #[test]
    fn risk_is_ordered_from_low_to_critical() {
        assert!(Risk::Low < Risk::Medium && Risk::Medium < Risk::High);
        assert!(Risk::Critical >= Risk::High);
        assert!(Severity::Critical > Severity::Low);
        assert!(Criticality::High > Criticality::Medium);
    }

    #[test]
    fn break_glass_is_an_emergency_whatever_the_risk() {
        for risk in Risk::ALL {
            let category = Category::derive(RequestKind::BreakGlass, *risk, Environment::Staging);
            assert_eq!(category, Category::Emergency);
        }
    }

    #[test]
    fn exception_is_its_own_category_even_in_production() {
        let category = Category::derive(
            RequestKind::Exception,
            Risk::Critical,
            Environment::Production,
        );
        assert_eq!(category, Category::Exception);
    }

    #[test]
    fn high_risk_grant_is_privileged() {
        let category = Category::derive(RequestKind::Grant, Risk::High, Environment::Development);
        assert_eq!(category, Category::Privileged);
    }

    #[test]
    fn low_risk_grant_in_production_is_privileged() {
        let category = Category::derive(RequestKind::Grant, Risk::Low, Environment::Production);
        assert_eq!(category, Category::Privileged);
    }

    #[test]
    fn medium_risk_grant_outside_production_is_a_service_account_change() {
        let category = Category::derive(RequestKind::Grant, Risk::Medium, Environment::Staging);
        assert_eq!(category, Category::ServiceAccount);
    }

    #[test]
    fn production_rotation_is_privileged_and_staging_rotation_is_not() {
        let prod = Category::derive(RequestKind::Rotate, Risk::Low, Environment::Production);
        let staging = Category::derive(RequestKind::Rotate, Risk::Low, Environment::Staging);
        assert_eq!(prod, Category::Privileged);
        assert_eq!(staging, Category::ServiceAccount);
    }

    #[test]
    fn revocation_is_standard_even_for_critical_production_access() {
        let category =
            Category::derive(RequestKind::Revoke, Risk::Critical, Environment::Production);
        assert_eq!(category, Category::Standard);
    }

    #[test]
    fn offboard_and_transfer_are_service_account_changes() {
        for kind in [RequestKind::Offboard, RequestKind::Transfer] {
            let category = Category::derive(kind, Risk::Critical, Environment::Production);
            assert_eq!(category, Category::ServiceAccount);
        }
    }
}
