//! Ownership, compiled once per backend (see the crate docs): identities left without an
//! active owner, and the transfer that gives them a new one.

use writ_domain::{
    Identity, IdentityId, PlanHash, Principal, PrincipalId, RequestId, SystemId, Timestamp,
};

use crate::error::StoreError;
use crate::rows::parsed;
use crate::{AccountTarget, Transferred};

use super::{Connection, Pool, catalog, sql};

/// Identities whose owner left, with that owner: those no transfer in flight hands on, and
/// that writ has not already tried to hand on (a refused, declined or expired hand-over is an
/// admin's to settle).
pub(super) async fn orphaned(
    conn: &mut Connection,
) -> Result<Vec<(Identity, Principal)>, StoreError> {
    let ids: Vec<(uuid::Uuid, uuid::Uuid)> = sql::query_as(
        "SELECT i.id, i.owner_id FROM identities i JOIN principals p ON p.id = i.owner_id \
         WHERE p.active = FALSE AND i.status = 'active' AND NOT EXISTS ( \
           SELECT 1 FROM requests r WHERE r.identity_id = i.id AND r.kind = 'transfer' \
           AND (r.status IN ('submitted', 'pending_approval', 'approved', 'executing', 'verifying') \
                OR (r.requester_id = $1 AND r.status <> 'fulfilled'))) \
         ORDER BY i.name",
    )
    .bind(PrincipalId::SYSTEM.as_uuid())
    .fetch_all(&mut *conn)
    .await?;
    let mut orphaned = Vec::with_capacity(ids.len());
    for (identity, owner) in ids {
        let identity = catalog::identity(&mut *conn, IdentityId::from_uuid(identity)).await?;
        let owner = catalog::principal(&mut *conn, PrincipalId::from_uuid(owner)).await?;
        if let (Some(identity), Some(owner)) = (identity, owner) {
            orphaned.push((identity, owner));
        }
    }
    Ok(orphaned)
}

/// The active owners of the systems where `identity` has accounts.
pub(super) async fn system_owners_of(
    conn: &mut Connection,
    identity: IdentityId,
) -> Result<Vec<Principal>, StoreError> {
    let ids: Vec<uuid::Uuid> = sql::query_scalar(
        "SELECT DISTINCT s.owner_id FROM accounts a JOIN systems s ON s.id = a.system_id \
         WHERE a.identity_id = $1",
    )
    .bind(identity.as_uuid())
    .fetch_all(&mut *conn)
    .await?;
    let mut owners = Vec::new();
    for id in ids {
        let owner = catalog::principal(&mut *conn, PrincipalId::from_uuid(id)).await?;
        owners.extend(owner.filter(|o| o.active));
    }
    owners.sort_by_key(|p| p.id);
    Ok(owners)
}

