//! Grants: governed access, an entitlement held by an identity's account, and their lifecycle.
//! A grant is `active` only after a read-back shows the access live, and `revoked` only after
//! a read-back shows it gone.

use crate::error::IllegalTransition;
use crate::id::{AccountId, EntitlementId, GrantId, IdentityId, RequestId};
use crate::kinds::string_enum;
use crate::time::Timestamp;
use crate::ttl::Ttl;

/// Governed access: an Entitlement held by an Identity's Account, created by a Request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    /// writ's id.
    pub id: GrantId,
    /// The identity holding the access.
    pub identity: IdentityId,
    /// The account through which it holds it.
    pub account: AccountId,
    /// The entitlement held.
    pub entitlement: EntitlementId,
    /// The request that created it.
    pub request: RequestId,
    /// Where the grant is in its lifecycle.
    pub status: GrantStatus,
    /// When a read-back first showed the access live.
    pub granted_at: Option<Timestamp>,
    /// When the access ends; `None` only for an open-ended exception.
    pub expires_at: Option<Timestamp>,
    /// When a read-back last confirmed the grant's live state.
    pub last_verified_at: Option<Timestamp>,
}

impl Grant {
    /// Moves the grant along its lifecycle at `at`, recording the read-backs that events
    /// stand for; on refusal the grant is left unchanged.
    pub fn apply(&mut self, event: GrantEvent, at: Timestamp) -> Result<(), IllegalTransition> {
        self.status = self.status.apply(event)?;
        match event {
            GrantEvent::ReadBackConfirmed => {
                self.granted_at = Some(at);
                self.last_verified_at = Some(at);
            }
            GrantEvent::RevokeVerified => self.last_verified_at = Some(at),
            GrantEvent::ProvisioningFailed
            | GrantEvent::RevokeStarted
            | GrantEvent::RevokeFailed => {}
        }
        Ok(())
    }

    /// Whether the grant is active and its end has come by `now`.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.status == GrantStatus::Active && self.expires_at.is_some_and(|end| end <= now)
    }
}

