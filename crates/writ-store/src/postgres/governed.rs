//! Governed state for reconciliation, streamed in byte order of the native keys
//! (`COLLATE "C"`: PostgreSQL would otherwise sort by the database's collation, which the
//! merge with live state cannot follow).

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sqlx::PgPool;
use writ_domain::{
    EntitlementId, GrantId, IdentityId, PrincipalId, RequestId, SystemId, Timestamp,
};

use crate::error::StoreError;
use crate::rows::parsed;
use crate::{GovernedAccount, GovernedGrant, StoreResult};

type GrantRow = (
    String,
    String,
    uuid::Uuid,
    uuid::Uuid,
    uuid::Uuid,
    uuid::Uuid,
    String,
    Option<i64>,
);

/// Every grant of `system` with its account and entitlement keys, in byte order.
pub(super) fn grants(pool: &PgPool, system: SystemId) -> BoxStream<'_, StoreResult<GovernedGrant>> {
    sqlx::query_as::<_, GrantRow>(
        "SELECT a.account_key, e.key, e.id, g.identity_id, g.id, g.request_id, g.status, \
         g.expires_at FROM accounts a JOIN grants g ON g.account_id = a.id \
         JOIN entitlements e ON e.id = g.entitlement_id \
         WHERE a.system_id = $1 ORDER BY a.account_key COLLATE \"C\", e.key COLLATE \"C\"",
    )
    .bind(system.as_uuid())
    .fetch(pool)
    .map(|row| {
        let (account, entitlement_key, entitlement, identity, grant, request, status, expires) =
            row?;
        Ok(GovernedGrant {
            account,
            entitlement_key,
            entitlement: EntitlementId::from_uuid(entitlement),
            identity: IdentityId::from_uuid(identity),
            grant: GrantId::from_uuid(grant),
            request: RequestId::from_uuid(request),
            status: parsed("grant status", &status)?,
            expires_at: expires.map(Timestamp::from_micros),
        })
    })
    .boxed()
}

/// Every account of `system` with its identity and owner, in byte order of the key.
pub(super) fn accounts(
    pool: &PgPool,
    system: SystemId,
) -> BoxStream<'_, StoreResult<GovernedAccount>> {
    sqlx::query_as::<_, (String, uuid::Uuid, uuid::Uuid)>(
        "SELECT a.account_key, a.identity_id, i.owner_id FROM accounts a \
         JOIN identities i ON i.id = a.identity_id WHERE a.system_id = $1 \
         ORDER BY a.account_key COLLATE \"C\"",
    )
    .bind(system.as_uuid())
    .fetch(pool)
    .map(|row| {
        let (account, identity, owner) = row?;
        Ok::<_, StoreError>(GovernedAccount {
            account,
            identity: IdentityId::from_uuid(identity),
            owner: PrincipalId::from_uuid(owner),
        })
    })
    .boxed()
}
