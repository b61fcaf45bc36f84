//! Findings and reconciliation runs, compiled once per backend (see the crate docs): a gap
//! seen is recorded once per key (seen again, it updates), resolved when a finished run no
//! longer sees it, accepted until a date, or linked to the request that remediates it.

use std::collections::BTreeMap;

use writ_domain::{
    Finding, FindingId, FindingKind, FindingStatus, RequestId, RequestKind, RequestStatus,
    SystemId, Timestamp,
};

use crate::error::StoreError;
use crate::rows::{from_json, parsed, to_json};
use crate::{Acceptance, FindingQuery, ReconciliationRun, SeenFinding};

use super::{Connection, Pool, sql};

const COLUMNS: &str = "id, kind, system_id, subject, identity_id, account_key, entitlement_id, \
    entitlement_key, sod_rule_id, first_seen, last_seen, seen_count, status, resolution, \
    accepted_until, request_id, evidence";

/// Rows per multi-row upsert (11 parameters each). Small on purpose: sqlx's SQLite driver
/// looks every parameter's name up across the whole statement as it binds, which grows with
/// the square of the parameter count (400 rows: 150 µs a finding; 25 rows: about 20 µs).
const BATCH: usize = 25;

/// Records gaps seen at `now`: each opens a finding, or updates the one not yet resolved
/// under the same key (last seen, count, evidence). Returns the findings as they now stand.
pub(super) async fn record(
    tx: &mut Connection,
    system: SystemId,
    seen: &[SeenFinding],
    now: Timestamp,
) -> Result<Vec<Finding>, StoreError> {
    let mut recorded = Vec::with_capacity(seen.len());
    for chunk in seen.chunks(BATCH) {
        let mut sql = String::from(
            "INSERT INTO findings (id, system_id, kind, subject, identity_id, account_key, \
             entitlement_id, entitlement_key, sod_rule_id, evidence, first_seen, last_seen, \
             updated_at, seen_count, status) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * 11;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${t}, ${t}, ${t}, 1, 'open')",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8,
                p + 9,
                p + 10,
                t = p + 11,
            ));
        }
        sql.push_str(&format!(
            " ON CONFLICT (system_id, kind, subject) WHERE status <> 'resolved' DO UPDATE SET \
             last_seen = excluded.last_seen, seen_count = findings.seen_count + 1, \
             evidence = excluded.evidence, updated_at = excluded.updated_at, \
             identity_id = COALESCE(excluded.identity_id, findings.identity_id), \
             entitlement_id = COALESCE(excluded.entitlement_id, findings.entitlement_id) \
             RETURNING {COLUMNS}"
        ));
        let mut query = sql::query(sqlx::AssertSqlSafe(sql));
        for finding in chunk {
            query = query
                .bind(FindingId::new().as_uuid())
                .bind(system.as_uuid())
                .bind(finding.kind.as_str())
                .bind(&finding.subject)
                .bind(finding.identity.map(|i| i.as_uuid()))
                .bind(&finding.account_key)
                .bind(finding.entitlement.map(|e| e.as_uuid()))
                .bind(&finding.entitlement_key)
                .bind(finding.sod_rule.map(|r| r.as_uuid()))
                .bind(to_json("finding evidence", &finding.evidence)?)
                .bind(now.as_micros());
        }
        for row in query.fetch_all(&mut *tx).await? {
            recorded.push(finding_from(&row)?);
        }
    }
    Ok(recorded)
}

/// Resolves every finding of `system` not resolved yet that the run started at `started`
/// did not see again: live and governed state agree on it now.
pub(super) async fn resolve_unseen(
    tx: &mut Connection,
    system: SystemId,
    started: Timestamp,
    now: Timestamp,
) -> Result<Vec<FindingId>, StoreError> {
    let ids: Vec<(uuid::Uuid,)> = sql::query_as(
        "UPDATE findings SET status = 'resolved', \
         resolution = 'live and governed state agree again', updated_at = $1 \
         WHERE system_id = $2 AND status <> 'resolved' AND last_seen < $3 RETURNING id",
    )
    .bind(now.as_micros())
    .bind(system.as_uuid())
    .bind(started.as_micros())
    .fetch_all(&mut *tx)
    .await?;
    Ok(ids
        .into_iter()
        .map(|(id,)| FindingId::from_uuid(id))
        .collect())
}

