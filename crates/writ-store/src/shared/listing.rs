//! The API's keyset-paginated lists and single lookups, compiled once per backend (see the
//! crate docs). Each filter has an index in the list's order (migration `api`).

use writ_domain::{
    Entitlement, EntitlementId, Grant, GrantId, Identity, IdentityId, Principal, Request,
    RequestId, SystemId, Timestamp,
};

use crate::error::StoreError;
use crate::listing::{EntitlementFilter, GrantAfter, GrantFilter, IdentityFilter, RequestFilter};
use crate::rows::{Arg, Filters, bind_args, parsed};

use super::{Pool, catalog, requests, sql};

/// A page of requests, newest first. Filtered by system, it walks each of the system's
/// entitlements in `(entitlement_id, number)` order and merges the walks: a page costs the
/// same however many requests the system has.
pub(super) async fn requests_page(
    pool: &Pool,
    filter: &RequestFilter,
    limit: u32,
) -> Result<Vec<Request>, StoreError> {
    let Some(system) = filter.system else {
        return requests_walk(pool, filter, limit).await;
    };
    let mut merged = Vec::new();
    for entitlement in entitlements_of(pool, system).await? {
        if filter.entitlement.is_some_and(|e| e != entitlement) {
            continue;
        }
        let one = RequestFilter {
            system: None,
            entitlement: Some(entitlement),
            ..filter.clone()
        };
        merged.extend(requests_walk(pool, &one, limit).await?);
    }
    merged.sort_by_key(|r: &Request| std::cmp::Reverse(r.number));
    merged.truncate(limit as usize);
    Ok(merged)
}

/// The ids of a system's entitlements.
async fn entitlements_of(pool: &Pool, system: SystemId) -> Result<Vec<EntitlementId>, StoreError> {
    let ids: Vec<uuid::Uuid> =
        sql::query_scalar("SELECT id FROM entitlements WHERE system_id = $1 ORDER BY id")
            .bind(system.as_uuid())
            .fetch_all(pool)
            .await?;
    Ok(ids.into_iter().map(EntitlementId::from_uuid).collect())
}

/// One index walk of requests (no system filter), newest first.
async fn requests_walk(
    pool: &Pool,
    filter: &RequestFilter,
    limit: u32,
) -> Result<Vec<Request>, StoreError> {
    let mut filters = Filters::default();
    filters.and_some("status = $?", filter.status, |s| {
        Arg::Text(s.as_str().into())
    });
    filters.and_some("kind = $?", filter.kind, |k| Arg::Text(k.as_str().into()));
    filters.and_some("identity_id = $?", filter.identity, |i| {
        Arg::Uuid(i.as_uuid())
    });
    filters.and_some("requester_id = $?", filter.requester, |p| {
        Arg::Uuid(p.as_uuid())
    });
    filters.and_some("entitlement_id = $?", filter.entitlement, |e| {
        Arg::Uuid(e.as_uuid())
    });
    filters.and_some("number < $?", filter.after, |n| Arg::Int(n.get() as i64));
    let (where_sql, args) = filters.into_parts();
    let sql = format!(
        "SELECT {} FROM requests {where_sql} ORDER BY number DESC LIMIT {limit}",
        requests::COLUMNS
    );
    let query = bind_args!(sql::query(sqlx::AssertSqlSafe(sql)), args);
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|row| requests::request_from(row).map(|(request, _)| request))
        .collect()
}

