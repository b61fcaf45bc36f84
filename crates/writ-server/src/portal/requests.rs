//! My requests, and one request with the timeline of every audit event about it and the
//! forms to approve, deny (bound to the plan hash shown) or cancel it.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use writ_core::requests::{Cancel, Decide, Decided};
use writ_domain::{ApprovalDecision, PlanHash, Request, RequestStatus};
use writ_store::RequestFilter;

use super::names::{Names, Wanted};
use super::page::{Chrome, PortalError, forged, render, see_other};
use super::session::Session;
use crate::AppState;
use crate::api::resolve;
use crate::error::ApiError;

/// One request in a list.
pub(crate) struct Row {
    pub number: String,
    pub kind: String,
    pub status: String,
    pub identity: String,
    pub entitlement: String,
    pub requester: String,
    pub created_at: String,
}

impl Row {
    /// The row of `r`.
    pub fn of(r: &Request, names: &Names) -> Self {
        Self {
            number: r.number.to_string(),
            kind: r.kind.to_string(),
            status: r.status.to_string(),
            identity: names.identity(r.identity),
            entitlement: names.entitlement(r.entitlement),
            requester: names.principal(r.requester),
            created_at: r.created_at.to_string(),
        }
    }
}

/// A list of requests.
#[derive(Template)]
#[template(path = "requests.html")]
struct ListPage {
    chrome: Chrome,
    title: &'static str,
    empty: &'static str,
    rows: Vec<Row>,
}

/// A notice after a redirect.
#[derive(Debug, Deserialize)]
pub(crate) struct Notice {
    /// The notice.
    pub notice: Option<String>,
}

/// The signed-in person's requests, newest first.
#[tracing::instrument(skip_all)]
pub(crate) async fn mine(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Notice>,
) -> Result<Response, PortalError> {
    let found = state
        .store
        .requests_page(
            RequestFilter {
                requester: Some(session.caller.principal.id),
                ..RequestFilter::default()
            },
            200,
        )
        .await?;
    let mut wanted = Wanted::default();
    for r in &found {
        wanted.request(r);
    }
    let names = Names::lookup(&*state.store, wanted).await?;
    Ok(render(&ListPage {
        chrome: Chrome::of(&session, "requests").with_notice(q.notice),
        title: "My requests",
        empty: "You have not asked for anything yet. Start from the catalog.",
        rows: found.iter().map(|r| Row::of(r, &names)).collect(),
    }))
}

/// One event of a request's timeline.
struct Event {
    seq: u64,
    at: String,
    actor: String,
    action: String,
    data: String,
}

/// One approval.
struct ApprovalRow {
    stage: String,
    approver: String,
    decision: String,
    reason: String,
    at: String,
}

/// One request.
#[derive(Template)]
#[template(path = "request.html")]
struct ShowPage {
    chrome: Chrome,
    row: Row,
    justification: String,
    ttl: String,
    category: String,
    plan_hash: String,
    reasons: Vec<String>,
    approvals: Vec<ApprovalRow>,
    events: Vec<Event>,
    can_decide: bool,
    can_cancel: bool,
    can_export: bool,
}

