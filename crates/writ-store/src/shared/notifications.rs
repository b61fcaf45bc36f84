//! Notifications to principals, compiled once per backend (see the crate docs): written with
//! the change they report, read as a principal's inbox, newest first.

use writ_domain::{
    NewNotification, Notification, NotificationId, PrincipalId, RequestId, Timestamp,
};

use super::requests::number;
use crate::error::StoreError;
use crate::rows::parsed;

use super::{Connection, Pool, sql};

/// Writes `notifications`, all at `now`.
pub(super) async fn insert(
    tx: &mut Connection,
    notifications: &[NewNotification],
    now: Timestamp,
) -> Result<(), StoreError> {
    for notification in notifications {
        sql::query(
            "INSERT INTO notifications (id, recipient_id, topic, request_id, summary, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(NotificationId::new().as_uuid())
        .bind(notification.recipient.as_uuid())
        .bind(notification.topic.as_str())
        .bind(notification.request.as_uuid())
        .bind(&notification.summary)
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Up to `limit` of `recipient`'s notifications older than `before` (all when `None`),
/// newest first.
pub(super) async fn inbox(
    pool: &Pool,
    recipient: PrincipalId,
    before: Option<NotificationId>,
    limit: u32,
) -> Result<Vec<Notification>, StoreError> {
    let rows = sql::query(
        "SELECT n.id, n.recipient_id, n.topic, n.request_id, r.number, n.summary, n.created_at \
         FROM notifications n JOIN requests r ON r.id = n.request_id \
         WHERE n.recipient_id = $1 AND ($2 IS NULL OR n.id < $2) ORDER BY n.id DESC LIMIT $3",
    )
    .bind(recipient.as_uuid())
    .bind(before.map(|id| id.as_uuid()))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(notification_from).collect()
}

fn notification_from(row: &super::SqlRow) -> Result<Notification, StoreError> {
    use super::sql::Row as _;
    Ok(Notification {
        id: NotificationId::from_uuid(row.try_get("id")?),
        recipient: PrincipalId::from_uuid(row.try_get("recipient_id")?),
        topic: parsed("notification", &row.try_get::<String, _>("topic")?)?,
        request: RequestId::from_uuid(row.try_get("request_id")?),
        request_number: number(row.try_get("number")?)?,
        summary: row.try_get("summary")?,
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
    })
}
