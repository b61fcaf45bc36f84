//! Who is calling: the bearer token of every API call, checked against the stored hashes.
//! The token itself is never logged nor echoed.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use writ_core::tokens::Caller;
use writ_domain::TokenScope;

use crate::AppState;
use crate::error::ApiError;

/// A caller with a valid token: may read.
#[derive(Debug, Clone)]
pub struct Reader(pub Caller);

/// A caller whose token and roles allow changes: a `write` or `admin` token, and not an
/// auditor. Every change it makes is recorded as its principal's.
#[derive(Debug, Clone)]
pub struct Writer(pub Caller);

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated)?;
        // The scheme is case-insensitive (RFC 9110 §11.1).
        let secret = header
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(ApiError::Unauthenticated)?;
        let caller = state
            .tokens
            .authenticate(secret)
            .await?
            // A portal session opens the portal only: its cookie is no API credential.
            .filter(|caller| caller.scope != TokenScope::Session)
            .ok_or(ApiError::Unauthenticated)?;
        Ok(Reader(caller))
    }
}

impl FromRequestParts<AppState> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Reader(caller) = Reader::from_request_parts(parts, state).await?;
        if caller.auditor {
            return Err(ApiError::Forbidden(format!(
                "`{}` is an auditor: auditors read everything and change nothing",
                caller.principal.email
            )));
        }
        if !caller.may_write() {
            return Err(ApiError::Forbidden(
                "this token has the `read` scope; changes need a `write` token".into(),
            ));
        }
        Ok(Writer(caller))
    }
}
