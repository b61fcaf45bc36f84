//! Evidence for auditors: a request's evidence bundle, exactly the bytes `writ evidence
//! export` writes (so a download verifies offline with `writ evidence verify`), and the signed
//! checkpoints of the audit log. Administrators and auditors only, like the audit log.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use writ_api::{CheckpointList, CheckpointView, ErrorBody};

use super::resolve;
use crate::AppState;
use crate::auth::Reader;
use crate::error::ApiError;
use crate::extract::ApiPath;

/// Refuses anyone but administrators and auditors what they alone may read: `what`, as in
/// "`what` is for administrators and auditors".
pub(crate) fn auditors_only(
    caller: &writ_core::tokens::Caller,
    what: &str,
) -> Result<(), ApiError> {
    if caller.may_read_audit() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "{what} is for administrators and auditors"
        )))
    }
}

/// A request's evidence bundle: its events and its grants' events, each with an inclusion
/// proof in a signed checkpoint, and that checkpoint. Verify it offline with
/// `writ evidence verify FILE --public-key KEY`.
#[utoipa::path(
    operation_id = "export_evidence", get, path = "/requests/{number}/evidence", tag = "evidence",
    params(("number" = String, Path, description = "The request's number, `REQ-…`")),
    responses(
        (status = 200, description = "The evidence bundle (`writ-evidence-bundle/1`)", content_type = "application/json", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn bundle(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiPath(number): ApiPath,
) -> Result<Response, ApiError> {
    auditors_only(&caller, "evidence")?;
    let (request, _) = resolve::request(&*state.store, "number", &number).await?;
    let bundle = state.bundles.export(request.number).await?;
    Ok(download(request.number, &bundle))
}

/// A bundle as a file download: exactly the bytes `writ evidence verify` checks.
pub(crate) fn download(
    number: writ_domain::RequestNumber,
    bundle: &writ_domain::bundle::EvidenceBundle,
) -> Response {
    attachment(
        &format!("{number}-evidence.json"),
        bundle.to_canonical_bytes(),
    )
}

fn attachment(filename: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// A campaign's evidence: who reviewed what, when, with what outcome, and the read-backs
/// that prove each revocation, every event with an inclusion proof in a signed checkpoint.
/// Verify it offline with `writ evidence verify FILE --public-key KEY`.
#[utoipa::path(
    operation_id = "export_campaign_evidence", get, path = "/campaigns/{id}/evidence", tag = "evidence",
    params(("id" = String, Path, description = "The campaign's id")),
    responses(
        (status = 200, description = "The campaign's evidence (`writ-campaign-evidence/1`)", content_type = "application/json", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn campaign(
    State(state): State<AppState>,
    Reader(caller): Reader,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    auditors_only(&caller, "evidence")?;
    let id: writ_domain::CampaignId = id.parse().map_err(|e| ApiError::invalid("id", e))?;
    let evidence = state.bundles.export_campaign(id).await?;
    Ok(attachment(
        &format!("campaign-{id}-evidence.json"),
        evidence.to_canonical_bytes(),
    ))
}

/// The signed checkpoints of the audit log, smallest first.
#[utoipa::path(
    operation_id = "list_checkpoints", get, path = "/audit/checkpoints", tag = "evidence",
    responses(
        (status = 200, body = CheckpointList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn checkpoints(
    State(state): State<AppState>,
    Reader(caller): Reader,
) -> Result<Json<CheckpointList>, ApiError> {
    auditors_only(&caller, "evidence")?;
    let items = state
        .store
        .checkpoints()
        .await?
        .into_iter()
        .map(|c| CheckpointView {
            size: c.size,
            root: hex::encode(c.root),
            note: c.note,
            signed_at: c.created_at.to_string(),
        })
        .collect();
    Ok(Json(CheckpointList { items }))
}