/// Reopens accepted findings whose acceptance ended at or before `now`.
pub(super) async fn reopen_expired(
    tx: &mut Connection,
    now: Timestamp,
) -> Result<Vec<Finding>, StoreError> {
    let rows = sql::query(sqlx::AssertSqlSafe(format!(
        "UPDATE findings SET status = 'open', resolution = 'its acceptance ended', \
         updated_at = $1 WHERE status = 'accepted' AND accepted_until <= $1 RETURNING {COLUMNS}"
    )))
    .bind(now.as_micros())
    .fetch_all(&mut *tx)
    .await?;
    rows.iter().map(finding_from).collect()
}

/// Accepts an open finding until a date.
pub(super) async fn accept(
    tx: &mut Connection,
    id: FindingId,
    acceptance: &Acceptance,
    now: Timestamp,
) -> Result<(), StoreError> {
    let accepted = sql::query(
        "UPDATE findings SET status = 'accepted', resolution = $1, accepted_by = $2, \
         accepted_until = $3, updated_at = $4 WHERE id = $5 AND status = 'open'",
    )
    .bind(&acceptance.reason)
    .bind(acceptance.by.as_uuid())
    .bind(acceptance.until.as_micros())
    .bind(now.as_micros())
    .bind(id.as_uuid())
    .execute(&mut *tx)
    .await?;
    if accepted.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: format!("an acceptance of finding {id} (it is no longer open)"),
        });
    }
    Ok(())
}

/// Marks an open finding `remediating` through `request`.
pub(super) async fn remediate(
    tx: &mut Connection,
    id: FindingId,
    request: RequestId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let linked = sql::query(
        "UPDATE findings SET status = 'remediating', request_id = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'open'",
    )
    .bind(request.as_uuid())
    .bind(now.as_micros())
    .bind(id.as_uuid())
    .execute(&mut *tx)
    .await?;
    if linked.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            what: format!("a remediation of finding {id} (it is no longer open)"),
        });
    }
    Ok(())
}

/// Moves a remediating finding back to `open` with a note (its request ended without fixing
/// it); one no longer remediating is left alone and reported `false`.
pub(super) async fn reopen(
    tx: &mut Connection,
    id: FindingId,
    note: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let reopened = sql::query(
        "UPDATE findings SET status = 'open', resolution = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'remediating'",
    )
    .bind(note)
    .bind(now.as_micros())
    .bind(id.as_uuid())
    .execute(&mut *tx)
    .await?;
    Ok(reopened.rows_affected() > 0)
}

/// One finding by id.
pub(super) async fn get(pool: &Pool, id: FindingId) -> Result<Option<Finding>, StoreError> {
    let row = sql::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM findings WHERE id = $1"
    )))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(finding_from).transpose()
}

/// A page of findings in id order.
pub(super) async fn page(pool: &Pool, query: &FindingQuery) -> Result<Vec<Finding>, StoreError> {
    let rows = sql::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM findings WHERE ($1 IS NULL OR system_id = $1) \
         AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR kind = $3) \
         AND ($4 IS NULL OR id > $4) ORDER BY id LIMIT $5"
    )))
    .bind(query.system.map(|s| s.as_uuid()))
    .bind(query.status.map(|s| s.as_str()))
    .bind(query.kind.map(|k| k.as_str()))
    .bind(query.after.map(|a| a.as_uuid()))
    .bind(i64::from(query.limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(finding_from).collect()
}

/// The remediating findings of `system` with the kind and status of their request.
pub(super) async fn remediating(
    pool: &Pool,
    system: SystemId,
) -> Result<Vec<(Finding, RequestKind, RequestStatus)>, StoreError> {
    let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("f.{c}")).collect();
    let rows = sql::query(sqlx::AssertSqlSafe(format!(
        "SELECT {}, r.kind AS request_kind, r.status AS request_status FROM findings f \
         JOIN requests r ON r.id = f.request_id \
         WHERE f.system_id = $1 AND f.status = 'remediating' ORDER BY f.id",
        columns.join(", ")
    )))
    .bind(system.as_uuid())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            use super::sql::Row as _;
            let kind: String = row.try_get("request_kind")?;
            let status: String = row.try_get("request_status")?;
            Ok((
                finding_from(row)?,
                parsed("request kind", &kind)?,
                parsed("request status", &status)?,
            ))
        })
        .collect()
}

