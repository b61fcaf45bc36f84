//! The lifecycle's lookups, with the shared queries' SQL and row conversions.

use rusqlite::Connection;
use writ_domain::{
    Approval, EntitlementId, IdentityId, Principal, PrincipalId, Request, RequestId,
};

use super::rows::{Tuple, fetch, fetch_optional, fetch_with};
use crate::error::StoreError;
use crate::{RequestDecision, SubmitContext, rows};

use super::super::{approvals as shared_approvals, catalog, requests};

/// One principal by id.
pub(in crate::sqlite) fn principal(
    conn: &Connection,
    id: PrincipalId,
) -> Result<Option<Principal>, StoreError> {
    by_id(
        conn,
        catalog::PRINCIPALS,
        id.as_uuid(),
        catalog::principal_from,
    )
}

/// The row `{select} WHERE id = $1` for `id`, converted by `from`.
fn by_id<R: Tuple, T>(
    conn: &Connection,
    select: &str,
    id: uuid::Uuid,
    from: fn(R) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let sql = format!("{select} {}", catalog::BY_ID);
    fetch_optional(conn, &sql, &[&id])?.map(from).transpose()
}

/// Who and what a request names: requester, identity, its owner, entitlement, system.
pub(in crate::sqlite) fn subjects(
    conn: &Connection,
    requester: PrincipalId,
    identity: IdentityId,
    entitlement: Option<EntitlementId>,
) -> Result<SubmitContext, StoreError> {
    let requester = principal(conn, requester)?;
    let identity = by_id(
        conn,
        catalog::IDENTITIES,
        identity.as_uuid(),
        catalog::identity_from,
    )?;
    let owner = match &identity {
        Some(identity) => principal(conn, identity.owner)?,
        None => None,
    };
    let entitlement = match entitlement {
        Some(id) => by_id(
            conn,
            catalog::ENTITLEMENTS,
            id.as_uuid(),
            catalog::entitlement_from,
        )?,
        None => None,
    };
    let system = match &entitlement {
        Some(e) => by_id(
            conn,
            catalog::SYSTEMS,
            e.system.as_uuid(),
            catalog::system_from,
        )?,
        None => None,
    };
    Ok(SubmitContext {
        requester,
        identity,
        owner,
        entitlement,
        system,
        ..SubmitContext::default()
    })
}

/// Everything a submission is decided on: its subjects, and the holdings and SoD rules its
/// decision counts (as `requests::context` reads them).
pub(in crate::sqlite) fn context(
    conn: &Connection,
    requester: PrincipalId,
    identity: IdentityId,
    entitlement: Option<EntitlementId>,
) -> Result<SubmitContext, StoreError> {
    let mut context = subjects(conn, requester, identity, entitlement)?;
    let sql = format!("{} ORDER BY name", catalog::SOD_RULES);
    context.sod_rules = fetch(conn, &sql, &[])?
        .into_iter()
        .map(catalog::sod_rule_from)
        .collect::<Result<_, _>>()?;
    let relevant = requests::relevant_to(&context.sod_rules, entitlement);
    if let Some(identity) = &context.identity {
        if !relevant.is_empty() {
            context.held = held(
                conn,
                &requests::held_by_identity_sql(relevant.len()),
                identity.id.as_uuid(),
                &relevant,
            )?;
            context.owner_held = held(
                conn,
                &requests::held_by_owner_sql(relevant.len()),
                identity.owner.as_uuid(),
                &relevant,
            )?;
        }
        if let Some(e) = &context.entitlement {
            let (open,): (i64,) = fetch_optional(
                conn,
                requests::OPEN_REVIEW,
                &[&identity.id.as_uuid(), &e.id.as_uuid()],
            )?
            .unwrap_or((0,));
            context.open_break_glass_review = open > 0;
        }
    }
    Ok(context)
}

/// Which of `relevant` (`$2`, …) `holder` (`$1`) holds, by the query `sql`.
fn held(
    conn: &Connection,
    sql: &str,
    holder: uuid::Uuid,
    relevant: &[EntitlementId],
) -> Result<Vec<EntitlementId>, StoreError> {
    let ids: Vec<uuid::Uuid> = relevant.iter().map(|e| e.as_uuid()).collect();
    let mut args: Vec<&dyn rusqlite::ToSql> = vec![&holder];
    args.extend(ids.iter().map(|id| id as &dyn rusqlite::ToSql));
    let held: Vec<(uuid::Uuid,)> = fetch(conn, sql, &args)?;
    Ok(held
        .into_iter()
        .map(|(id,)| EntitlementId::from_uuid(id))
        .collect())
}

/// One request with the decision it was submitted under.
pub(in crate::sqlite) fn request(
    conn: &Connection,
    id: RequestId,
) -> Result<Option<(Request, RequestDecision)>, StoreError> {
    let sql = format!("SELECT {} FROM requests WHERE id = $1", requests::COLUMNS);
    fetch_with(conn, &sql, &[&id.as_uuid()], |row| {
        rows::request_from(rows::request_columns!(row, get))
    })
    .map(|found| found.into_iter().next())
}

/// Every decision recorded on a request, in stage order then time.
pub(in crate::sqlite) fn approvals(
    conn: &Connection,
    request: RequestId,
) -> Result<Vec<Approval>, StoreError> {
    fetch(conn, shared_approvals::FOR_REQUEST, &[&request.as_uuid()])?
        .into_iter()
        .map(|row| shared_approvals::approval_from(request, row))
        .collect()
}
