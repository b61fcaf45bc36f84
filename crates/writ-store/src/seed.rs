//! Bulk seeding for benchmarks: writes, straight into a store, governed state that would take
//! the full request lifecycle too long to build at scale (e.g. 100,000 active grants that all
//! end within a minute). Never used by writ itself; the benchmark then exercises the real
//! use cases on it.

use sqlx::Connection as _;
use writ_domain::{AccountKey, EntitlementId, IdentityId, PrincipalId, SystemId, Timestamp};

use crate::error::StoreError;
use crate::location::DatabaseUrl;

/// Active grants to seed: every identity holds every entitlement, ends spread evenly.
#[derive(Debug, Clone)]
pub struct ActiveGrants {
    /// Who requested them (an existing principal).
    pub requester: PrincipalId,
    /// The system the accounts live on (an existing system).
    pub system: SystemId,
    /// Existing identities, each with the account key it has on the system.
    pub identities: Vec<(IdentityId, AccountKey)>,
    /// Existing entitlements of the system.
    pub entitlements: Vec<EntitlementId>,
    /// When they were granted.
    pub granted_at: Timestamp,
    /// The first grant's end; the others follow evenly up to `last_end`.
    pub first_end: Timestamp,
    /// The last grant's end.
    pub last_end: Timestamp,
}

impl ActiveGrants {
    /// How many grants this seeds.
    pub fn count(&self) -> usize {
        self.identities.len() * self.entitlements.len()
    }
}

/// Writes one account per identity, then a fulfilled request and an active grant for every
/// (identity, entitlement) pair, in one transaction.
pub async fn active_grants(url: &str, seed: &ActiveGrants) -> Result<(), StoreError> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .foreign_keys(true);
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
            seed_with!(conn, seed)
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn = sqlx::PgConnection::connect(&url).await?;
            seed_with!(conn, seed)
        }
    }
}

/// The seeding, written once for both backends' connections.
macro_rules! seed_with {
    ($conn:ident, $seed:ident) => {{
        let seed = $seed;
        let mut tx = $conn.begin().await?;
        let at = seed.granted_at.as_micros();
        let total = seed.count().max(1) as i64;
        let span = seed.last_end.as_micros() - seed.first_end.as_micros();
        let mut next_number: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(number), 0) + 1000000 FROM requests",
        )
        .fetch_one(&mut *tx)
        .await?;
        let mut index: i64 = 0;
        for (identity, key) in &seed.identities {
            let account = uuid::Uuid::now_v7();
            sqlx::query(
                "INSERT INTO accounts (id, identity_id, system_id, account_key, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'active', $5, $5)",
            )
            .bind(account)
            .bind(identity.as_uuid())
            .bind(seed.system.as_uuid())
            .bind(key.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            for entitlement in &seed.entitlements {
                let request = uuid::Uuid::now_v7();
                let end = seed.first_end.as_micros() + span * index / total;
                sqlx::query(
                    "INSERT INTO requests (id, number, kind, requester_id, identity_id, entitlement_id, \
                     justification, category, status, decision, policy_set_hash, created_at, updated_at) \
                     VALUES ($1, $2, 'grant', $3, $4, $5, 'seeded for a benchmark', 'service_account', \
                     'fulfilled', '{}', 'seed', $6, $6)",
                )
                .bind(request)
                .bind(next_number)
                .bind(seed.requester.as_uuid())
                .bind(identity.as_uuid())
                .bind(entitlement.as_uuid())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO grants (id, identity_id, account_id, entitlement_id, request_id, status, \
                     granted_at, expires_at, last_verified_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $6, $6, $6)",
                )
                .bind(uuid::Uuid::now_v7())
                .bind(identity.as_uuid())
                .bind(account)
                .bind(entitlement.as_uuid())
                .bind(request)
                .bind(at)
                .bind(end)
                .execute(&mut *tx)
                .await?;
                next_number += 1;
                index += 1;
            }
        }
        tx.commit().await?;
        Ok(())
    }};
}
use seed_with;
