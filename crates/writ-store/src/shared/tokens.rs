//! API tokens, compiled once per backend (see the crate docs): only their SHA-256 is stored.

use writ_domain::{ApiToken, ApiTokenId, PrincipalId, Timestamp, TokenHash};

use crate::error::StoreError;
use crate::rows::parsed;

use super::{Connection, Pool, sql};

type TokenRow = (
    uuid::Uuid,
    uuid::Uuid,
    String,
    Vec<u8>,
    i64,
    i64,
    Option<i64>,
);

const SELECT: &str =
    "SELECT id, principal_id, scope, hash, created_at, expires_at, revoked_at FROM api_tokens";

/// Stores a new token.
pub(super) async fn insert(tx: &mut Connection, token: &ApiToken) -> Result<(), StoreError> {
    sql::query(
        "INSERT INTO api_tokens (id, principal_id, scope, hash, created_at, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(token.id.as_uuid())
    .bind(token.principal.as_uuid())
    .bind(token.scope.as_str())
    .bind(&token.hash.as_bytes()[..])
    .bind(token.created_at.as_micros())
    .bind(token.expires_at.as_micros())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The token with this hash, revoked or expired ones included.
pub(super) async fn by_hash(pool: &Pool, hash: &TokenHash) -> Result<Option<ApiToken>, StoreError> {
    let row: Option<TokenRow> = sql::query_as(concat!(
        "SELECT id, principal_id, scope, hash, created_at, expires_at, revoked_at FROM api_tokens",
        " WHERE hash = $1"
    ))
    .bind(&hash.as_bytes()[..])
    .fetch_optional(pool)
    .await?;
    row.map(token_from).transpose()
}

/// The newest `limit` tokens, or only those working at `valid_at`.
pub(super) async fn newest(
    pool: &Pool,
    valid_at: Option<Timestamp>,
    limit: u32,
) -> Result<Vec<ApiToken>, StoreError> {
    const ORDER: &str = "ORDER BY created_at DESC, id";
    let rows: Vec<TokenRow> = match valid_at {
        Some(at) => {
            sql::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE revoked_at IS NULL AND expires_at > $1 {ORDER} LIMIT $2"
            )))
            .bind(at.as_micros())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }
        None => {
            sql::query_as(sqlx::AssertSqlSafe(format!("{SELECT} {ORDER} LIMIT $1")))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        }
    };
    rows.into_iter().map(token_from).collect()
}

/// One token by id, on the writing connection.
pub(super) async fn by_id(
    tx: &mut Connection,
    id: ApiTokenId,
) -> Result<Option<ApiToken>, StoreError> {
    let row: Option<TokenRow> =
        sql::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await?;
    row.map(token_from).transpose()
}

/// Marks a token revoked at `now`; a token already revoked is a conflict.
pub(super) async fn revoke(
    tx: &mut Connection,
    id: ApiTokenId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let done =
        sql::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id.as_uuid())
            .bind(now.as_micros())
            .execute(&mut *tx)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: format!("a revocation of token `{id}`"),
        });
    }
    Ok(())
}

fn token_from(row: TokenRow) -> Result<ApiToken, StoreError> {
    let (id, principal, scope, hash, created_at, expires_at, revoked_at) = row;
    let what = "api token";
    Ok(ApiToken {
        id: ApiTokenId::from_uuid(id),
        principal: PrincipalId::from_uuid(principal),
        scope: parsed(what, &scope)?,
        hash: TokenHash::from_bytes(
            <[u8; 32]>::try_from(hash.as_slice()).map_err(|e| StoreError::corrupt(what, e))?,
        ),
        created_at: Timestamp::from_micros(created_at),
        expires_at: Timestamp::from_micros(expires_at),
        revoked_at: revoked_at.map(Timestamp::from_micros),
    })
}
