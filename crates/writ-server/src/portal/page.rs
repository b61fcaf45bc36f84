//! What every page shares: the header (who is signed in, the navigation, the CSRF token),
//! rendering a template to HTML, and the error page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::session::Session;
use crate::error::ApiError;

/// The header of every page.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    /// The signed-in person's name.
    pub who: String,
    /// Their e-mail.
    pub email: String,
    /// The CSRF token the page's forms carry.
    pub csrf: String,
    /// Whether they may read the audit log.
    pub reads_audit: bool,
    /// Which navigation entry is current.
    pub current: &'static str,
    /// A notice to show once (after a redirect).
    pub notice: Option<String>,
}

impl Chrome {
    /// The header for `session` on page `current`.
    pub fn of(session: &Session, current: &'static str) -> Self {
        Self {
            who: session.caller.principal.name.to_string(),
            email: session.caller.principal.email.to_string(),
            csrf: session.csrf.clone(),
            reads_audit: session.caller.may_read_audit(),
            current,
            notice: None,
        }
    }

    /// With a notice.
    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice.filter(|n| !n.is_empty());
        self
    }
}

/// A template as an HTML answer; a template that fails to render is an opaque 500.
pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "portal template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Html(ERROR_500)).into_response()
        }
    }
}

const ERROR_500: &str = "<!doctype html><title>writ</title><p>The server could not answer; the cause is in its log.</p>";

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    message: String,
}

/// A failed page: the API's error, shown as HTML with the same status and wording.
#[derive(Debug)]
pub(crate) struct PortalError(pub ApiError);

impl From<ApiError> for PortalError {
    fn from(err: ApiError) -> Self {
        PortalError(err)
    }
}

impl From<writ_core::CoreError> for PortalError {
    fn from(err: writ_core::CoreError) -> Self {
        PortalError(ApiError::Core(err))
    }
}

impl From<writ_store::StoreError> for PortalError {
    fn from(err: writ_store::StoreError) -> Self {
        PortalError(ApiError::from(err))
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (status, message) = self.0.public();
        let mut response = render(&ErrorPage {
            status: status.as_u16(),
            message,
        });
        *response.status_mut() = status;
        response
    }
}

/// A form without this session's CSRF token.
pub(crate) fn forged() -> PortalError {
    PortalError(ApiError::Forbidden(
        "this form has expired or did not come from writ; reload the page and try again".into(),
    ))
}

/// Where to go after a change: `to`, with a one-time notice.
pub(crate) fn see_other(to: &str, notice: &str) -> Response {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("notice", notice)
        .finish();
    let separator = if to.contains('?') { '&' } else { '?' };
    axum::response::Redirect::to(&format!("{to}{separator}{query}")).into_response()
}
