//! The lookups of a request's lifecycle: submission facts, the request, its approvals. (The
//! SQLite adapter runs the same SQL through rusqlite on the calling thread: `sqlite::direct`.)

use writ_domain::{
    Approval, Entitlement, EntitlementId, IdentityId, Principal, PrincipalId, Request, RequestId,
};

use crate::error::StoreError;
use crate::{RequestDecision, StoreResult, SubmitContext};

use super::requests::{self, held_by_identity, held_by_owner, relevant_to};
use super::{Connection, PgStore, Pool, approvals, catalog};

impl PgStore {
    pub(super) async fn lookup_context(
        &self,
        requester: PrincipalId,
        identity: IdentityId,
        entitlement: Option<EntitlementId>,
    ) -> StoreResult<SubmitContext> {
        context(self.reads(), requester, identity, entitlement).await
    }

    pub(super) async fn lookup_subjects(
        &self,
        requester: PrincipalId,
        identity: IdentityId,
        entitlement: Option<EntitlementId>,
    ) -> StoreResult<SubmitContext> {
        let mut conn = self.reads().acquire().await?;
        subjects(&mut conn, requester, identity, entitlement).await
    }

    pub(super) async fn lookup_request(
        &self,
        id: RequestId,
    ) -> StoreResult<Option<(Request, RequestDecision)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM requests WHERE id = $1",
            requests::COLUMNS
        )))
        .bind(id.as_uuid())
        .fetch_optional(self.reads())
        .await?;
        row.as_ref().map(requests::request_from).transpose()
    }

    pub(super) async fn lookup_approvals(&self, request: RequestId) -> StoreResult<Vec<Approval>> {
        approvals::for_request(self.reads(), request).await
    }

    pub(super) async fn lookup_principal(&self, id: PrincipalId) -> StoreResult<Option<Principal>> {
        catalog::principal(&mut *self.reads().acquire().await?, id).await
    }
}

/// Who and what a request names (requester, identity, owner, entitlement, system), without
/// the holdings and SoD rules only a submission's decision needs: enough to decide an approval
/// or to execute.
async fn subjects(
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
        Some(id) => entitlement_by_id(conn, id).await?,
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

async fn entitlement_by_id(
    conn: &mut Connection,
    id: EntitlementId,
) -> Result<Option<Entitlement>, StoreError> {
    let row: Option<catalog::EntitlementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{} {}",
        catalog::ENTITLEMENTS,
        catalog::BY_ID
    )))
    .bind(id.as_uuid())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(catalog::entitlement_from).transpose()
}

/// Everything a submission is decided on: its subjects, and the holdings and SoD rules its
/// decision counts.
async fn context(
    pool: &Pool,
    requester: PrincipalId,
    identity: IdentityId,
    entitlement: Option<EntitlementId>,
) -> Result<SubmitContext, StoreError> {
    let mut conn = pool.acquire().await?;
    let mut context = subjects(&mut conn, requester, identity, entitlement).await?;
    context.sod_rules = catalog::all_sod_rules(&mut conn).await?;
    // Holdings matter only to the SoD rules naming the requested entitlement: reading just
    // those keeps a submission's cost independent of how much the owner's identities hold.
    let relevant = relevant_to(&context.sod_rules, entitlement);
    if let Some(identity) = &context.identity {
        if !relevant.is_empty() {
            context.held = held_by_identity(&mut conn, identity.id, &relevant).await?;
            context.owner_held = held_by_owner(&mut conn, identity.owner, &relevant).await?;
        }
        if let Some(e) = &context.entitlement {
            let open: i64 = sqlx::query_scalar(requests::OPEN_REVIEW)
                .bind(identity.id.as_uuid())
                .bind(e.id.as_uuid())
                .fetch_one(&mut *conn)
                .await?;
            context.open_break_glass_review = open > 0;
        }
    }
    Ok(context)
}
