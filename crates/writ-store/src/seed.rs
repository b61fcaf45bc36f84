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

/// Appends `count` small events (action `bench.filler`, no subjects) after the log's head,
/// chained and hashed exactly as writ appends them, many rows to a statement. For building
/// logs of millions of events in seconds rather than the minutes durable appends take.
pub async fn audit_events(url: &str, count: u64, at: Timestamp) -> Result<(), StoreError> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
            fill_with!(conn, count, at)
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn = sqlx::PgConnection::connect(&url).await?;
            fill_with!(conn, count, at)
        }
    }
}

/// Rows per statement while filling the log.
const FILL_ROWS: u64 = 500;

/// The filling, written once for both backends' connections.
macro_rules! fill_with {
    ($conn:ident, $count:ident, $at:ident) => {{
        use writ_domain::audit::{Actor, AuditHash, NewAuditEvent};
        let head: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut $conn)
                .await?;
        let (mut seq, mut prev) = match head {
            Some((seq, hash)) => (
                seq as u64,
                AuditHash::from_slice(&hash).map_err(|e| StoreError::corrupt("audit head", e))?,
            ),
            None => (0, AuditHash::GENESIS),
        };
        let mut left = $count;
        while left > 0 {
            let mut tx = $conn.begin().await?;
            // A transaction per 100,000 events keeps the write-ahead log small.
            for _ in 0..100_000u64.div_ceil(FILL_ROWS) {
                let rows = left.min(FILL_ROWS);
                if rows == 0 {
                    break;
                }
                let mut sql = String::from(
                    "INSERT INTO audit_events (seq, at, actor, action, subjects, data, prev_hash, hash) VALUES ",
                );
                for i in 0..rows {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    let p = i * 8;
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8
                    ));
                }
                let mut events = Vec::with_capacity(rows as usize);
                for _ in 0..rows {
                    seq += 1;
                    let event = NewAuditEvent::new($at, Actor::system("bench"), "bench.filler")
                        .data(serde_json::json!({ "n": seq }))
                        .seal(seq, prev);
                    prev = event.hash;
                    events.push(event);
                }
                let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
                for event in &events {
                    insert = insert
                        .bind(event.seq as i64)
                        .bind(event.at.as_micros())
                        .bind(event.actor.clone())
                        .bind(event.action.clone())
                        .bind("[]")
                        .bind(event.data.clone())
                        .bind(event.prev_hash.0.to_vec())
                        .bind(event.hash.0.to_vec());
                }
                insert.execute(&mut *tx).await?;
                left -= rows;
            }
            tx.commit().await?;
        }
        Ok(())
    }};
}
use fill_with;
/// Governed state for a reconciliation benchmark: `identities` identities named
/// `<prefix><index>` (7 digits), each with an account of the same key on `system`, and for
/// every (identity, entitlement) pair the grant `grant` says (`None`: no grant), each with its
/// own fulfilled request.
#[derive(Debug, Clone)]
pub struct GovernedState {
    /// The owner of every identity and the requester of every request (an existing principal).
    pub owner: PrincipalId,
    /// The system the accounts live on (an existing system).
    pub system: SystemId,
    /// How many identities.
    pub identities: usize,
    /// Their names' prefix.
    pub prefix: String,
    /// Existing entitlements of the system, by index.
    pub entitlements: Vec<EntitlementId>,
    /// When the grants were made.
    pub granted_at: Timestamp,
    /// When they end.
    pub expires_at: Timestamp,
}

/// Identities written per transaction by [`sqlite_governed_state`]: each commit lets SQLite
/// checkpoint its write-ahead log, which otherwise grows to the size of the whole seed.
const IDENTITIES_PER_TRANSACTION: usize = 1_000;

/// Writes [`GovernedState`] into the SQLite store at `path`, a transaction per
/// [`IDENTITIES_PER_TRANSACTION`] identities, through SQLite's own prepared statements
/// (millions of rows: sqlx would cost about 35 µs each). `grant(identity, entitlement)` gives
/// each pair's grant status. Blocking.
pub fn sqlite_governed_state(
    path: &std::path::Path,
    seed: &GovernedState,
    grant: impl Fn(usize, usize) -> Option<&'static str>,
) -> Result<(), StoreError> {
    let mut conn = rusqlite::Connection::open(path)?;
    let mut number: i64 = 1_000_000;
    for first in (0..seed.identities).step_by(IDENTITIES_PER_TRANSACTION) {
        let last = (first + IDENTITIES_PER_TRANSACTION).min(seed.identities);
        let tx = conn.transaction()?;
        write_identities(&tx, seed, first..last, &grant, &mut number)?;
        tx.commit()?;
    }
    Ok(())
}

/// Writes the identities `range` of `seed`, numbering their requests after `number`.
fn write_identities(
    tx: &rusqlite::Transaction<'_>,
    seed: &GovernedState,
    range: std::ops::Range<usize>,
    grant: &impl Fn(usize, usize) -> Option<&'static str>,
    number: &mut i64,
) -> Result<(), StoreError> {
    let at = seed.granted_at.as_micros();
    let end = seed.expires_at.as_micros();
    let mut identity = tx.prepare(
        "INSERT INTO identities (id, name, kind, owner_id, team, purpose, environment, status, \
             created_at, updated_at) VALUES (?1, ?2, 'service_account', ?3, 'bench', 'bench', \
             'development', 'active', ?4, ?4)",
    )?;
    let mut account = tx.prepare(
        "INSERT INTO accounts (id, identity_id, system_id, account_key, status, created_at, \
             updated_at) VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?5)",
    )?;
    let mut request = tx.prepare(
        "INSERT INTO requests (id, number, kind, requester_id, identity_id, entitlement_id, \
             justification, category, status, decision, policy_set_hash, created_at, updated_at) \
             VALUES (?1, ?2, 'grant', ?3, ?4, ?5, 'seeded for a benchmark', 'service_account', \
             'fulfilled', '{}', 'seed', ?6, ?6)",
    )?;
    let mut granted = tx.prepare(
        "INSERT INTO grants (id, identity_id, account_id, entitlement_id, request_id, status, \
             granted_at, expires_at, last_verified_at, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, ?7, ?7)",
    )?;
    let owner = seed.owner.as_uuid().as_bytes().to_vec();
    let system = seed.system.as_uuid().as_bytes().to_vec();
    for i in range {
        let name = format!("{}{i:07}", seed.prefix);
        let identity_id = uuid::Uuid::now_v7().as_bytes().to_vec();
        identity.execute(rusqlite::params![identity_id, name, owner, at])?;
        let account_id = uuid::Uuid::now_v7().as_bytes().to_vec();
        account.execute(rusqlite::params![account_id, identity_id, system, name, at])?;
        for (e, entitlement) in seed.entitlements.iter().enumerate() {
            let Some(status) = grant(i, e) else {
                continue;
            };
            let entitlement = entitlement.as_uuid().as_bytes().to_vec();
            let request_id = uuid::Uuid::now_v7().as_bytes().to_vec();
            *number += 1;
            request.execute(rusqlite::params![
                request_id,
                *number,
                owner,
                identity_id,
                entitlement,
                at
            ])?;
            granted.execute(rusqlite::params![
                uuid::Uuid::now_v7().as_bytes().to_vec(),
                identity_id,
                account_id,
                entitlement,
                request_id,
                status,
                at,
                end
            ])?;
        }
    }
    Ok(())
}
