//! The catalog and inventory, compiled once per backend (see the crate docs): read whole,
//! written as upserts by id.

use writ_domain::entitlement::{ApprovalStage, BreakGlass, TtlPolicy};
use writ_domain::{
    Catalog, Entitlement, EntitlementId, Identity, IdentityId, Principal, PrincipalId, SodRule,
    SodRuleId, System, SystemId, Timestamp,
};

use crate::error::StoreError;
use crate::rows::{Arg, bind_args, from_json, parsed, to_json, ttl};

use super::{Connection, Pool, sql};

/// Everything in the catalog, in name order.
pub(super) async fn load(pool: &Pool) -> Result<Catalog, StoreError> {
    let mut principals = principals(pool, "ORDER BY email", Vec::new()).await?;
    // writ itself is no part of any catalog file.
    principals.retain(|p| p.id != PrincipalId::SYSTEM);
    Ok(Catalog {
        principals,
        systems: systems(pool, "ORDER BY name", Vec::new()).await?,
        entitlements: entitlements(pool, "ORDER BY name", Vec::new()).await?,
        sod_rules: sod_rules(pool, "ORDER BY name").await?,
        identities: identities(pool, "ORDER BY name", Vec::new()).await?,
    })
}

/// One principal by id.
pub(super) async fn principal(
    conn: &mut Connection,
    id: PrincipalId,
) -> Result<Option<Principal>, StoreError> {
    by_id::<PrincipalRow, _>(conn, PRINCIPALS, id.as_uuid(), principal_from).await
}

/// Every active principal, by id.
pub(super) async fn active_principals(pool: &Pool) -> Result<Vec<Principal>, StoreError> {
    principals(pool, "WHERE active = TRUE ORDER BY id", Vec::new()).await
}

/// One identity by id.
pub(super) async fn identity(
    conn: &mut Connection,
    id: IdentityId,
) -> Result<Option<Identity>, StoreError> {
    by_id::<IdentityRow, _>(conn, IDENTITIES, id.as_uuid(), identity_from).await
}

/// One system by id.
pub(super) async fn system(
    conn: &mut Connection,
    id: SystemId,
) -> Result<Option<System>, StoreError> {
    by_id::<SystemRow, _>(conn, SYSTEMS, id.as_uuid(), system_from).await
}

/// One entitlement by id.
pub(super) async fn entitlement(
    conn: &mut Connection,
    id: EntitlementId,
) -> Result<Option<Entitlement>, StoreError> {
    by_id::<EntitlementRow, _>(conn, ENTITLEMENTS, id.as_uuid(), entitlement_from).await
}

/// Every SoD rule (few by nature; the caller picks those that name its entitlement).
pub(super) async fn all_sod_rules(conn: &mut Connection) -> Result<Vec<SodRule>, StoreError> {
    let rows: Vec<SodRuleRow> =
        sql::query_as(sqlx::AssertSqlSafe(format!("{SOD_RULES} ORDER BY name")))
            .fetch_all(&mut *conn)
            .await?;
    rows.into_iter().map(sod_rule_from).collect()
}

pub(super) const BY_ID: &str = "WHERE id = $1";

/// The row `{select} WHERE id = $1` for `id`, converted by `from`.
async fn by_id<R: super::FromTuple, T>(
    conn: &mut Connection,
    select: &str,
    id: uuid::Uuid,
    from: fn(R) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let row: Option<R> = sql::query_as(sqlx::AssertSqlSafe(format!("{select} {BY_ID}")))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(from).transpose()
}

/// Runs `{select} {tail}`, binding `args` in order. `tail` is built only from constants and
/// numbered placeholders, never from input.
pub(super) async fn fetch<R: super::FromTuple>(
    pool: &Pool,
    select: &str,
    tail: &str,
    args: Vec<Arg>,
) -> Result<Vec<R>, StoreError> {
    let query = bind_args!(
        sql::query_as(sqlx::AssertSqlSafe(format!("{select} {tail}"))),
        args
    );
    let rows = query.fetch_all(pool).await?;
    Ok(rows)
}

