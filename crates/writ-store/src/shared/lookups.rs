//! The lookups of a request's lifecycle, compiled once per backend (see the crate docs):
//! submission facts and the request. Each runs on one read connection of the
//! adapter's (`read_conn`; on SQLite inside one read transaction, so one snapshot).

use writ_domain::{EntitlementId, IdentityId, PrincipalId, Request, RequestId};

use crate::error::StoreError;
use crate::{RequestDecision, SubmitContext};

use super::requests::{self, held_by_identity, held_by_owner, relevant_to};
use super::{Connection, catalog, sql};

/// Who and what a request names (requester, identity, owner, entitlement, system), without
/// the holdings and SoD rules only a submission's decision needs: enough to decide an approval
/// or to execute.
pub(super) async fn subjects(
    conn: &mut Connection,
    requester: PrincipalId,
    identity: IdentityId,
    entitlement: Option<EntitlementId>,
) -> Result<SubmitContext, StoreError> {
    let requester = catalog::principal(conn, requester).await?;
    let identity = catalog::identity(conn, identity).await?;
    let owner = match &identity {
        Some(identity) => catalog::principal(conn, identity.owner).await?,
        None => None,
    };
    let entitlement = match entitlement {
        Some(id) => catalog::entitlement(conn, id).await?,
        None => None,
    };
    let system = match &entitlement {
        Some(e) => catalog::system(conn, e.system).await?,
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
/// decision counts.
pub(super) async fn context(
    conn: &mut Connection,
    requester: PrincipalId,
    identity: IdentityId,
    entitlement: Option<EntitlementId>,
) -> Result<SubmitContext, StoreError> {
    let mut context = subjects(conn, requester, identity, entitlement).await?;
    context.sod_rules = catalog::all_sod_rules(conn).await?;
    // Holdings matter only to the SoD rules naming the requested entitlement: reading just
    // those keeps a submission's cost independent of how much the owner's identities hold.
    let relevant = relevant_to(&context.sod_rules, entitlement);
    if let Some(identity) = &context.identity {
        if !relevant.is_empty() {
            context.held = held_by_identity(conn, identity.id, &relevant).await?;
            context.owner_held = held_by_owner(conn, identity.owner, &relevant).await?;
        }
        if let Some(e) = &context.entitlement {
            let open: i64 = sql::query_scalar(requests::OPEN_REVIEW)
                .bind(identity.id.as_uuid())
                .bind(e.id.as_uuid())
                .fetch_one(&mut *conn)
                .await?;
            context.open_break_glass_review = open > 0;
        }
    }
    Ok(context)
}

/// One request with the decision it was submitted under.
pub(super) async fn request(
    conn: &mut Connection,
    id: RequestId,
) -> Result<Option<(Request, RequestDecision)>, StoreError> {
    let row = sql::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM requests WHERE id = $1",
        requests::COLUMNS
    )))
    .bind(id.as_uuid())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(requests::request_from).transpose()
}
