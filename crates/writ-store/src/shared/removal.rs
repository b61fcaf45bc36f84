//! Removal requests, compiled once per backend (see the crate docs): a `revoke` request takes
//! one entitlement from an identity, an `offboard` request takes everything and disables its
//! accounts. Execution starts by marking the grants concerned `revoking`, and ends `fulfilled`
//! only with the read-backs that show the access gone.

use std::collections::HashMap;

use writ_domain::{
    EntitlementId, IdentityId, PlanHash, RequestId, RequestKind, RequestStatus, System, SystemId,
    Timestamp,
};

use crate::error::StoreError;
use crate::rows::parsed;
use crate::{AccountTarget, Evidence, LiveAccess, Removal, RemovalStart, RevocationEnd};

use super::execution::insert_evidence;
use super::{Connection, catalog, sql};

/// `kind, identity_id, entitlement_id` of a request.
type Scope = (String, uuid::Uuid, Option<uuid::Uuid>);

/// `status, plan_hash, kind, identity_id, entitlement_id` of a request.
type Head = (
    String,
    Option<Vec<u8>>,
    String,
    uuid::Uuid,
    Option<uuid::Uuid>,
);

/// What a removal request covers.
struct Subject {
    kind: RequestKind,
    identity: IdentityId,
    entitlement: Option<EntitlementId>,
}

impl Subject {
    fn from_row((kind, identity, entitlement): Scope) -> Result<Self, StoreError> {
        Ok(Self {
            kind: parsed("request kind", &kind)?,
            identity: IdentityId::from_uuid(identity),
            entitlement: entitlement.map(EntitlementId::from_uuid),
        })
    }
}

/// The grants a removal ends: one entitlement's for a revocation, every one for an offboarding
/// (which names no entitlement), binding `$1` to the identity and `$2` to the entitlement.
const GRANTS_OF: &str = "identity_id = $1 AND entitlement_id = COALESCE($2, entitlement_id)";

/// Moves an approved removal request to `executing` and marks the grants it ends `revoking`;
/// a request already executing resumes, one already finished is reported as such.
pub(super) async fn begin(
    tx: &mut Connection,
    request: RequestId,
    plan_hash: PlanHash,
    now: Timestamp,
) -> Result<RemovalStart, StoreError> {
    let started: Option<Scope> = sql::query_as(
        "UPDATE requests SET status = 'executing', updated_at = $1 \
         WHERE id = $2 AND status = 'approved' AND plan_hash = $3 \
         RETURNING kind, identity_id, entitlement_id",
    )
    .bind(now.as_micros())
    .bind(request.as_uuid())
    .bind(plan_hash.as_bytes().to_vec())
    .fetch_optional(&mut *tx)
    .await?;
    let resumed = started.is_none();
    let subject = match started {
        Some(scope) => {
            let subject = Subject::from_row(scope)?;
            let sql = format!(
                "UPDATE grants SET status = 'revoking', updated_at = $3 WHERE {GRANTS_OF} AND status = 'active'"
            );
            sql::query(sqlx::AssertSqlSafe(sql))
                .bind(subject.identity.as_uuid())
                .bind(subject.entitlement.map(|e| e.as_uuid()))
                .bind(now.as_micros())
                .execute(&mut *tx)
                .await?;
            subject
        }
        None => {
            let row: Option<Head> = sql::query_as(
                    "SELECT status, plan_hash, kind, identity_id, entitlement_id FROM requests WHERE id = $1",
                )
                .bind(request.as_uuid())
                .fetch_optional(&mut *tx)
                .await?;
            let Some((status, stored_plan, kind, identity, entitlement)) = row else {
                return Err(StoreError::NotFound {
                    what: format!("request {request}"),
                });
            };
            if stored_plan.as_deref() != Some(plan_hash.as_bytes().as_slice()) {
                return Ok(RemovalStart::PlanChanged);
            }
            let status: RequestStatus = parsed("request status", &status)?;
            if status != RequestStatus::Executing {
                return Ok(RemovalStart::Finished(status));
            }
            Subject::from_row((kind, identity, entitlement))?
        }
    };
    let removal = removal(tx, &subject).await?;
    Ok(if resumed {
        RemovalStart::Resumed(removal)
    } else {
        RemovalStart::Started(removal)
    })
}