/// Executes an approved transfer: the identity's owner becomes the request's new owner, read
/// back before the request is fulfilled.
pub(super) async fn execute(
    tx: &mut Connection,
    request: RequestId,
    plan_hash: PlanHash,
    now: Timestamp,
) -> Result<Transferred, StoreError> {
    let started: Option<(uuid::Uuid, Option<uuid::Uuid>)> = sql::query_as(
        "UPDATE requests SET status = 'executing', updated_at = $1 \
         WHERE id = $2 AND status = 'approved' AND plan_hash = $3 AND kind = 'transfer' \
         RETURNING identity_id, new_owner_id",
    )
    .bind(now.as_micros())
    .bind(request.as_uuid())
    .bind(plan_hash.as_bytes().to_vec())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((identity, Some(new_owner))) = started else {
        let row: Option<(String, Option<Vec<u8>>)> =
            sql::query_as("SELECT status, plan_hash FROM requests WHERE id = $1")
                .bind(request.as_uuid())
                .fetch_optional(&mut *tx)
                .await?;
        let (status, stored_plan) = row.ok_or_else(|| StoreError::NotFound {
            what: format!("request {request}"),
        })?;
        if stored_plan.as_deref() != Some(plan_hash.as_bytes().as_slice()) {
            return Ok(Transferred::PlanChanged);
        }
        return Ok(Transferred::Finished(parsed("request status", &status)?));
    };
    let from: uuid::Uuid = sql::query_scalar("SELECT owner_id FROM identities WHERE id = $1")
        .bind(identity)
        .fetch_one(&mut *tx)
        .await?;
    sql::query("UPDATE identities SET owner_id = $1, updated_at = $2 WHERE id = $3")
        .bind(new_owner)
        .bind(now.as_micros())
        .bind(identity)
        .execute(&mut *tx)
        .await?;
    let read_back: uuid::Uuid = sql::query_scalar("SELECT owner_id FROM identities WHERE id = $1")
        .bind(identity)
        .fetch_one(&mut *tx)
        .await?;
    if read_back != new_owner {
        return Err(StoreError::corrupt(
            "identity",
            "its owner did not change on transfer",
        ));
    }
    sql::query("UPDATE requests SET status = 'fulfilled', updated_at = $1 WHERE id = $2")
        .bind(now.as_micros())
        .bind(request.as_uuid())
        .execute(&mut *tx)
        .await?;
    Ok(Transferred::Done {
        from: PrincipalId::from_uuid(from),
        to: PrincipalId::from_uuid(new_owner),
    })
}

/// Active identities whose owner left and whose hand-over by writ has waited since `cutoff`
/// or longer without being accepted.
pub(super) async fn due_suspensions(
    pool: &Pool,
    cutoff: Timestamp,
) -> Result<Vec<IdentityId>, StoreError> {
    let ids: Vec<uuid::Uuid> = sql::query_scalar(
        "SELECT DISTINCT i.id FROM identities i JOIN principals p ON p.id = i.owner_id \
         JOIN requests r ON r.identity_id = i.id AND r.kind = 'transfer' AND r.requester_id = $1 \
         WHERE p.active = FALSE AND i.status = 'active' \
         AND r.status IN ('pending_approval', 'approved') AND r.created_at <= $2",
    )
    .bind(PrincipalId::SYSTEM.as_uuid())
    .bind(cutoff.as_micros())
    .fetch_all(pool)
    .await?;
    Ok(ids.into_iter().map(IdentityId::from_uuid).collect())
}

/// The accounts of `identity`, with their systems.
pub(super) async fn accounts_of(
    conn: &mut Connection,
    identity: IdentityId,
) -> Result<Vec<AccountTarget>, StoreError> {
    let rows: Vec<(uuid::Uuid, String)> =
        sql::query_as("SELECT system_id, account_key FROM accounts WHERE identity_id = $1")
            .bind(identity.as_uuid())
            .fetch_all(&mut *conn)
            .await?;
    let mut accounts = Vec::with_capacity(rows.len());
    for (system, account) in rows {
        let system = catalog::system(&mut *conn, SystemId::from_uuid(system))
            .await?
            .ok_or_else(|| StoreError::corrupt("account", "its system is missing"))?;
        accounts.push(AccountTarget {
            system,
            account: parsed("account key", &account)?,
        });
    }
    Ok(accounts)
}

/// Marks an active identity `suspended` and its accounts `disabled` (its grants stay).
pub(super) async fn suspend(
    tx: &mut Connection,
    identity: IdentityId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let suspended =
        sql::query("UPDATE identities SET status = 'suspended', updated_at = $1 WHERE id = $2 AND status = 'active'")
            .bind(now.as_micros())
            .bind(identity.as_uuid())
            .execute(&mut *tx)
            .await?;
    if suspended.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: format!("a change of identity {identity} (it is no longer active)"),
        });
    }
    sql::query("UPDATE accounts SET status = 'disabled', updated_at = $1 WHERE identity_id = $2")
        .bind(now.as_micros())
        .bind(identity.as_uuid())
        .execute(&mut *tx)
        .await?;
    Ok(())
}