/// A request, its decision, approvals and the timeline of its audit events.
#[tracing::instrument(skip_all)]
pub(crate) async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<String>,
    Query(q): Query<Notice>,
) -> Result<Response, PortalError> {
    let (request, decision) = resolve::request(&*state.store, "number", &number).await?;
    let approvals = state.store.approvals_of(request.id).await?;
    let events = writ_core::evidence::request_events(&*state.store, request.id).await?;
    let mut wanted = Wanted::default();
    wanted.request(&request);
    for a in &approvals {
        wanted.principal(a.approver);
    }
    for e in &events {
        wanted.actor(&e.actor);
    }
    let names = Names::lookup(&*state.store, wanted).await?;
    let pending = request.status == RequestStatus::PendingApproval;
    let me = session.caller.principal.id;
    let writes = session.caller.may_write();
    let can_export = session.caller.may_read_audit();
    Ok(render(&ShowPage {
        can_export,
        chrome: Chrome::of(&session, "requests").with_notice(q.notice),
        justification: request.justification.clone(),
        ttl: request
            .requested_ttl
            .map(|t| t.to_string())
            .unwrap_or_else(|| "—".into()),
        category: request.category.to_string(),
        plan_hash: request.plan_hash.map(|h| h.to_string()).unwrap_or_default(),
        reasons: decision.record["reasons"]
            .as_array()
            .map(|reasons| {
                reasons
                    .iter()
                    .filter_map(|r| r["message"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        approvals: approvals
            .iter()
            .map(|a| ApprovalRow {
                stage: a.stage.to_string(),
                approver: names.principal(a.approver),
                decision: a.decision.to_string(),
                reason: a.reason.clone().unwrap_or_default(),
                at: a.at.to_string(),
            })
            .collect(),
        events: events
            .iter()
            .map(|e| Event {
                seq: e.seq,
                at: e.at.to_string(),
                actor: names.actor(&e.actor),
                action: e.action.clone(),
                data: e.data.clone(),
            })
            .collect(),
        can_decide: pending && writes && request.requester != me,
        can_cancel: pending && writes && request.requester == me,
        row: Row::of(&request, &names),
    }))
}

/// An approver's decision.
#[derive(Debug, Deserialize)]
pub(crate) struct DecideForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
    plan_hash: String,
}

/// Approves or denies the request's current stage as the signed-in person.
#[tracing::instrument(skip_all)]
pub(crate) async fn decide(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<String>,
    Form(form): Form<DecideForm>,
) -> Result<Response, PortalError> {
    if !session.csrf_ok(&form.csrf) {
        return Err(forged());
    }
    let decision = match form.decision.as_str() {
        "approve" => ApprovalDecision::Approve,
        "deny" => ApprovalDecision::Deny,
        other => {
            return Err(PortalError(ApiError::invalid(
                "decision",
                format!("`{other}` is neither `approve` nor `deny`"),
            )));
        }
    };
    let plan_hash: PlanHash = form
        .plan_hash
        .parse()
        .map_err(|e| ApiError::invalid("plan_hash", e))?;
    let (request, _) = resolve::request(&*state.store, "number", &number).await?;
    let reason = Some(form.reason.trim().to_string()).filter(|r| !r.is_empty());
    let decided = state
        .requests
        .decide(Decide {
            approver: session.caller.principal.id,
            request: request.id,
            decision,
            reason,
            plan_hash,
        })
        .await?;
    let notice = match decided {
        Decided::NextStage(stage) => format!("approved; next stage: {stage}"),
        Decided::Approved => "approved: it will now be executed and verified".into(),
        Decided::Denied => "denied".into(),
    };
    Ok(see_other(
        &format!("/portal/requests/{}", request.number),
        &notice,
    ))
}

/// A cancellation.
#[derive(Debug, Deserialize)]
pub(crate) struct CancelForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Cancels the signed-in person's own pending request.
#[tracing::instrument(skip_all)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<String>,
    Form(form): Form<CancelForm>,
) -> Result<Response, PortalError> {
    if !session.csrf_ok(&form.csrf) {
        return Err(forged());
    }
    let (request, _) = resolve::request(&*state.store, "number", &number).await?;
    if request.requester != session.caller.principal.id {
        return Err(PortalError(ApiError::Forbidden(format!(
            "only the requester of {} may cancel it here",
            request.number
        ))));
    }
    state
        .requests
        .cancel(Cancel {
            by: session.caller.principal.id,
            request: request.id,
            reason: Some(form.reason.trim().to_string()).filter(|r| !r.is_empty()),
        })
        .await?;
    Ok(see_other(
        &format!("/portal/requests/{}", request.number),
        "cancelled",
    ))
}

/// The request's evidence bundle as a download (administrators and auditors): the same bytes
/// as `writ evidence export`, verifiable offline with `writ evidence verify`.
#[tracing::instrument(skip_all)]
pub(crate) async fn evidence(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<String>,
) -> Result<Response, PortalError> {
    if !session.caller.may_read_audit() {
        return Err(
            ApiError::Forbidden("evidence is for administrators and auditors".into()).into(),
        );
    }
    let (request, _) = resolve::request(&*state.store, "number", &number).await?;
    let bundle = state.bundles.export(request.number).await?;
    Ok(crate::api::evidence::download(request.number, &bundle))
}