/// Inserts or updates every object of `changes` by id, parents before children.
pub(super) async fn upsert(
    tx: &mut Connection,
    changes: &Catalog,
    now: Timestamp,
) -> Result<(), StoreError> {
    for p in &changes.principals {
        sql::query(
            "INSERT INTO principals (id, external_id, email, name, manager_id, groups, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (id) DO UPDATE SET \
             external_id = excluded.external_id, email = excluded.email, name = excluded.name, \
             manager_id = excluded.manager_id, groups = excluded.groups, active = excluded.active, \
             updated_at = excluded.updated_at",
        )
        .bind(p.id.as_uuid())
        .bind(&p.external_id)
        .bind(p.email.as_str())
        .bind(p.name.as_str())
        .bind(p.manager.map(|m| m.as_uuid()))
        .bind(to_json("principal groups", &p.groups)?)
        .bind(p.active)
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await?;
    }
    for s in &changes.systems {
        sql::query(
            "INSERT INTO systems (id, name, connector, config, owner_id, environment, criticality, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, connector = excluded.connector, config = excluded.config, \
             owner_id = excluded.owner_id, environment = excluded.environment, \
             criticality = excluded.criticality, updated_at = excluded.updated_at",
        )
        .bind(s.id.as_uuid())
        .bind(s.name.as_str())
        .bind(s.connector.as_str())
        .bind(s.config.to_string())
        .bind(s.owner.as_uuid())
        .bind(s.environment.as_str())
        .bind(s.criticality.as_str())
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await?;
    }
    for e in &changes.entitlements {
        sql::query(
            "INSERT INTO entitlements (id, system_id, key, name, description, risk, environment, \
             default_ttl_secs, max_ttl_secs, requestable, allowed_identity_kinds, approval_stages, \
             break_glass_ttl_secs, owner_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) \
             ON CONFLICT (id) DO UPDATE SET system_id = excluded.system_id, key = excluded.key, \
             name = excluded.name, description = excluded.description, risk = excluded.risk, \
             environment = excluded.environment, default_ttl_secs = excluded.default_ttl_secs, \
             max_ttl_secs = excluded.max_ttl_secs, requestable = excluded.requestable, \
             allowed_identity_kinds = excluded.allowed_identity_kinds, \
             approval_stages = excluded.approval_stages, break_glass_ttl_secs = excluded.break_glass_ttl_secs, \
             owner_id = excluded.owner_id, updated_at = excluded.updated_at",
        )
        .bind(e.id.as_uuid())
        .bind(e.system.as_uuid())
        .bind(e.key.as_str())
        .bind(e.name.as_str())
        .bind(&e.description)
        .bind(e.risk.as_str())
        .bind(e.environment.map(|env| env.as_str()))
        .bind(e.ttl.default_ttl().as_secs() as i64)
        .bind(e.ttl.max_ttl().as_secs() as i64)
        .bind(e.requestable)
        .bind(to_json("allowed identity kinds", &e.allowed_identity_kinds)?)
        .bind(to_json("approval stages", &e.approval_stages)?)
        .bind(e.break_glass.map(|b| b.max_ttl.as_secs() as i64))
        .bind(e.owner.as_uuid())
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await?;
    }
    for r in &changes.sod_rules {
        sql::query(
            "INSERT INTO sod_rules (id, name, entitlement_ids, scope, severity, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             entitlement_ids = excluded.entitlement_ids, scope = excluded.scope, \
             severity = excluded.severity, updated_at = excluded.updated_at",
        )
        .bind(r.id.as_uuid())
        .bind(r.name.as_str())
        .bind(to_json("sod entitlements", &r.entitlements)?)
        .bind(r.scope.as_str())
        .bind(r.severity.as_str())
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await?;
    }
    for i in &changes.identities {
        sql::query(
            "INSERT INTO identities (id, name, kind, owner_id, team, purpose, environment, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, kind = excluded.kind, owner_id = excluded.owner_id, team = excluded.team, \
             purpose = excluded.purpose, environment = excluded.environment, status = excluded.status, \
             updated_at = excluded.updated_at",
        )
        .bind(i.id.as_uuid())
        .bind(i.name.as_str())
        .bind(i.kind.as_str())
        .bind(i.owner.as_uuid())
        .bind(i.team.as_deref())
        .bind(&i.purpose)
        .bind(i.environment.as_str())
        .bind(i.status.as_str())
        .bind(i.created_at.as_micros())
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

pub(super) type PrincipalRow = (
    uuid::Uuid,
    String,
    String,
    String,
    Option<uuid::Uuid>,
    String,
    bool,
);

pub(super) async fn principals(
    pool: &Pool,
    tail: &str,
    args: Vec<Arg>,
) -> Result<Vec<Principal>, StoreError> {
    let rows: Vec<PrincipalRow> = fetch(pool, PRINCIPALS, tail, args).await?;
    rows.into_iter().map(principal_from).collect()
}

pub(super) const PRINCIPALS: &str =
    "SELECT id, external_id, email, name, manager_id, groups, active FROM principals";

pub(super) fn principal_from(row: PrincipalRow) -> Result<Principal, StoreError> {
    let (id, external_id, email, name, manager, groups, active) = row;
    Ok(Principal {
        id: PrincipalId::from_uuid(id),
        external_id,
        email: parsed("principal email", &email)?,
        name: parsed("principal name", &name)?,
        manager: manager.map(PrincipalId::from_uuid),
        groups: from_json("principal groups", &groups)?,
        active,
    })
}

pub(super) type SystemRow = (
    uuid::Uuid,
    String,
    String,
    String,
    uuid::Uuid,
    String,
    String,
);

pub(super) async fn systems(
    pool: &Pool,
    tail: &str,
    args: Vec<Arg>,
) -> Result<Vec<System>, StoreError> {
    let rows: Vec<SystemRow> = fetch(pool, SYSTEMS, tail, args).await?;
    rows.into_iter().map(system_from).collect()
}

pub(super) const SYSTEMS: &str =
    "SELECT id, name, connector, config, owner_id, environment, criticality FROM systems";

pub(super) fn system_from(row: SystemRow) -> Result<System, StoreError> {
    let (id, name, connector, config, owner, environment, criticality) = row;
    Ok(System {
        id: SystemId::from_uuid(id),
        name: parsed("system name", &name)?,
        connector: parsed("system connector", &connector)?,
        config: from_json("system config", &config)?,
        owner: PrincipalId::from_uuid(owner),
        environment: parsed("system environment", &environment)?,
        criticality: parsed("system criticality", &criticality)?,
    })
}

pub(super) type EntitlementRow = (
    uuid::Uuid,
    uuid::Uuid,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    bool,
    String,
    String,
    Option<i64>,
    uuid::Uuid,
);

pub(super) async fn entitlements(
    pool: &Pool,
    tail: &str,
    args: Vec<Arg>,
) -> Result<Vec<Entitlement>, StoreError> {
    let rows: Vec<EntitlementRow> = fetch(pool, ENTITLEMENTS, tail, args).await?;
    rows.into_iter().map(entitlement_from).collect()
}

pub(super) const ENTITLEMENTS: &str = "SELECT id, system_id, key, name, description, risk, \
    environment, default_ttl_secs, max_ttl_secs, requestable, allowed_identity_kinds, \
    approval_stages, break_glass_ttl_secs, owner_id FROM entitlements";

pub(super) fn entitlement_from(row: EntitlementRow) -> Result<Entitlement, StoreError> {
    let (
        id,
        system,
        key,
        name,
        description,
        risk,
        environment,
        default_ttl,
        max_ttl,
        requestable,
        kinds,
        stages,
        bg,
        owner,
    ) = row;
    let what = "entitlement";
    Ok(Entitlement {
        id: EntitlementId::from_uuid(id),
        system: SystemId::from_uuid(system),
        key: parsed(what, &key)?,
        name: parsed(what, &name)?,
        description,
        risk: parsed(what, &risk)?,
        environment: environment.map(|e| parsed(what, &e)).transpose()?,
        ttl: TtlPolicy::new(ttl(what, default_ttl)?, ttl(what, max_ttl)?)
            .map_err(|e| StoreError::corrupt(what, e))?,
        requestable,
        allowed_identity_kinds: from_json(what, &kinds)?,
        approval_stages: from_json::<Vec<ApprovalStage>>(what, &stages)?,
        break_glass: bg
            .map(|secs| ttl(what, secs).map(|max_ttl| BreakGlass { max_ttl }))
            .transpose()?,
        owner: PrincipalId::from_uuid(owner),
    })
}

async fn sod_rules(pool: &Pool, tail: &str) -> Result<Vec<SodRule>, StoreError> {
    let rows: Vec<SodRuleRow> = fetch(pool, SOD_RULES, tail, Vec::new()).await?;
    rows.into_iter().map(sod_rule_from).collect()
}

pub(super) type SodRuleRow = (uuid::Uuid, String, String, String, String);

pub(super) const SOD_RULES: &str =
    "SELECT id, name, entitlement_ids, scope, severity FROM sod_rules";

pub(super) fn sod_rule_from(row: SodRuleRow) -> Result<SodRule, StoreError> {
    let (id, name, entitlements, scope, severity) = row;
    Ok(SodRule {
        id: SodRuleId::from_uuid(id),
        name: parsed("sod rule", &name)?,
        entitlements: from_json("sod rule", &entitlements)?,
        scope: parsed("sod rule", &scope)?,
        severity: parsed("sod rule", &severity)?,
    })
}

pub(super) type IdentityRow = (
    uuid::Uuid,
    String,
    String,
    uuid::Uuid,
    Option<String>,
    String,
    String,
    String,
    i64,
);

pub(super) async fn identities(
    pool: &Pool,
    tail: &str,
    args: Vec<Arg>,
) -> Result<Vec<Identity>, StoreError> {
    let rows: Vec<IdentityRow> = fetch(pool, IDENTITIES, tail, args).await?;
    rows.into_iter().map(identity_from).collect()
}

pub(super) const IDENTITIES: &str = "SELECT id, name, kind, owner_id, team, purpose, environment, \
    status, created_at FROM identities";

pub(super) fn identity_from(row: IdentityRow) -> Result<Identity, StoreError> {
    let (id, name, kind, owner, team, purpose, environment, status, created_at) = row;
    Ok(Identity {
        id: IdentityId::from_uuid(id),
        name: parsed("identity", &name)?,
        kind: parsed("identity", &kind)?,
        owner: PrincipalId::from_uuid(owner),
        team,
        purpose,
        environment: parsed("identity", &environment)?,
        status: parsed("identity", &status)?,
        created_at: Timestamp::from_micros(created_at),
    })
}
