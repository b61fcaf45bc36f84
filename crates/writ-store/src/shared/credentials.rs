//! Credential rotation, compiled once per backend (see the crate docs): a rotate request is
//! stored with what it rotates (and the current credential, sealed); its execution moves it to
//! `executing`, keeps the new secret sealed before the target is touched, and ends either
//! `fulfilled` (a new active credential, the secret waiting for its one delivery) or `failed`
//! (every secret it held wiped). A delivery deletes the sealed row it reveals.

use writ_domain::{
    Account, AccountId, AccountKey, AccountStatus, Credential, CredentialId, CredentialStatus,
    Fingerprint, IdentityId, PlanHash, PrincipalId, RequestId, RequestNumber, RequestStatus,
    SystemId, Timestamp,
};

use crate::credentials::{
    Delivery, RotationContext, RotationEnd, RotationPlan, RotationStart, RotationTarget,
    SealedSecret,
};
use crate::error::StoreError;
use crate::rows::parsed;
use crate::{Evidence, StoreError as E};

use super::execution::insert_evidence;
use super::{Connection, Pool, catalog, sql};

/// `id, nonce, ciphertext` of a sealed secret.
type SealedRow = (uuid::Uuid, Vec<u8>, Vec<u8>);

/// `id, account_id, fingerprint, version, issued_at, expires_at, status` of a credential.
type CredentialRow = (
    uuid::Uuid,
    uuid::Uuid,
    String,
    i64,
    i64,
    Option<i64>,
    String,
);

fn sealed_from((id, nonce, ciphertext): SealedRow) -> SealedSecret {
    SealedSecret {
        id,
        nonce,
        ciphertext,
    }
}

fn credential_from(row: CredentialRow) -> Result<Credential, StoreError> {
    let (id, account, fingerprint, version, issued_at, expires_at, status) = row;
    Ok(Credential {
        id: CredentialId::from_uuid(id),
        account: AccountId::from_uuid(account),
        fingerprint: parsed_fingerprint(&fingerprint)?,
        version: u32::try_from(version).map_err(|e| E::corrupt("credential version", e))?,
        issued_at: Timestamp::from_micros(issued_at),
        expires_at: expires_at.map(Timestamp::from_micros),
        status: parsed("credential status", &status)?,
    })
}

fn parsed_fingerprint(text: &str) -> Result<Fingerprint, StoreError> {
    Fingerprint::parse(text).map_err(|e| E::corrupt("credential fingerprint", e))
}

/// The account's active credential, if writ issued one.
async fn active_credential(
    conn: &mut Connection,
    account: AccountId,
) -> Result<Option<Credential>, StoreError> {
    let row: Option<CredentialRow> = sql::query_as(
        "SELECT id, account_id, fingerprint, version, issued_at, expires_at, status \
         FROM credentials WHERE account_id = $1 AND status = 'active'",
    )
    .bind(account.as_uuid())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(credential_from).transpose()
}

/// The identity's account on the system, if it has one.
async fn account_of(
    conn: &mut Connection,
    identity: IdentityId,
    system: SystemId,
) -> Result<Option<Account>, StoreError> {
    let row: Option<(uuid::Uuid, String, String)> = sql::query_as(
        "SELECT id, account_key, status FROM accounts WHERE identity_id = $1 AND system_id = $2",
    )
    .bind(identity.as_uuid())
    .bind(system.as_uuid())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(id, key, status)| {
        Ok(Account {
            id: AccountId::from_uuid(id),
            identity,
            system,
            key: AccountKey::parse(&key).map_err(|e| E::corrupt("account key", e))?,
            status: parsed::<AccountStatus>("account status", &status)?,
        })
    })
    .transpose()
}

/// What a rotate request for `identity` on `system` is decided on.
pub(super) async fn context(
    conn: &mut Connection,
    identity: IdentityId,
    system: SystemId,
) -> Result<RotationContext, StoreError> {
    let found = catalog::system(&mut *conn, system).await?;
    let account = account_of(&mut *conn, identity, system).await?;
    let active = match &account {
        Some(account) => active_credential(&mut *conn, account.id).await?,
        None => None,
    };
    Ok(RotationContext {
        system: found,
        account,
        active,
    })
}

