//! Identifiers: UUIDv7 newtypes, one per noun, so ids of different nouns never mix.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;

macro_rules! define_id {
    ($(#[$doc:meta] $name:ident => $what:literal),+ $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh id: UUIDv7, so ids sort by creation time.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// Wraps an id read back from storage.
            pub const fn from_uuid(uuid: uuid::Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|e| ParseError::new($what, s, e.to_string()))
            }
        }
    )+};
}

define_id! {
    /// Identifies a Principal (a human, or automation acting for humans).
    PrincipalId => "principal id",
    /// Identifies an Identity (a non-human identity under governance).
    IdentityId => "identity id",
    /// Identifies a target System.
    SystemId => "system id",
    /// Identifies an Identity's Account inside one System.
    AccountId => "account id",
    /// Identifies a catalog Entitlement.
    EntitlementId => "entitlement id",
    /// Identifies a separation-of-duties rule.
    SodRuleId => "sod rule id",
    /// Identifies a Request (a ticket).
    RequestId => "request id",
    /// Identifies one Approval decision.
    ApprovalId => "approval id",
    /// Identifies a Grant of governed access.
    GrantId => "grant id",
    /// Identifies a Credential writ issued or rotated.
    CredentialId => "credential id",
    /// Identifies an Observation of live state.
    ObservationId => "observation id",
    /// Identifies a Finding of drift.
    FindingId => "finding id",
    /// Identifies a recertification Campaign.
    CampaignId => "campaign id",
    /// Identifies one item of a Campaign.
    CampaignItemId => "campaign item id",
    /// Identifies a background Job.
    JobId => "job id",
    /// Identifies a break-glass post-use review.
    ReviewId => "review id",
    /// Identifies a Notification to a principal.
    NotificationId => "notification id",
    /// Identifies an API token.
    ApiTokenId => "token id",
    /// Identifies one outbox delivery (a ticket note or an outbound webhook).
    OutboxId => "outbox id",
    /// Identifies one service-desk ticket writ received (its listing order).
    TicketId => "ticket id",
}

impl PrincipalId {
    /// writ itself: the requester of what writ starts on its own, such as handing an
    /// identity to a fallback owner when its owner leaves. Never an approver.
    pub const SYSTEM: PrincipalId = PrincipalId::from_uuid(uuid::Uuid::from_u128(
        0x0000_0000_0000_7000_8000_0000_7772_6974,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = RequestId::new();
        assert_eq!(id.to_string().parse::<RequestId>(), Ok(id));
    }

    #[test]
    fn rejects_text_that_is_not_a_uuid() {
        let err = "REQ-1".parse::<GrantId>().unwrap_err();
        assert_eq!(err.what, "grant id");
        assert!(err.to_string().contains("`REQ-1`"));
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let first = JobId::new();
        let second = JobId::new();
        assert!(first < second);
    }
}