/// When a grant that went live at `granted_at` ends: the TTL counts from fulfilment, and an
/// end date caps it; the earlier of the two wins. `None` when neither is given (an exception).
pub fn expires_at(
    granted_at: Timestamp,
    ttl: Option<Ttl>,
    end: Option<Timestamp>,
) -> Option<Timestamp> {
    let by_ttl = ttl.map(|ttl| granted_at.plus(ttl.as_duration()));
    match (by_ttl, end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

string_enum! {
    /// Where a grant is in its lifecycle:
    /// `provisioning → active → revoking → revoked`, with `failed` beside the first and last
    /// arrows.
    GrantStatus as "grant status" {
        /// The connector is making the grant; not yet seen live.
        Provisioning = "provisioning",
        /// A read-back showed the access live.
        Active = "active",
        /// The connector is taking the access away.
        Revoking = "revoking",
        /// A read-back showed the access gone. Terminal.
        Revoked = "revoked",
        /// Provisioning or revocation failed for good; raises a finding. Terminal.
        Failed = "failed",
    }
}

string_enum! {
    /// Something that happens to a grant.
    GrantEvent as "grant event" {
        /// A read-back showed the access live: provisioning → active.
        ReadBackConfirmed = "read_back_confirmed",
        /// Provisioning failed after its retries: provisioning → failed.
        ProvisioningFailed = "provisioning_failed",
        /// Revocation began (expiry, review or revoke request): active → revoking.
        RevokeStarted = "revoke_started",
        /// A read-back showed the access gone: revoking → revoked.
        RevokeVerified = "revoke_verified",
        /// Revocation failed after its retries: revoking → failed.
        RevokeFailed = "revoke_failed",
    }
}

impl GrantStatus {
    /// Whether the grant is finished; a terminal status refuses every event.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Revoked | Self::Failed)
    }

    /// The status after `event`, or the refusal when the lifecycle does not allow it here.
    ///
    /// `active` is reached only through `ReadBackConfirmed` and `revoked` only through
    /// `RevokeVerified`: a connector's word that it made a change is not proof. A grant whose
    /// revocation failed ends `failed` with the access possibly still live; reconciliation
    /// reports that as a finding.
    pub fn apply(self, event: GrantEvent) -> Result<Self, IllegalTransition> {
        use GrantEvent as E;
        let next = match (self, event) {
            (Self::Provisioning, E::ReadBackConfirmed) => Self::Active,
            (Self::Provisioning, E::ProvisioningFailed) => Self::Failed,
            (Self::Active, E::RevokeStarted) => Self::Revoking,
            (Self::Revoking, E::RevokeVerified) => Self::Revoked,
            (Self::Revoking, E::RevokeFailed) => Self::Failed,
            (from, event) => {
                return Err(IllegalTransition {
                    lifecycle: "grant",
                    from: from.as_str(),
                    event: event.as_str(),
                });
            }
        };
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use GrantEvent as E;
    use GrantStatus as S;

    /// The lifecycle diagram of DESIGN §2, written out independently of `apply`.
    const EDGES: &[(&str, &str, &str)] = &[
        ("provisioning", "read_back_confirmed", "active"),
        ("provisioning", "provisioning_failed", "failed"),
        ("active", "revoke_started", "revoking"),
        ("revoking", "revoke_verified", "revoked"),
        ("revoking", "revoke_failed", "failed"),
    ];

    const TERMINAL: &[&str] = &["revoked", "failed"];

    fn edge(from: S, event: E) -> Option<&'static str> {
        EDGES
            .iter()
            .find(|(f, e, _)| *f == from.as_str() && *e == event.as_str())
            .map(|(_, _, to)| *to)
    }

    fn grant() -> Grant {
        Grant {
            id: GrantId::new(),
            identity: IdentityId::new(),
            account: AccountId::new(),
            entitlement: EntitlementId::new(),
            request: RequestId::new(),
            status: S::Provisioning,
            granted_at: None,
            expires_at: None,
            last_verified_at: None,
        }
    }

    #[test]
    fn a_grant_becomes_active_on_read_back() {
        assert_eq!(S::Provisioning.apply(E::ReadBackConfirmed), Ok(S::Active));
    }

    #[test]
    fn a_grant_is_revoked_on_a_read_back_showing_it_gone() {
        assert_eq!(S::Active.apply(E::RevokeStarted), Ok(S::Revoking));
        assert_eq!(S::Revoking.apply(E::RevokeVerified), Ok(S::Revoked));
    }

    #[test]
    fn provisioning_and_revocation_can_fail() {
        assert_eq!(S::Provisioning.apply(E::ProvisioningFailed), Ok(S::Failed));
        assert_eq!(S::Revoking.apply(E::RevokeFailed), Ok(S::Failed));
    }

    #[test]
    fn an_active_grant_cannot_be_revoked_without_a_revocation() {
        let err = S::Active.apply(E::RevokeVerified).unwrap_err();
        assert_eq!(
            err.to_string(),
            "illegal grant transition: `revoke_verified` from `active`"
        );
    }

    #[test]
    fn a_revoking_grant_does_not_become_active_again() {
        assert!(S::Revoking.apply(E::ReadBackConfirmed).is_err());
    }

    #[test]
    fn revoked_grant_stays_revoked() {
        for event in E::ALL {
            assert!(S::Revoked.apply(*event).is_err(), "{event} left revoked");
        }
    }

    #[test]
    fn every_status_and_event_follows_the_diagram() {
        for status in S::ALL {
            assert_eq!(
                status.is_terminal(),
                TERMINAL.contains(&status.as_str()),
                "{status}"
            );
            for event in E::ALL {
                let got = status.apply(*event).ok().map(S::as_str);
                assert_eq!(got, edge(*status, *event), "{status} on {event}");
            }
        }
    }

    #[test]
    fn read_backs_are_recorded_on_the_grant() {
        let mut grant = grant();
        grant
            .apply(E::ReadBackConfirmed, Timestamp::from_micros(10))
            .unwrap();
        assert_eq!(grant.granted_at, Some(Timestamp::from_micros(10)));
        grant
            .apply(E::RevokeStarted, Timestamp::from_micros(20))
            .unwrap();
        assert_eq!(grant.last_verified_at, Some(Timestamp::from_micros(10)));
        grant
            .apply(E::RevokeVerified, Timestamp::from_micros(30))
            .unwrap();
        assert_eq!(grant.last_verified_at, Some(Timestamp::from_micros(30)));
        assert_eq!(grant.status, S::Revoked);
    }

    #[test]
    fn a_refused_event_leaves_the_grant_unchanged() {
        let mut grant = grant();
        let before = grant.clone();
        assert!(
            grant
                .apply(E::RevokeVerified, Timestamp::from_micros(5))
                .is_err()
        );
        assert_eq!(grant, before);
    }

    #[test]
    fn ttl_counts_from_fulfilment_and_an_end_date_caps_it() {
        let hour = Ttl::parse("1h").unwrap();
        let start = Timestamp::from_micros(1_000_000);
        let after_an_hour = Timestamp::from_micros(1_000_000 + 3_600_000_000);
        assert_eq!(expires_at(start, Some(hour), None), Some(after_an_hour));
        let sooner = Timestamp::from_micros(2_000_000);
        assert_eq!(expires_at(start, Some(hour), Some(sooner)), Some(sooner));
        assert_eq!(expires_at(start, None, Some(sooner)), Some(sooner));
        assert_eq!(expires_at(start, None, None), None);
    }

    #[test]
    fn only_an_active_grant_past_its_end_is_due() {
        let mut grant = grant();
        grant.expires_at = Some(Timestamp::from_micros(100));
        assert!(
            !grant.is_due(Timestamp::from_micros(200)),
            "provisioning is not due"
        );
        grant.status = S::Active;
        assert!(!grant.is_due(Timestamp::from_micros(99)));
        assert!(grant.is_due(Timestamp::from_micros(100)));
        grant.expires_at = None;
        assert!(!grant.is_due(Timestamp::from_micros(i64::MAX)));
    }

    proptest! {
        #[test]
        fn random_events_only_follow_the_diagram(
            events in proptest::collection::vec(proptest::sample::select(E::ALL.to_vec()), 0..20)
        ) {
            let mut status = S::Provisioning;
            for event in events {
                let was_terminal = status.is_terminal();
                match status.apply(event) {
                    Ok(next) => {
                        prop_assert!(!was_terminal, "{} left terminal {}", event, status);
                        prop_assert_eq!(Some(next.as_str()), edge(status, event));
                        status = next;
                    }
                    Err(err) => {
                        prop_assert_eq!(edge(status, event), None);
                        prop_assert_eq!(err.from, status.as_str());
                    }
                }
                if was_terminal {
                    prop_assert!(status.is_terminal());
                }
            }
        }
    }
}
