//! The query parameters of the lists: filters, `after` (the previous page's `next`) and
//! `limit` (1–500, default 100). Unknown parameters are refused.

use utoipa::IntoParams;

/// Declares a list's query parameters.
macro_rules! query {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $(
                $(#[$fdoc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// The `next` of the previous page.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub after: Option<String>,
            /// How many items, 1 to 500 (default 100).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub limit: Option<u32>,
        }
    };
}

query! {
    /// Which requests, newest first.
    RequestQuery {
        /// Only in this status (`pending_approval`, `fulfilled`, …).
        status: String,
        /// Only for this identity (id or name).
        identity: String,
        /// Only asked by this principal (id or e-mail).
        requester: String,
        /// Only for entitlements of this system (id or name).
        system: String,
        /// Only of this kind (`grant`, `exception`, `break_glass`, …): `exception` lists
        /// exceptions apart.
        kind: String,
    }
}

query! {
    /// Which grants: newest first, or soonest ending first with `expiring_before`.
    GrantQuery {
        /// Only in this status (`active`, `revoked`, …).
        status: String,
        /// Only held by this identity (id or name).
        identity: String,
        /// Only of entitlements of this system (id or name).
        system: String,
        /// Only those ending before this instant (RFC 3339), soonest ending first.
        expiring_before: String,
    }
}

query! {
    /// Which findings, in id order.
    FindingQuery {
        /// Only of this system (id or name).
        system: String,
        /// Only in this status (`open`, `remediating`, `accepted`, `resolved`).
        status: String,
        /// Only of this kind (`unapproved_access`, `orphaned_access`, …).
        kind: String,
    }
}

query! {
    /// Which service-desk tickets, in the order received.
    TicketQuery {
        /// Only with this outcome (`submitted` or `rejected`).
        outcome: String,
    }
}

query! {
    /// Which identities, by name.
    IdentityQuery {
        /// Only owned by this principal (id or e-mail).
        owner: String,
    }
}

query! {
    /// Which entitlements.
    EntitlementQuery {
        /// Only of this system (id or name).
        system: String,
    }
}

query! {
    /// Systems, by name.
    SystemQuery {}
}

query! {
    /// Audit events, oldest first.
    AuditQuery {}
}

query! {
    /// The caller's notifications, newest first.
    NotificationQuery {}
}

query! {
    /// Which campaigns, newest first.
    CampaignQuery {}
}

query! {
    /// Which of a campaign's items, in id order; or which of the caller's pending items,
    /// soonest due first.
    CampaignItemQuery {}
}