/// Keeps the record of a finished run.
pub(super) async fn insert_run(
    tx: &mut Connection,
    run: &ReconciliationRun,
) -> Result<(), StoreError> {
    let counts: BTreeMap<&str, u64> = run
        .findings
        .iter()
        .map(|(kind, n)| (kind.as_str(), *n))
        .collect();
    sql::query(
        "INSERT INTO reconciliations (id, system_id, started_at, finished_at, live_accounts, \
         live_grants, traced_grants, findings, opened, resolved) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(run.system.as_uuid())
    .bind(run.started_at.as_micros())
    .bind(run.finished_at.as_micros())
    .bind(count(run.live_accounts))
    .bind(count(run.live_grants))
    .bind(count(run.traced_grants))
    .bind(to_json("reconciliation findings", &counts)?)
    .bind(count(run.opened))
    .bind(count(run.resolved))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The latest finished run of every system that has one.
pub(super) async fn latest_runs(pool: &Pool) -> Result<Vec<ReconciliationRun>, StoreError> {
    type RunRow = (uuid::Uuid, i64, i64, i64, i64, i64, String, i64, i64);
    let rows: Vec<RunRow> = sql::query_as(
        "SELECT r.system_id, r.started_at, r.finished_at, r.live_accounts, r.live_grants, \
         r.traced_grants, r.findings, r.opened, r.resolved FROM reconciliations r \
         WHERE r.finished_at = (SELECT MAX(l.finished_at) FROM reconciliations l \
         WHERE l.system_id = r.system_id) ORDER BY r.system_id",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(
            |(system, started, finished, accounts, grants, traced, findings, opened, resolved)| {
                let counts: BTreeMap<String, u64> =
                    from_json("reconciliation findings", &findings)?;
                let findings = counts
                    .into_iter()
                    .map(|(kind, n)| Ok((parsed::<FindingKind>("finding kind", &kind)?, n)))
                    .collect::<Result<_, StoreError>>()?;
                Ok(ReconciliationRun {
                    system: SystemId::from_uuid(system),
                    started_at: Timestamp::from_micros(started),
                    finished_at: Timestamp::from_micros(finished),
                    live_accounts: uncount(accounts),
                    live_grants: uncount(grants),
                    traced_grants: uncount(traced),
                    findings,
                    opened: uncount(opened),
                    resolved: uncount(resolved),
                })
            },
        )
        .collect()
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn uncount(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn finding_from(row: &super::SqlRow) -> Result<Finding, StoreError> {
    use super::sql::Row as _;
    let what = "finding";
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let account_key: Option<String> = row.try_get("account_key")?;
    let entitlement_key: Option<String> = row.try_get("entitlement_key")?;
    let evidence: String = row.try_get("evidence")?;
    Ok(Finding {
        id: FindingId::from_uuid(row.try_get("id")?),
        kind: parsed(what, &kind)?,
        system: SystemId::from_uuid(row.try_get("system_id")?),
        subject: row.try_get("subject")?,
        identity: row
            .try_get::<Option<uuid::Uuid>, _>("identity_id")?
            .map(writ_domain::IdentityId::from_uuid),
        account_key: account_key.map(|k| parsed(what, &k)).transpose()?,
        entitlement: row
            .try_get::<Option<uuid::Uuid>, _>("entitlement_id")?
            .map(writ_domain::EntitlementId::from_uuid),
        entitlement_key: entitlement_key.map(|k| parsed(what, &k)).transpose()?,
        sod_rule: row
            .try_get::<Option<uuid::Uuid>, _>("sod_rule_id")?
            .map(writ_domain::SodRuleId::from_uuid),
        first_seen: Timestamp::from_micros(row.try_get("first_seen")?),
        last_seen: Timestamp::from_micros(row.try_get("last_seen")?),
        count: uncount(row.try_get("seen_count")?),
        status: parsed::<FindingStatus>(what, &status)?,
        resolution: row.try_get("resolution")?,
        accepted_until: row
            .try_get::<Option<i64>, _>("accepted_until")?
            .map(Timestamp::from_micros),
        request: row
            .try_get::<Option<uuid::Uuid>, _>("request_id")?
            .map(RequestId::from_uuid),
        evidence: from_json(what, &evidence)?,
    })
}
