//! `/campaigns` and `/campaign-items`: create, launch, list and show campaigns; a reviewer's
//! queue, decisions and delegations. The organiser, reviewer or delegator is always the
//! caller; the use cases check who may and record it in the audit log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use writ_api::{
    CampaignDetail, CampaignItemList, CampaignItemQuery, CampaignItemView, CampaignPage,
    CampaignQuery, CampaignView, DecideItemBody, DelegateItemBody, ErrorBody, NewCampaignBody,
};
use writ_core::campaigns::{Decide, Delegate, NewCampaign};
use writ_domain::{
    CampaignId, CampaignItemId, CampaignScope, ReviewDecision, ReviewerRule, Timestamp,
    UndecidedPolicy,
};

use super::{campaign_views as views, page, resolve};
use crate::AppState;
use crate::auth::{Reader, Writer};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// The campaigns, newest first.
#[utoipa::path(
    operation_id = "list_campaigns", get, path = "/campaigns", tag = "campaigns", params(CampaignQuery),
    responses(
        (status = 200, body = CampaignPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<CampaignQuery>,
) -> Result<Json<CampaignPage>, ApiError> {
    let limit = page::limit(query.limit)?;
    let after = resolve::optional::<CampaignId>("after", query.after.as_deref())?;
    let found = state.store.campaigns_page(after, limit + 1).await?;
    let (items, next) = page::cut(found, limit, |c| c.id.to_string());
    Ok(Json(CampaignPage {
        items: items.iter().map(views::campaign).collect(),
        next,
    }))
}

/// Creates a draft campaign as the caller (an admin or a member of the security group).
#[utoipa::path(
    operation_id = "create_campaign", post, path = "/campaigns", tag = "campaigns", request_body = NewCampaignBody,
    responses(
        (status = 201, body = CampaignView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiJson(body): ApiJson<NewCampaignBody>,
) -> Result<(StatusCode, Json<CampaignView>), ApiError> {
    let new = new_campaign(&state, caller.principal.id, body).await?;
    let campaign = state.campaigns.create(new).await?;
    Ok((StatusCode::CREATED, Json(views::campaign(&campaign))))
}

/// One campaign with its progress and a page of its items.
#[utoipa::path(
    operation_id = "show_campaign", get, path = "/campaigns/{id}", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id"), CampaignItemQuery),
    responses(
        (status = 200, body = CampaignDetail),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn show(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiPath(id): ApiPath,
    ApiQuery(query): ApiQuery<CampaignItemQuery>,
) -> Result<Json<CampaignDetail>, ApiError> {
    let id: CampaignId = id.parse().map_err(|e| ApiError::invalid("id", e))?;
    detail(&state, id, query).await.map(Json)
}

/// Launches a draft campaign as the caller: its grants in scope become items, each assigned
/// to its reviewer, who is notified.
#[utoipa::path(
    operation_id = "launch_campaign", post, path = "/campaigns/{id}/launch", tag = "campaigns",
    params(("id" = String, Path, description = "The campaign's id")),
    responses(
        (status = 200, body = CampaignDetail),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn launch(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
) -> Result<Json<CampaignDetail>, ApiError> {
    let id: CampaignId = id.parse().map_err(|e| ApiError::invalid("id", e))?;
    state.campaigns.launch(caller.principal.id, id).await?;
    detail(&state, id, CampaignItemQuery::default())
        .await
        .map(Json)
}

/// A page of the caller's pending campaign items, soonest due first.
#[utoipa::path(
    operation_id = "my_campaign_items", get, path = "/campaign-items", tag = "campaigns",
    params(CampaignItemQuery),
    responses(
        (status = 200, body = CampaignItemList),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn mine(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiQuery(query): ApiQuery<CampaignItemQuery>,
) -> Result<Json<CampaignItemList>, ApiError> {
    let limit = page::limit(query.limit)?;
    let after = resolve::optional::<CampaignItemId>("after", query.after.as_deref())?;
    let found = state
        .store
        .review_queue(caller.principal.id, after, limit + 1)
        .await?;
    let (queue, next) = page::cut(found, limit, |i| i.id.to_string());
    Ok(Json(CampaignItemList {
        items: views::items(&*state.store, &queue).await?,
        next,
    }))
}

/// Keeps or revokes an item as its reviewer (the caller); a revocation files a governed
/// `revoke` request.
#[utoipa::path(
    operation_id = "decide_campaign_item", post, path = "/campaign-items/{id}/decide", tag = "campaigns",
    request_body = DecideItemBody,
    params(("id" = String, Path, description = "The item's id")),
    responses(
        (status = 200, body = CampaignItemView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(body): ApiJson<DecideItemBody>,
) -> Result<Json<CampaignItemView>, ApiError> {
    let decided = decide_as(&state, caller.principal.id, &id, body).await?;
    one(&state, decided).await
}

/// Keeps or revokes the item `id` names as `by`, from the API's body (the portal's form
/// carries the same fields).
pub(crate) async fn decide_as(
    state: &AppState,
    by: writ_domain::PrincipalId,
    id: &str,
    body: DecideItemBody,
) -> Result<writ_domain::CampaignItem, ApiError> {
    let item: CampaignItemId = id.parse().map_err(|e| ApiError::invalid("id", e))?;
    let decision: ReviewDecision = body
        .decision
        .parse()
        .map_err(|e| ApiError::invalid("decision", e))?;
    Ok(state
        .campaigns
        .decide(Decide {
            by,
            item,
            decision,
            reason: body.reason,
        })
        .await?)
}

/// Hands an item to another eligible principal as its reviewer (the caller).
#[utoipa::path(
    operation_id = "delegate_campaign_item", post, path = "/campaign-items/{id}/delegate", tag = "campaigns",
    request_body = DelegateItemBody,
    params(("id" = String, Path, description = "The item's id")),
    responses(
        (status = 200, body = CampaignItemView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn delegate(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(body): ApiJson<DelegateItemBody>,
) -> Result<Json<CampaignItemView>, ApiError> {
    let item: CampaignItemId = id.parse().map_err(|e| ApiError::invalid("id", e))?;
    let to = resolve::principal(&*state.store, &body.to)
        .await?
        .ok_or_else(|| ApiError::invalid("to", format!("`{}` names nobody", body.to)))?;
    let delegated = state
        .campaigns
        .delegate(Delegate {
            by: caller.principal.id,
            item,
            to: to.id,
            reason: body.reason,
        })
        .await?;
    one(&state, delegated).await
}

async fn one(
    state: &AppState,
    item: writ_domain::CampaignItem,
) -> Result<Json<CampaignItemView>, ApiError> {
    let mut views = views::items(&*state.store, std::slice::from_ref(&item)).await?;
    views
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("campaign item `{}`", item.id)))
}

/// A campaign with its progress and the page of items `query` asks for, or 404.
pub(crate) async fn detail(
    state: &AppState,
    id: CampaignId,
    query: CampaignItemQuery,
) -> Result<CampaignDetail, ApiError> {
    let limit = page::limit(query.limit)?;
    let after = resolve::optional::<CampaignItemId>("after", query.after.as_deref())?;
    let campaign = state
        .store
        .campaign(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("campaign `{id}`")))?;
    let found = state.store.campaign_items(id, after, limit + 1).await?;
    let (items, next) = page::cut(found, limit, |i| i.id.to_string());
    Ok(CampaignDetail {
        campaign: views::campaign(&campaign),
        progress: views::progress(&state.store.campaign_progress(id).await?),
        items: views::items(&*state.store, &items).await?,
        next,
    })
}

/// The use case's input from a request body, every value parsed and every name resolved.
async fn new_campaign(
    state: &AppState,
    created_by: writ_domain::PrincipalId,
    body: NewCampaignBody,
) -> Result<NewCampaign, ApiError> {
    let store = &*state.store;
    let system = resolve::filter("system", body.system.as_deref(), |key| async move {
        resolve::system(store, &key).await
    })
    .await?;
    Ok(NewCampaign {
        created_by,
        name: body.name,
        scope: CampaignScope {
            system: system.map(|s| s.id),
            environment: resolve::optional("environment", body.environment.as_deref())?,
            entitlement: None,
            min_risk: resolve::optional("min_risk", body.min_risk.as_deref())?,
            identity_kind: resolve::optional("identity_kind", body.identity_kind.as_deref())?,
            older_than_days: body.older_than_days,
        },
        reviewers: resolve::optional::<ReviewerRule>("reviewers", body.reviewers.as_deref())?
            .unwrap_or(ReviewerRule::IdentityOwner),
        undecided: resolve::optional::<UndecidedPolicy>("undecided", body.undecided.as_deref())?
            .unwrap_or(UndecidedPolicy::Revoke),
        deadline: Timestamp::parse_rfc3339(&body.deadline)
            .map_err(|e| ApiError::invalid("deadline", e))?,
        every_days: body.every_days,
    })
}
