//! `POST /requests/{number}/credential`: the one reveal of a rotated secret to its requester.

use axum::Json;
use axum::extract::State;
use writ_api::{ErrorBody, RevealedView};
use writ_domain::RequestNumber;

use crate::AppState;
use crate::auth::Writer;
use crate::error::ApiError;
use crate::extract::ApiPath;

/// Reveals the new secret of a fulfilled rotate request to its requester, once: writ deletes
/// it as it answers and keeps only its fingerprint.
#[utoipa::path(
    operation_id = "reveal_credential", post, path = "/requests/{number}/credential", tag = "credentials",
    params(("number" = String, Path, description = "The rotate request's number, `REQ-…`")),
    responses(
        (status = 200, body = RevealedView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(principal = %caller.principal.id))]
pub(crate) async fn reveal(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(number): ApiPath,
) -> Result<Json<RevealedView>, ApiError> {
    let number: RequestNumber = number.parse().map_err(|e| ApiError::invalid("number", e))?;
    let revealed = state.reveal.reveal(caller.principal.id, number).await?;
    Ok(Json(RevealedView {
        secret: revealed.secret.expose().to_string(),
        fingerprint: revealed.fingerprint.to_string(),
        system: revealed.system,
        account: revealed.account.to_string(),
    }))
}