type GrantRow = (
    uuid::Uuid,
    uuid::Uuid,
    uuid::Uuid,
    uuid::Uuid,
    uuid::Uuid,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// A page of grants: newest first, or, asked for those expiring before an instant, soonest
/// ending first. Filtered by system, it merges one walk per entitlement of the system, as
/// [`requests_page`] does.
pub(super) async fn grants_page(
    pool: &Pool,
    filter: &GrantFilter,
    limit: u32,
) -> Result<Vec<Grant>, StoreError> {
    let Some(system) = filter.system else {
        return grants_walk(pool, filter, None, limit).await;
    };
    let mut merged = Vec::new();
    for entitlement in entitlements_of(pool, system).await? {
        merged.extend(grants_walk(pool, filter, Some(entitlement), limit).await?);
    }
    if filter.expiring_before.is_some() {
        merged.sort_by_key(|g: &Grant| (g.expires_at, g.id));
    } else {
        merged.sort_by_key(|g: &Grant| std::cmp::Reverse(g.id));
    }
    merged.truncate(limit as usize);
    Ok(merged)
}

/// One index walk of grants, of one entitlement or all.
async fn grants_walk(
    pool: &Pool,
    filter: &GrantFilter,
    entitlement: Option<EntitlementId>,
    limit: u32,
) -> Result<Vec<Grant>, StoreError> {
    let mut filters = Filters::default();
    filters.and_some("status = $?", filter.status, |s| {
        Arg::Text(s.as_str().into())
    });
    filters.and_some("identity_id = $?", filter.identity, |i| {
        Arg::Uuid(i.as_uuid())
    });
    filters.and_some("entitlement_id = $?", entitlement, |e| {
        Arg::Uuid(e.as_uuid())
    });
    let order = match filter.expiring_before {
        Some(before) => {
            filters.and("expires_at < $?", Arg::Int(before.as_micros()));
            match filter.after {
                Some(GrantAfter::Expiry(at, id)) => {
                    filters.and("expires_at >= $?", Arg::Int(at.as_micros()));
                    filters.and_pair(
                        "(expires_at > $? OR id > $?)",
                        Arg::Int(at.as_micros()),
                        Arg::Uuid(id.as_uuid()),
                    );
                }
                Some(GrantAfter::Id(_)) | None => {}
            }
            "expires_at, id"
        }
        None => {
            if let Some(GrantAfter::Id(id)) = filter.after {
                filters.and("id < $?", Arg::Uuid(id.as_uuid()));
            }
            "id DESC"
        }
    };
    let (where_sql, args) = filters.into_parts();
    let select = "SELECT id, identity_id, account_id, entitlement_id, request_id, status, \
        granted_at, expires_at, last_verified_at FROM grants";
    let tail = format!("{where_sql} ORDER BY {order} LIMIT {limit}");
    let rows: Vec<GrantRow> = catalog::fetch(pool, select, &tail, args).await?;
    rows.into_iter()
        .map(
            |(id, identity, account, entitlement, request, status, granted, expires, verified)| {
                Ok(Grant {
                    id: GrantId::from_uuid(id),
                    identity: IdentityId::from_uuid(identity),
                    account: writ_domain::AccountId::from_uuid(account),
                    entitlement: EntitlementId::from_uuid(entitlement),
                    request: RequestId::from_uuid(request),
                    status: parsed("grant", &status)?,
                    granted_at: granted.map(Timestamp::from_micros),
                    expires_at: expires.map(Timestamp::from_micros),
                    last_verified_at: verified.map(Timestamp::from_micros),
                })
            },
        )
        .collect()
}

/// A page of identities, by name.
pub(super) async fn identities_page(
    pool: &Pool,
    filter: &IdentityFilter,
    limit: u32,
) -> Result<Vec<Identity>, StoreError> {
    let mut filters = Filters::default();
    filters.and_some("owner_id = $?", filter.owner, |p| Arg::Uuid(p.as_uuid()));
    filters.and_some("name > $?", filter.after.clone(), Arg::Text);
    let (where_sql, args) = filters.into_parts();
    let tail = format!("{where_sql} ORDER BY name LIMIT {limit}");
    catalog::identities(pool, &tail, args).await
}

/// A page of systems, by name.
pub(super) async fn systems_page(
    pool: &Pool,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<writ_domain::System>, StoreError> {
    let mut filters = Filters::default();
    filters.and_some("name > $?", after.map(str::to_string), Arg::Text);
    let (where_sql, args) = filters.into_parts();
    let tail = format!("{where_sql} ORDER BY name LIMIT {limit}");
    catalog::systems(pool, &tail, args).await
}

/// A page of entitlements, by id.
pub(super) async fn entitlements_page(
    pool: &Pool,
    filter: &EntitlementFilter,
    limit: u32,
) -> Result<Vec<Entitlement>, StoreError> {
    let mut filters = Filters::default();
    filters.and_some("system_id = $?", filter.system, |s| Arg::Uuid(s.as_uuid()));
    filters.and_some("id > $?", filter.after, |e| Arg::Uuid(e.as_uuid()));
    let (where_sql, args) = filters.into_parts();
    let tail = format!("{where_sql} ORDER BY id LIMIT {limit}");
    catalog::entitlements(pool, &tail, args).await
}

/// One identity by name.
pub(super) async fn identity_named(
    pool: &Pool,
    name: &str,
) -> Result<Option<Identity>, StoreError> {
    let args = vec![Arg::Text(name.into())];
    Ok(catalog::identities(pool, "WHERE name = $1", args)
        .await?
        .pop())
}

/// One identity by id.
pub(super) async fn identity(pool: &Pool, id: IdentityId) -> Result<Option<Identity>, StoreError> {
    let args = vec![Arg::Uuid(id.as_uuid())];
    Ok(catalog::identities(pool, "WHERE id = $1", args)
        .await?
        .pop())
}

/// One system by name.
pub(super) async fn system_named(
    pool: &Pool,
    name: &str,
) -> Result<Option<writ_domain::System>, StoreError> {
    let args = vec![Arg::Text(name.into())];
    Ok(catalog::systems(pool, "WHERE name = $1", args).await?.pop())
}

/// One entitlement by its system and key.
pub(super) async fn entitlement_keyed(
    pool: &Pool,
    system: SystemId,
    key: &str,
) -> Result<Option<Entitlement>, StoreError> {
    let args = vec![Arg::Uuid(system.as_uuid()), Arg::Text(key.into())];
    let found = catalog::entitlements(pool, "WHERE system_id = $1 AND key = $2", args).await?;
    Ok(found.into_iter().next())
}

/// One entitlement by id.
pub(super) async fn entitlement(
    pool: &Pool,
    id: EntitlementId,
) -> Result<Option<Entitlement>, StoreError> {
    let args = vec![Arg::Uuid(id.as_uuid())];
    Ok(catalog::entitlements(pool, "WHERE id = $1", args)
        .await?
        .pop())
}

/// One system by id.
pub(super) async fn system(
    pool: &Pool,
    id: SystemId,
) -> Result<Option<writ_domain::System>, StoreError> {
    let args = vec![Arg::Uuid(id.as_uuid())];
    Ok(catalog::systems(pool, "WHERE id = $1", args).await?.pop())
}

/// One principal by e-mail.
pub(super) async fn principal_by_email(
    pool: &Pool,
    email: &str,
) -> Result<Option<Principal>, StoreError> {
    one_principal(pool, "WHERE email = $1", email).await
}

/// One principal by the identity provider's subject.
pub(super) async fn principal_by_external_id(
    pool: &Pool,
    external_id: &str,
) -> Result<Option<Principal>, StoreError> {
    one_principal(pool, "WHERE external_id = $1", external_id).await
}

async fn one_principal(
    pool: &Pool,
    filter: &'static str,
    value: &str,
) -> Result<Option<Principal>, StoreError> {
    let args = vec![Arg::Text(value.into())];
    Ok(catalog::principals(pool, filter, args).await?.pop())
}
