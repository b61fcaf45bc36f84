//! Signing in and out. A session is a short-lived `write` token created for the principal
//! (its creation and revocation are in the audit log); the cookie carries its secret.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use writ_domain::audit::Actor;

use super::page::{PortalError, forged, render};
use super::session::{self, SESSION_LIFETIME, Session};
use crate::AppState;
use crate::error::ApiError;

/// The login page.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    demo: bool,
    oidc: bool,
    notice: Option<String>,
}

/// A notice to show.
#[derive(Debug, Deserialize)]
pub(crate) struct Notice {
    notice: Option<String>,
}

/// The login page: how to sign in here.
pub(crate) async fn page(State(state): State<AppState>, Query(q): Query<Notice>) -> Response {
    render(&LoginPage {
        demo: state.portal.demo.is_some(),
        oidc: state.portal.oidc.is_some(),
        notice: q.notice,
    })
}

/// A one-time link's code.
#[derive(Debug, Deserialize)]
pub(crate) struct DemoCode {
    code: String,
}

/// Signs in with a one-time demo link; only `writ demo` accepts them.
#[tracing::instrument(skip_all)]
pub(crate) async fn demo(
    State(state): State<AppState>,
    Query(q): Query<DemoCode>,
) -> Result<Response, PortalError> {
    let Some(logins) = &state.portal.demo else {
        return Err(PortalError(ApiError::NotFound(
            "one-time login links (only `writ demo` has them)".into(),
        )));
    };
    let email = logins
        .redeem(&q.code, state.clock.now())
        .ok_or_else(|| {
            PortalError(ApiError::Forbidden(
                "this login link was used already or has expired; `writ demo` prints new ones at each start".into(),
            ))
        })?;
    start(&state, &email).await
}

/// Starts a session as the principal with e-mail `email` and goes to the dashboard.
pub(crate) async fn start(state: &AppState, email: &str) -> Result<Response, PortalError> {
    let principal = state
        .store
        .principal_by_email(email)
        .await?
        .ok_or_else(|| {
            PortalError(ApiError::Forbidden(format!(
                "`{email}` is not known to writ"
            )))
        })?;
    let created = state
        .tokens
        .start_session(email, SESSION_LIFETIME, Actor::principal(principal.id))
        .await?;
    tracing::info!(principal = %principal.id, "portal session started");
    Ok((
        [(
            SET_COOKIE,
            session::cookie(&created.secret, state.portal.secure_cookies),
        )],
        Redirect::to("/portal"),
    )
        .into_response())
}

/// A form with only its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

/// Signs out: the session's token is revoked at once.
#[tracing::instrument(skip_all)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PortalError> {
    if !session.csrf_ok(&form.csrf) {
        return Err(forged());
    }
    state
        .tokens
        .revoke(
            session.caller.token,
            Actor::principal(session.caller.principal.id),
        )
        .await?;
    Ok((
        [(SET_COOKIE, session::cleared(state.portal.secure_cookies))],
        super::page::see_other("/portal/login", "signed out"),
    )
        .into_response())
}
