//! The catalog and the request form: search what can be requested, fill in identity, TTL and
//! justification, see what policy would decide and who must approve, then submit.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::Response;
use serde::Deserialize;
use writ_core::requests::NewRequest;
use writ_domain::{ApproverRule, RequestKind, Ttl};

use super::names::Names;
use super::page::{Chrome, PortalError, forged, render, see_other};
use super::session::Session;
use crate::AppState;
use crate::api::resolve;
use crate::error::ApiError;

/// One catalog row.
struct Item {
    key: String,
    name: String,
    description: String,
    risk: String,
    default_ttl: String,
    max_ttl: String,
    owner: String,
}

/// The catalog page.
#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    chrome: Chrome,
    q: String,
    items: Vec<Item>,
}

/// The search box.
#[derive(Debug, Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    q: String,
    notice: Option<String>,
}

/// The requestable entitlements whose key, name or description contains the search text.
#[tracing::instrument(skip_all)]
pub(crate) async fn search(
    State(state): State<AppState>,
    session: Session,
    Query(search): Query<Search>,
) -> Result<Response, PortalError> {
    let catalog = state.store.catalog().await?;
    let names = Names::of(&catalog);
    let needle = search.q.trim().to_lowercase();
    let items = catalog
        .entitlements
        .iter()
        .filter(|e| e.requestable)
        .map(|e| Item {
            key: names.entitlement(Some(e.id)),
            name: e.name.to_string(),
            description: e.description.clone(),
            risk: e.risk.to_string(),
            default_ttl: e.ttl.default_ttl().to_string(),
            max_ttl: e.ttl.max_ttl().to_string(),
            owner: names.principal(e.owner),
        })
        .filter(|i| {
            needle.is_empty()
                || [&i.key, &i.name, &i.description]
                    .iter()
                    .any(|t| t.to_lowercase().contains(&needle))
        })
        .collect();
    Ok(render(&CatalogPage {
        chrome: Chrome::of(&session, "catalog").with_notice(search.notice),
        q: search.q,
        items,
    }))
}

/// The request form's fields.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RequestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    identity: String,
    #[serde(default)]
    entitlement: String,
    #[serde(default)]
    ttl: String,
    #[serde(default)]
    justification: String,
}

/// What policy says of the form as filled in.
struct Verdict {
    allowed: bool,
    category: String,
    reasons: Vec<String>,
    stages: Vec<String>,
}

/// The request form.
#[derive(Template)]
#[template(path = "request_form.html")]
struct FormPage {
    chrome: Chrome,
    identities: Vec<String>,
    form: RequestForm,
    verdict: Option<Verdict>,
    problem: Option<String>,
}

/// The empty form (the entitlement pre-filled from the catalog).
pub(crate) async fn form(
    State(state): State<AppState>,
    session: Session,
    Query(form): Query<RequestForm>,
) -> Result<Response, PortalError> {
    page(&state, &session, form, None, None).await
}

/// The form with policy's verdict and the approvers it needs; nothing is stored.
#[tracing::instrument(skip_all)]
pub(crate) async fn check(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<RequestForm>,
) -> Result<Response, PortalError> {
    if !session.csrf_ok(&form.csrf) {
        return Err(forged());
    }
    let (verdict, problem) = match new_request(&state, &session, &form).await {
        Ok(new) => match state.requests.explain(&new).await {
            Ok(e) => (
                Some(Verdict {
                    allowed: e.decision.allowed,
                    category: e.category.to_string(),
                    reasons: e
                        .decision
                        .reasons
                        .iter()
                        .map(|r| r.message.clone())
                        .collect(),
                    stages: e
                        .stages
                        .iter()
                        .map(|s| stage(s.name.as_ref(), &s.approvers))
                        .collect(),
                }),
                None,
            ),
            Err(err) => (None, Some(PortalError::from(err).0.public().1)),
        },
        Err(err) => (None, Some(err.public().1)),
    };
    page(&state, &session, form, verdict, problem).await
}

/// Submits the request as the signed-in person and shows it.
#[tracing::instrument(skip_all)]
pub(crate) async fn submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<RequestForm>,
) -> Result<Response, PortalError> {
    if !session.csrf_ok(&form.csrf) {
        return Err(forged());
    }
    if !session.caller.may_write() {
        return Err(PortalError(ApiError::Forbidden(
            "auditors read everything and change nothing".into(),
        )));
    }
    let new = match new_request(&state, &session, &form).await {
        Ok(new) => new,
        Err(err) => {
            let problem = err.public().1;
            return page(&state, &session, form, None, Some(problem)).await;
        }
    };
    let submitted = state.requests.submit(new).await?;
    let number = submitted.request.number;
    Ok(see_other(
        &format!("/portal/requests/{number}"),
        &format!("{number} submitted: {}", submitted.request.status),
    ))
}

async fn page(
    state: &AppState,
    session: &Session,
    form: RequestForm,
    verdict: Option<Verdict>,
    problem: Option<String>,
) -> Result<Response, PortalError> {
    let catalog = state.store.catalog().await?;
    let identities = catalog
        .identities
        .iter()
        .map(|i| i.name.to_string())
        .collect();
    Ok(render(&FormPage {
        chrome: Chrome::of(session, "catalog"),
        identities,
        form,
        verdict,
        problem,
    }))
}

/// A stage and who approves it, in words.
fn stage(name: &str, rule: &ApproverRule) -> String {
    let who = match rule {
        ApproverRule::IdentityOwner => "the identity's owner".to_string(),
        ApproverRule::SystemOwner => "the system's owner".to_string(),
        ApproverRule::EntitlementOwner => "the entitlement's owner".to_string(),
        ApproverRule::Group(group) => format!("a member of the {group} group"),
        ApproverRule::Principal(id) => format!("principal {id}"),
    };
    format!("{name}: {who}")
}

/// The form as a grant request by the signed-in person; each mistake names its field.
async fn new_request(
    state: &AppState,
    session: &Session,
    form: &RequestForm,
) -> Result<NewRequest, ApiError> {
    let store = &*state.store;
    let identity = resolve::identity(store, form.identity.trim())
        .await?
        .ok_or_else(|| ApiError::invalid("identity", format!("no identity `{}`", form.identity)))?;
    let entitlement = resolve::entitlement(store, "entitlement", form.entitlement.trim())
        .await?
        .ok_or_else(|| {
            ApiError::invalid(
                "entitlement",
                format!("no entitlement `{}`", form.entitlement),
            )
        })?;
    let ttl = Some(form.ttl.trim())
        .filter(|t| !t.is_empty())
        .map(Ttl::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("ttl", e))?;
    Ok(NewRequest {
        requester: session.caller.principal.id,
        kind: RequestKind::Grant,
        identity: identity.id,
        entitlement: Some(entitlement.id),
        justification: form.justification.trim().to_string(),
        ttl,
        end: None,
        external_ref: None,
        new_owner: None,
    })
}
