//! Notifications: what writ tells a principal it must know about, such as emergency access
//! used on an identity they own. Each is written in the same transaction as the change it
//! reports, so a change is never made without the people accountable for it being told.

use crate::id::{NotificationId, PrincipalId, RequestId};
use crate::kinds::string_enum;
use crate::request::RequestNumber;
use crate::time::Timestamp;

string_enum! {
    /// Why a principal is notified.
    NotificationTopic as "notification topic" {
        /// Break-glass access was granted; its post-use review waits for the recipient.
        BreakGlassUsed = "break_glass_used",
        /// A break-glass post-use review went overdue and now waits for the recipient.
        ReviewEscalated = "review_escalated",
        /// A campaign launched with grants for the recipient to keep or revoke.
        CampaignReviewAssigned = "campaign_review_assigned",
        /// A campaign item assigned to the recipient is due soon.
        CampaignReviewDue = "campaign_review_due",
        /// A campaign item went undecided past its due date and now waits for the recipient.
        CampaignReviewEscalated = "campaign_review_escalated",
    }
}

/// A notification to write with the change it reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewNotification {
    /// Who is told.
    pub recipient: PrincipalId,
    /// Why.
    pub topic: NotificationTopic,
    /// The request it is about.
    pub request: RequestId,
    /// One line a person can act on, e.g. "break-glass: ci-deployer holds db-admin on orders".
    pub summary: String,
}

/// A notification as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    /// writ's id; ids grow with time, so they order a principal's inbox.
    pub id: NotificationId,
    /// Who is told.
    pub recipient: PrincipalId,
    /// Why.
    pub topic: NotificationTopic,
    /// The request it is about.
    pub request: RequestId,
    /// That request's number, `REQ-…`.
    pub request_number: RequestNumber,
    /// One line a person can act on.
    pub summary: String,
    /// When it was written.
    pub created_at: Timestamp,
}

impl NewNotification {
    /// The same notice to each of `recipients`, once per distinct principal.
    pub fn to_each(
        recipients: impl IntoIterator<Item = PrincipalId>,
        topic: NotificationTopic,
        request: RequestId,
        summary: &str,
    ) -> Vec<NewNotification> {
        let mut seen = std::collections::BTreeSet::new();
        recipients
            .into_iter()
            .filter(|recipient| seen.insert(*recipient))
            .map(|recipient| NewNotification {
                recipient,
                topic,
                request,
                summary: summary.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_principal_is_told_once_even_when_named_twice() {
        let owner = PrincipalId::new();
        let security = PrincipalId::new();
        let notes = NewNotification::to_each(
            [owner, security, owner],
            NotificationTopic::BreakGlassUsed,
            RequestId::new(),
            "break-glass",
        );
        let recipients: Vec<_> = notes.iter().map(|n| n.recipient).collect();
        assert_eq!(recipients, vec![owner, security]);
    }
}
