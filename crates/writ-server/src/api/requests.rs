//! `/requests`: submit, list, show, explain, approve, deny, cancel. The requester, approver
//! or canceller is always the caller; the use cases record it in the audit log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use writ_api::{
    CancelBody, DecideBody, DecidedView, ErrorBody, ExplanationView, NewRequestBody, RequestDetail,
    RequestPage, RequestQuery, RequestView, SubmittedView,
};
use writ_core::requests::{Cancel, Decide, Decided, NewRequest};
use writ_core::tokens::Caller;
use writ_domain::{
    ApprovalDecision, PlanHash, RequestKind, RequestNumber, RequestStatus, Timestamp, Ttl,
};
use writ_store::RequestFilter;

use super::{page, resolve, views};
use crate::AppState;
use crate::auth::{Reader, Writer};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// The requests, newest first.
#[utoipa::path(
    operation_id = "list_requests", get, path = "/requests", tag = "requests", params(RequestQuery),
    responses(
        (status = 200, body = RequestPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<RequestQuery>,
) -> Result<Json<RequestPage>, ApiError> {
    let limit = page::limit(query.limit)?;
    let store = &*state.store;
    let identity = resolve::filter("identity", query.identity.as_deref(), |key| async move {
        resolve::identity(store, &key).await
    })
    .await?;
    let requester = resolve::filter("requester", query.requester.as_deref(), |key| async move {
        resolve::principal(store, &key).await
    })
    .await?;
    let system = resolve::filter("system", query.system.as_deref(), |key| async move {
        resolve::system(store, &key).await
    })
    .await?;
    let filter = RequestFilter {
        status: resolve::optional::<RequestStatus>("status", query.status.as_deref())?,
        kind: resolve::optional::<RequestKind>("kind", query.kind.as_deref())?,
        identity: identity.map(|i| i.id),
        requester: requester.map(|p| p.id),
        system: system.map(|s| s.id),
        entitlement: None,
        after: resolve::optional::<RequestNumber>("after", query.after.as_deref())?,
    };
    let found = store.requests_page(filter, limit + 1).await?;
    let (items, next) = page::cut(found, limit, |r| r.number.to_string());
    Ok(Json(RequestPage {
        items: items.iter().map(views::request).collect(),
        next,
    }))
}

/// Submits a request as the caller: policy decides at once, and the request is stored either
/// way (`rejected` with its reasons, `pending_approval`, or pre-approved `approved`).
#[utoipa::path(
    operation_id = "create_request", post, path = "/requests", tag = "requests", request_body = NewRequestBody,
    responses(
        (status = 201, body = SubmittedView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiJson(body): ApiJson<NewRequestBody>,
) -> Result<(StatusCode, Json<SubmittedView>), ApiError> {
    let new = new_request(&state, &caller, body).await?;
    if new.kind == RequestKind::Rotate {
        // A rotation carries the current credential, sealed with the request; it is not a
        // plain request body.
        return Err(ApiError::invalid(
            "kind",
            "rotate requests carry the current credential: file them with `writ credential rotate`",
        ));
    }
    let submitted = state.requests.submit(new).await?;
    Ok((
        StatusCode::CREATED,
        Json(SubmittedView {
            request: views::request(&submitted.request),
            explanation: views::explanation(&submitted.explanation),
        }),
    ))
}

/// What policy would decide of a request by the caller, without storing anything.
#[utoipa::path(
    operation_id = "explain_request", post, path = "/requests/explain", tag = "requests", request_body = NewRequestBody,
    responses(
        (status = 200, body = ExplanationView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn explain(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiJson(body): ApiJson<NewRequestBody>,
) -> Result<Json<ExplanationView>, ApiError> {
    let new = new_request(&state, &caller, body).await?;
    let explanation = state.requests.explain(&new).await?;
    Ok(Json(views::explanation(&explanation)))
}

/// One request with its decision and approvals.
#[utoipa::path(
    operation_id = "show_request", get, path = "/requests/{number}", tag = "requests",
    params(("number" = String, Path, description = "The request's number, `REQ-…`")),
    responses(
        (status = 200, body = RequestDetail),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiPath(number): ApiPath,
) -> Result<Json<RequestDetail>, ApiError> {
    let (request, decision) = resolve::request(&*state.store, "number", &number).await?;
    let approvals = state.store.approvals_of(request.id).await?;
    Ok(Json(RequestDetail {
        request: views::request(&request),
        decision: decision.record,
        approvals: approvals.iter().map(views::approval).collect(),
    }))
}

/// Approves the request's current stage as the caller, if policy lets them.
#[utoipa::path(
    operation_id = "approve_request", post, path = "/requests/{number}/approve", tag = "requests", request_body = DecideBody,
    params(("number" = String, Path, description = "The request's number, `REQ-…`")),
    responses(
        (status = 200, body = DecidedView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn approve(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(number): ApiPath,
    ApiJson(body): ApiJson<DecideBody>,
) -> Result<Json<DecidedView>, ApiError> {
    decide(&state, &caller, &number, ApprovalDecision::Approve, body).await
}

/// Denies the request as the caller (a reason is required), if policy lets them.
#[utoipa::path(
    operation_id = "deny_request", post, path = "/requests/{number}/deny", tag = "requests", request_body = DecideBody,
    params(("number" = String, Path, description = "The request's number, `REQ-…`")),
    responses(
        (status = 200, body = DecidedView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn deny(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(number): ApiPath,
    ApiJson(body): ApiJson<DecideBody>,
) -> Result<Json<DecidedView>, ApiError> {
    decide(&state, &caller, &number, ApprovalDecision::Deny, body).await
}

/// Cancels a request nothing has started on: its requester, or an admin with an admin token.
#[utoipa::path(
    operation_id = "cancel_request", post, path = "/requests/{number}/cancel", tag = "requests", request_body = CancelBody,
    params(("number" = String, Path, description = "The request's number, `REQ-…`")),
    responses(
        (status = 200, body = RequestView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(number): ApiPath,
    ApiJson(body): ApiJson<CancelBody>,
) -> Result<Json<RequestView>, ApiError> {
    let (request, _) = resolve::request(&*state.store, "number", &number).await?;
    if request.requester != caller.principal.id && !caller.acts_as_admin() {
        return Err(ApiError::Forbidden(format!(
            "only the requester of {}, or an admin with an `admin` token, may cancel it",
            request.number
        )));
    }
    state
        .requests
        .cancel(Cancel {
            by: caller.principal.id,
            request: request.id,
            reason: body.reason,
        })
        .await?;
    reread(&state, request.number).await.map(Json)
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    number: &str,
    decision: ApprovalDecision,
    body: DecideBody,
) -> Result<Json<DecidedView>, ApiError> {
    let plan_hash: PlanHash = body
        .plan_hash
        .parse()
        .map_err(|e| ApiError::invalid("plan_hash", e))?;
    let (request, _) = resolve::request(&*state.store, "number", number).await?;
    let decided = state
        .requests
        .decide(Decide {
            approver: caller.principal.id,
            request: request.id,
            decision,
            reason: body.reason,
            plan_hash,
        })
        .await?;
    let (outcome, next_stage) = match decided {
        Decided::NextStage(stage) => ("next_stage", Some(stage.to_string())),
        Decided::Approved => ("approved", None),
        Decided::Denied => ("denied", None),
    };
    Ok(Json(DecidedView {
        outcome: outcome.to_string(),
        next_stage,
        request: reread(state, request.number).await?,
    }))
}

/// The request as it stands now.
async fn reread(state: &AppState, number: RequestNumber) -> Result<RequestView, ApiError> {
    let (request, _) = state
        .store
        .request_by_number(number)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("request `{number}`")))?;
    Ok(views::request(&request))
}

/// A request body, its names resolved and its values parsed; each mistake names its field.
async fn new_request(
    state: &AppState,
    caller: &Caller,
    body: NewRequestBody,
) -> Result<NewRequest, ApiError> {
    let store = &*state.store;
    let kind = match body.kind.as_deref() {
        None => RequestKind::Grant,
        Some(kind) => kind.parse().map_err(|e| ApiError::invalid("kind", e))?,
    };
    let identity = resolve::identity(store, &body.identity)
        .await?
        .ok_or_else(|| ApiError::invalid("identity", format!("no identity `{}`", body.identity)))?;
    let entitlement = match body.entitlement.as_deref() {
        None => None,
        Some(key) => Some(
            resolve::entitlement(store, "entitlement", key)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid("entitlement", format!("no entitlement `{key}`"))
                })?,
        ),
    };
    let ttl = body
        .ttl
        .as_deref()
        .map(Ttl::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("ttl", e))?;
    let end = body
        .end
        .as_deref()
        .map(Timestamp::parse_rfc3339)
        .transpose()
        .map_err(|e| ApiError::invalid("end", e))?;
    let new_owner = match body.new_owner.as_deref() {
        None => None,
        Some(key) => Some(
            resolve::principal(store, key)
                .await?
                .ok_or_else(|| ApiError::invalid("new_owner", format!("no principal `{key}`")))?
                .id,
        ),
    };
    Ok(NewRequest {
        requester: caller.principal.id,
        kind,
        identity: identity.id,
        entitlement: entitlement.map(|e| e.id),
        justification: body.justification,
        ttl,
        end,
        external_ref: None,
        new_owner,
    })
}