/// Stores what a just-inserted rotate request rotates, with its sealed current credential.
pub(super) async fn insert_plan(
    tx: &mut Connection,
    request: RequestId,
    plan: &RotationPlan,
    now: Timestamp,
) -> Result<(), StoreError> {
    sql::query(
        "INSERT INTO rotations (request_id, system_id, account_key, not_before) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(request.as_uuid())
    .bind(plan.system.as_uuid())
    .bind(plan.account.as_str())
    .bind(plan.not_before.as_micros())
    .execute(&mut *tx)
    .await?;
    if let Some(current) = &plan.current {
        insert_sealed(tx, request, "current", current, now).await?;
    }
    Ok(())
}

async fn insert_sealed(
    tx: &mut Connection,
    request: RequestId,
    purpose: &str,
    sealed: &SealedSecret,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let inserted = sql::query(
        "INSERT INTO sealed_secrets (id, request_id, purpose, nonce, ciphertext, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id, purpose) DO NOTHING",
    )
    .bind(sealed.id)
    .bind(request.as_uuid())
    .bind(purpose)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .bind(now.as_micros())
    .execute(&mut *tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

async fn sealed(
    conn: &mut Connection,
    request: RequestId,
    purpose: &str,
) -> Result<Option<SealedSecret>, StoreError> {
    let row: Option<SealedRow> = sql::query_as(
        "SELECT id, nonce, ciphertext FROM sealed_secrets WHERE request_id = $1 AND purpose = $2",
    )
    .bind(request.as_uuid())
    .bind(purpose)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(sealed_from))
}

/// Wipes what a rotation held of its input: the current credential and an unproven new one.
async fn wipe_inputs(tx: &mut Connection, request: RequestId) -> Result<(), StoreError> {
    sql::query(
        "DELETE FROM sealed_secrets WHERE request_id = $1 AND purpose IN ('current', 'pending')",
    )
    .bind(request.as_uuid())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Moves an approved rotate request to `executing` (creating the identity's account in writ's
/// inventory if it has none on the system); resumes one executing, reports one finished.
pub(super) async fn begin(
    tx: &mut Connection,
    request: RequestId,
    plan_hash: PlanHash,
    now: Timestamp,
) -> Result<RotationStart, StoreError> {
    let started: Option<(i64,)> = sql::query_as(
        "UPDATE requests SET status = 'executing', updated_at = $1 \
         WHERE id = $2 AND status = 'approved' AND plan_hash = $3 AND kind = 'rotate' \
         RETURNING number",
    )
    .bind(now.as_micros())
    .bind(request.as_uuid())
    .bind(plan_hash.as_bytes().to_vec())
    .fetch_optional(&mut *tx)
    .await?;
    if started.is_none() {
        let row: Option<(String, Option<Vec<u8>>)> =
            sql::query_as("SELECT status, plan_hash FROM requests WHERE id = $1")
                .bind(request.as_uuid())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((status, stored_plan)) = row else {
            return Err(StoreError::NotFound {
                what: format!("request {request}"),
            });
        };
        if stored_plan.as_deref() != Some(plan_hash.as_bytes().as_slice()) {
            return Ok(RotationStart::PlanChanged);
        }
        let status: RequestStatus = parsed("request status", &status)?;
        if status != RequestStatus::Executing {
            // Cancelled before it ran, or over: nothing may keep the handed-over secret.
            wipe_inputs(tx, request).await?;
            return Ok(RotationStart::Finished(status));
        }
    }
    let target = target(tx, request, now).await?;
    Ok(if started.is_some() {
        RotationStart::Started(target)
    } else {
        RotationStart::Resumed(target)
    })
}

async fn target(
    tx: &mut Connection,
    request: RequestId,
    now: Timestamp,
) -> Result<RotationTarget, StoreError> {
    let (number, requester, identity, system, key): (
        i64,
        uuid::Uuid,
        uuid::Uuid,
        uuid::Uuid,
        String,
    ) = sql::query_as(
        "SELECT r.number, r.requester_id, r.identity_id, t.system_id, t.account_key \
             FROM requests r JOIN rotations t ON t.request_id = r.id WHERE r.id = $1",
    )
    .bind(request.as_uuid())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| E::corrupt("rotate request", "no rotation is stored with it"))?;
    let (identity, system_id) = (IdentityId::from_uuid(identity), SystemId::from_uuid(system));
    let system = catalog::system(tx, system_id)
        .await?
        .ok_or_else(|| E::corrupt("rotation", "its system is gone"))?;
    // The identity's existing account on the system wins; the no-op update returns it.
    sql::query(
        "INSERT INTO accounts (id, identity_id, system_id, account_key, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'active', $5, $5) \
         ON CONFLICT (identity_id, system_id) DO UPDATE SET updated_at = accounts.updated_at",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(identity.as_uuid())
    .bind(system_id.as_uuid())
    .bind(&key)
    .bind(now.as_micros())
    .execute(&mut *tx)
    .await?;
    let account = account_of(tx, identity, system_id)
        .await?
        .ok_or_else(|| E::corrupt("rotation", "its account vanished"))?;
    let active = active_credential(tx, account.id).await?;
    Ok(RotationTarget {
        requester: PrincipalId::from_uuid(requester),
        number: RequestNumber::new(u64::try_from(number).unwrap_or_default())
            .map_err(|e| E::corrupt("request number", e))?,
        system,
        account,
        active,
        current: sealed(tx, request, "current").await?,
        pending: sealed(tx, request, "pending").await?,
    })
}

/// Keeps the new secret of an executing rotation, sealed, before the target is touched; an
/// earlier one wins (a retry must finish with the secret it may already have set). Returns
/// the one kept.
pub(super) async fn stage(
    tx: &mut Connection,
    request: RequestId,
    new: &SealedSecret,
    now: Timestamp,
) -> Result<SealedSecret, StoreError> {
    let executing: Option<(String,)> =
        sql::query_as("SELECT status FROM requests WHERE id = $1 AND status = 'executing'")
            .bind(request.as_uuid())
            .fetch_optional(&mut *tx)
            .await?;
    if executing.is_none() {
        return Err(StoreError::Conflict {
            what: format!("request {request} is not executing"),
        });
    }
    insert_sealed(tx, request, "pending", new, now).await?;
    sealed(tx, request, "pending")
        .await?
        .ok_or_else(|| E::corrupt("rotation", "its pending secret vanished"))
}

/// Ends an executing rotation (see [`RotationEnd`]) with its evidence.
pub(super) async fn finish(
    tx: &mut Connection,
    request: RequestId,
    end: &RotationEnd,
    evidence: &[Evidence],
    now: Timestamp,
) -> Result<(), StoreError> {
    let status = match end {
        RotationEnd::Rotated { .. } => "fulfilled",
        RotationEnd::Failed { .. } => "failed",
    };
    let from = match end {
        RotationEnd::Rotated { .. } => "status = 'executing'",
        RotationEnd::Failed { .. } => "status IN ('approved', 'executing')",
    };
    let sql = format!(
        "UPDATE requests SET status = $1, updated_at = $2 WHERE id = $3 AND kind = 'rotate' AND {from}"
    );
    let moved = sql::query(sqlx::AssertSqlSafe(sql))
        .bind(status)
        .bind(now.as_micros())
        .bind(request.as_uuid())
        .execute(&mut *tx)
        .await?;
    if moved.rows_affected() != 1 {
        return Err(StoreError::Conflict {
            what: format!("rotate request {request} is not executing"),
        });
    }
    if let RotationEnd::Rotated { credential } = end {
        sql::query(
            "UPDATE credentials SET status = 'superseded', updated_at = $1 \
             WHERE account_id = $2 AND status = 'active'",
        )
        .bind(now.as_micros())
        .bind(credential.account.as_uuid())
        .execute(&mut *tx)
        .await?;
        sql::query(
            "INSERT INTO credentials (id, account_id, request_id, fingerprint, version, issued_at, \
             expires_at, status, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $6)",
        )
        .bind(credential.id.as_uuid())
        .bind(credential.account.as_uuid())
        .bind(request.as_uuid())
        .bind(credential.fingerprint.as_str())
        .bind(i64::from(credential.version))
        .bind(credential.issued_at.as_micros())
        .bind(credential.expires_at.map(|t| t.as_micros()))
        .bind(CredentialStatus::Active.as_str())
        .execute(&mut *tx)
        .await?;
        let issued = sql::query(
            "UPDATE sealed_secrets SET purpose = 'issued' WHERE request_id = $1 AND purpose = 'pending'",
        )
        .bind(request.as_uuid())
        .execute(&mut *tx)
        .await?;
        if issued.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                what: format!("rotate request {request} has no new secret to deliver"),
            });
        }
        sql::query("UPDATE rotations SET credential_id = $1 WHERE request_id = $2")
            .bind(credential.id.as_uuid())
            .bind(request.as_uuid())
            .execute(&mut *tx)
            .await?;
    }
    wipe_inputs(tx, request).await?;
    insert_evidence(tx, request, evidence).await
}

/// The new secret of a rotate request waiting for its delivery, if any.
pub(super) async fn delivery(
    pool: &Pool,
    request: RequestId,
) -> Result<Option<Delivery>, StoreError> {
    type Row = (
        uuid::Uuid,
        Vec<u8>,
        Vec<u8>,
        uuid::Uuid,
        uuid::Uuid,
        String,
        String,
        String,
    );
    let row: Option<Row> = sql::query_as(
        "SELECT s.id, s.nonce, s.ciphertext, r.requester_id, r.identity_id, y.name, \
                t.account_key, c.fingerprint \
         FROM sealed_secrets s JOIN requests r ON r.id = s.request_id \
         JOIN rotations t ON t.request_id = r.id JOIN systems y ON y.id = t.system_id \
         JOIN credentials c ON c.id = t.credential_id \
         WHERE s.request_id = $1 AND s.purpose = 'issued'",
    )
    .bind(request.as_uuid())
    .fetch_optional(pool)
    .await?;
    row.map(
        |(id, nonce, ciphertext, requester, identity, system, key, fingerprint)| {
            Ok(Delivery {
                request,
                requester: PrincipalId::from_uuid(requester),
                identity: IdentityId::from_uuid(identity),
                system,
                account: AccountKey::parse(&key).map_err(|e| E::corrupt("account key", e))?,
                fingerprint: parsed_fingerprint(&fingerprint)?,
                sealed: sealed_from((id, nonce, ciphertext)),
            })
        },
    )
    .transpose()
}

/// Deletes the delivered secret's row: the one reveal. A row already gone is a
/// [`StoreError::Conflict`] (revealed meanwhile).
pub(super) async fn take(
    tx: &mut Connection,
    request: RequestId,
    sealed: uuid::Uuid,
    now: Timestamp,
) -> Result<(), StoreError> {
    let deleted = sql::query(
        "DELETE FROM sealed_secrets WHERE id = $1 AND request_id = $2 AND purpose = 'issued'",
    )
    .bind(sealed)
    .bind(request.as_uuid())
    .execute(&mut *tx)
    .await?;
    if deleted.rows_affected() != 1 {
        return Err(StoreError::Conflict {
            what: format!("the new secret of request {request} was revealed already"),
        });
    }
    sql::query("UPDATE rotations SET revealed_at = $1 WHERE request_id = $2")
        .bind(now.as_micros())
        .bind(request.as_uuid())
        .execute(&mut *tx)
        .await?;
    Ok(())
}
