//! Revocation of grants, compiled once per backend (see the crate docs): expiries start in
//! batches (grant `revoking`, a job and an audit event each), and a revocation ends `revoked`
//! only with the read-back that shows the access gone.

use std::time::Duration;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::job::{JobPayload, NewJob};
use writ_domain::{GrantId, IdentityId, RequestId, SystemId, Timestamp};

use crate::error::StoreError;
use crate::rows::parsed;
use crate::{Evidence, LiveAccess, RevocationEnd, RevocationTarget};

use super::{Connection, Pool, catalog, jobs, sql};

/// `id, request_id, identity_id, expires_at` of a grant whose end has come.
type DueGrant = (uuid::Uuid, uuid::Uuid, uuid::Uuid, i64);

/// Starts the expiry of up to `limit` due grants; returns their audit events, to append.
pub(super) async fn start_expiries(
    tx: &mut Connection,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<NewAuditEvent>, StoreError> {
    let due: Vec<DueGrant> = sql::query_as(
        "SELECT id, request_id, identity_id, expires_at FROM grants \
         WHERE status = 'active' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
    )
    .bind(now.as_micros())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut events = Vec::with_capacity(due.len());
    for (grant, request, identity, expires_at) in due {
        // Guarded by status, so concurrent sweeps start each expiry once.
        let started = sql::query(
            "UPDATE grants SET status = 'revoking', updated_at = $1 WHERE id = $2 AND status = 'active'",
        )
        .bind(now.as_micros())
        .bind(grant)
        .execute(&mut *tx)
        .await?;
        if started.rows_affected() == 0 {
            continue;
        }
        let grant = GrantId::from_uuid(grant);
        jobs::enqueue(
            tx,
            &NewJob::new(JobPayload::ExpireGrant { grant_id: grant }, now),
            now,
        )
        .await?;
        events.push(
            NewAuditEvent::new(now, Actor::system("expiry"), "grant.expiring")
                .subject(SubjectRef::new("grant", grant))
                .subject(SubjectRef::new("request", RequestId::from_uuid(request)))
                .subject(SubjectRef::new("identity", IdentityId::from_uuid(identity)))
                .data(serde_json::json!({
                    "expires_at": Timestamp::from_micros(expires_at).to_string(),
                })),
        );
    }
    Ok(events)
}

/// `grant id, request, identity, status, expires_at, system, account key, entitlement key`.
type TargetRow = (
    uuid::Uuid,
    uuid::Uuid,
    uuid::Uuid,
    String,
    Option<i64>,
    uuid::Uuid,
    String,
    String,
);

/// What revoking one grant needs.
pub(super) async fn target(
    conn: &mut Connection,
    grant: GrantId,
) -> Result<Option<RevocationTarget>, StoreError> {
    let row: Option<TargetRow> = sql::query_as(
        "SELECT g.id, g.request_id, g.identity_id, g.status, g.expires_at, a.system_id, \
         a.account_key, e.key FROM grants g JOIN accounts a ON a.id = g.account_id \
         JOIN entitlements e ON e.id = g.entitlement_id WHERE g.id = $1",
    )
    .bind(grant.as_uuid())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((grant, request, identity, status, expires_at, system, account, entitlement)) = row
    else {
        return Ok(None);
    };
    let system = catalog::system(&mut *conn, SystemId::from_uuid(system))
        .await?
        .ok_or_else(|| StoreError::corrupt("grant", "its account's system is missing"))?;
    Ok(Some(RevocationTarget {
        grant: GrantId::from_uuid(grant),
        request: RequestId::from_uuid(request),
        identity: IdentityId::from_uuid(identity),
        status: parsed("grant status", &status)?,
        expires_at: expires_at.map(Timestamp::from_micros),
        access: LiveAccess {
            system,
            account: parsed("account key", &account)?,
            entitlement: parsed("entitlement key", &entitlement)?,
        },
    }))
}

/// Ends a `revoking` grant's revocation, keeping the evidence with the request that granted
/// it.
pub(super) async fn finish(
    tx: &mut Connection,
    grant: GrantId,
    end: &RevocationEnd,
    evidence: &[Evidence],
    now: Timestamp,
) -> Result<(), StoreError> {
    let (status, verified_at) = match end {
        RevocationEnd::Revoked { verified_at } => ("revoked", Some(verified_at.as_micros())),
        RevocationEnd::Failed { .. } => ("failed", None),
    };
    let request: Option<uuid::Uuid> = sql::query_scalar(
        "UPDATE grants SET status = $1, last_verified_at = COALESCE($2, last_verified_at), \
         updated_at = $3 WHERE id = $4 AND status = 'revoking' RETURNING request_id",
    )
    .bind(status)
    .bind(verified_at)
    .bind(now.as_micros())
    .bind(grant.as_uuid())
    .fetch_optional(&mut *tx)
    .await?;
    let request = request.ok_or_else(|| StoreError::Conflict {
        what: format!("the end of grant {grant}'s revocation"),
    })?;
    super::execution::insert_evidence(tx, RequestId::from_uuid(request), evidence).await
}

/// The lag from end to verified removal of every grant that expired since `since`.
pub(super) async fn expiry_lags(
    pool: &Pool,
    since: Timestamp,
) -> Result<Vec<Duration>, StoreError> {
    let rows: Vec<(i64, i64)> = sql::query_as(
        "SELECT expires_at, last_verified_at FROM grants WHERE status = 'revoked' \
         AND expires_at >= $1 AND last_verified_at >= expires_at",
    )
    .bind(since.as_micros())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(end, verified)| Timestamp::from_micros(verified).since(Timestamp::from_micros(end)))
        .collect())
}
