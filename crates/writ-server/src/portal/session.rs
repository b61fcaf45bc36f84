//! Who is signed in: the session cookie holds a short-lived API token (stored hashed, like
//! every token); the CSRF token of its forms is derived from it, so a form posted from
//! elsewhere cannot carry it. Neither is ever logged.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use writ_core::tokens::Caller;
use writ_domain::TokenScope;

use crate::AppState;

/// The session cookie's name.
pub(crate) const COOKIE_NAME: &str = "writ_session";

/// How long a portal session lasts.
pub(crate) const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// A signed-in person, with the CSRF token their forms must carry.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Who, as their session token proves.
    pub caller: Caller,
    /// The CSRF token of this session.
    pub csrf: String,
}

impl Session {
    /// Whether `token` is this session's CSRF token.
    pub fn csrf_ok(&self, token: &str) -> bool {
        // Both sides are hashes of the same length; the comparison time reveals nothing
        // useful about the session secret.
        let a = self.csrf.as_bytes();
        let b = token.as_bytes();
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The CSRF token bound to a session secret.
pub(crate) fn csrf_of(secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"writ-portal-csrf\0");
    hasher.update(secret.as_bytes());
    hex::encode(hasher.finalize())
}

/// The session secret in the request's cookies, if any.
pub(crate) fn secret_of(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
}

/// The `Set-Cookie` value that starts a session.
pub(crate) fn cookie(secret: &str, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSION_LIFETIME.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session.
pub(crate) fn cleared(secure: bool) -> String {
    format!(
        "{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Not signed in: off to the login page.
#[derive(Debug)]
pub(crate) struct SignIn;

impl IntoResponse for SignIn {
    fn into_response(self) -> Response {
        Redirect::to("/portal/login").into_response()
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let secret = secret_of(parts).ok_or_else(|| SignIn.into_response())?;
        let caller = state
            .tokens
            .authenticate(&secret)
            .await
            .map_err(|e| {
                super::page::PortalError::from(crate::error::ApiError::from(e)).into_response()
            })?
            // Only a session made by signing in opens the portal, never an API token.
            .filter(|caller| caller.scope == TokenScope::Session)
            .ok_or_else(|| SignIn.into_response())?;
        Ok(Session {
            caller,
            csrf: csrf_of(&secret),
        })
    }
}
