//! A principal's notifications: what writ told them they must know (break-glass access on an
//! identity they own, a review escalated to them).

use utoipa::ToSchema;

use crate::page::page;

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct NotificationView {
    /// Its id.
    pub id: String,
    /// Why (`break_glass_used`, `review_escalated`).
    pub topic: String,
    /// The request it is about, `REQ-…`.
    pub request: String,
    /// One line to act on.
    pub summary: String,
    /// When it was written (RFC 3339).
    pub created_at: String,
}

page! {
    /// A page of the caller's notifications, newest first.
    NotificationPage of NotificationView
}