/// What to remove on the targets.
async fn removal(tx: &mut Connection, subject: &Subject) -> Result<Removal, StoreError> {
    let memberships: Vec<(uuid::Uuid, String, String)> = match subject.kind {
        // Every grant being revoked, whoever's request granted it.
        RequestKind::Offboard => {
            sql::query_as(
                "SELECT DISTINCT a.system_id, a.account_key, e.key FROM grants g \
             JOIN accounts a ON a.id = g.account_id JOIN entitlements e ON e.id = g.entitlement_id \
             WHERE g.identity_id = $1 AND g.status = 'revoking'",
            )
            .bind(subject.identity.as_uuid())
            .fetch_all(&mut *tx)
            .await?
        }
        // The membership itself, governed or not: revoking absent access succeeds.
        _ => {
            sql::query_as(
                "SELECT a.system_id, a.account_key, e.key FROM entitlements e \
             JOIN accounts a ON a.system_id = e.system_id AND a.identity_id = $1 WHERE e.id = $2",
            )
            .bind(subject.identity.as_uuid())
            .bind(subject.entitlement.map(|e| e.as_uuid()))
            .fetch_all(&mut *tx)
            .await?
        }
    };
    let accounts: Vec<(uuid::Uuid, String)> = match subject.kind {
        RequestKind::Offboard => {
            sql::query_as("SELECT system_id, account_key FROM accounts WHERE identity_id = $1")
                .bind(subject.identity.as_uuid())
                .fetch_all(&mut *tx)
                .await?
        }
        _ => Vec::new(),
    };
    let mut systems: HashMap<uuid::Uuid, System> = HashMap::new();
    for id in memberships
        .iter()
        .map(|m| m.0)
        .chain(accounts.iter().map(|a| a.0))
    {
        if let std::collections::hash_map::Entry::Vacant(slot) = systems.entry(id) {
            let system = catalog::system(tx, SystemId::from_uuid(id))
                .await?
                .ok_or_else(|| StoreError::corrupt("account", "its system is missing"))?;
            slot.insert(system);
        }
    }
    let system = |id: &uuid::Uuid| {
        systems
            .get(id)
            .cloned()
            .ok_or_else(|| StoreError::corrupt("account", "its system is missing"))
    };
    let mut removal = Removal::default();
    for (id, account, entitlement) in &memberships {
        removal.access.push(LiveAccess {
            system: system(id)?,
            account: parsed("account key", account)?,
            entitlement: parsed("entitlement key", entitlement)?,
        });
    }
    for (id, account) in &accounts {
        removal.accounts.push(AccountTarget {
            system: system(id)?,
            account: parsed("account key", account)?,
        });
    }
    Ok(removal)
}

/// Ends an executing removal request: fulfilled (its grants `revoked`; for an offboarding,
/// its accounts `disabled`, its credentials `revoked`, secrets awaiting delivery wiped, and the
/// identity `decommissioned`), or failed (its grants
/// `failed`, the evidence listing what is still live).
pub(super) async fn finish(
    tx: &mut Connection,
    request: RequestId,
    end: &RevocationEnd,
    evidence: &[Evidence],
    now: Timestamp,
) -> Result<(), StoreError> {
    let (request_status, grant_status, verified_at) = match end {
        RevocationEnd::Revoked { verified_at } => {
            ("fulfilled", "revoked", Some(verified_at.as_micros()))
        }
        RevocationEnd::Failed { .. } => ("failed", "failed", None),
    };
    let scope: Option<Scope> = sql::query_as(
        "UPDATE requests SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'executing' \
         RETURNING kind, identity_id, entitlement_id",
    )
    .bind(request_status)
    .bind(now.as_micros())
    .bind(request.as_uuid())
    .fetch_optional(&mut *tx)
    .await?;
    let subject = Subject::from_row(scope.ok_or_else(|| StoreError::Conflict {
        what: format!("an outcome for request {request}"),
    })?)?;
    let sql = format!(
        "UPDATE grants SET status = $3, last_verified_at = COALESCE($4, last_verified_at), \
         updated_at = $5 WHERE {GRANTS_OF} AND status = 'revoking'"
    );
    sql::query(sqlx::AssertSqlSafe(sql))
        .bind(subject.identity.as_uuid())
        .bind(subject.entitlement.map(|e| e.as_uuid()))
        .bind(grant_status)
        .bind(verified_at)
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await?;
    if subject.kind == RequestKind::Offboard && verified_at.is_some() {
        sql::query(
            "UPDATE accounts SET status = 'disabled', updated_at = $1 WHERE identity_id = $2",
        )
        .bind(now.as_micros())
        .bind(subject.identity.as_uuid())
        .execute(&mut *tx)
        .await?;
        // Its credentials end with it, and secrets still waiting for delivery are wiped.
        sql::query(
            "UPDATE credentials SET status = 'revoked', updated_at = $1 WHERE status = 'active' \
             AND account_id IN (SELECT id FROM accounts WHERE identity_id = $2)",
        )
        .bind(now.as_micros())
        .bind(subject.identity.as_uuid())
        .execute(&mut *tx)
        .await?;
        sql::query(
            "DELETE FROM sealed_secrets WHERE request_id IN \
             (SELECT id FROM requests WHERE identity_id = $1)",
        )
        .bind(subject.identity.as_uuid())
        .execute(&mut *tx)
        .await?;
        sql::query(
            "UPDATE identities SET status = 'decommissioned', updated_at = $1 WHERE id = $2",
        )
        .bind(now.as_micros())
        .bind(subject.identity.as_uuid())
        .execute(&mut *tx)
        .await?;
    }
    insert_evidence(tx, request, evidence).await
}
