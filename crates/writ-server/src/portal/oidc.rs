//! Login with OpenID Connect: authorization code flow with PKCE (S256). `state`, `nonce` and
//! the PKCE verifier travel in a short-lived `HttpOnly` cookie of the browser that started
//! the login, so any replica can finish it; the ID token's signature is checked against the
//! provider's JWKS, with its issuer, audience, expiry and nonce. The subject (`external_id`)
//! or, failing that, the e-mail maps the person to a principal. No secret is ever logged.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::page::PortalError;
use crate::AppState;
use crate::error::ApiError;

/// The login cookie's name.
const COOKIE: &str = "writ_oidc";
/// How long a login may take at the provider, in seconds.
const LOGIN_SECONDS: u32 = 600;

/// `[oidc]` in `writ.toml`: the provider and this client's registration with it.
#[derive(Clone)]
pub struct OidcSettings {
    /// The issuer URL; its discovery document is at `/.well-known/openid-configuration`.
    pub issuer: String,
    /// This client's id at the provider.
    pub client_id: String,
    /// This client's secret (read from `client_secret_file`); never logged.
    pub client_secret: String,
    /// Where the provider sends the browser back: `https://writ.example/portal/login/callback`.
    pub redirect_url: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_url", &self.redirect_url)
            .finish()
    }
}

/// The provider's endpoints, from its discovery document.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// An OIDC client: the settings, and the discovery document once read.
#[derive(Clone, Debug)]
pub struct Oidc {
    settings: OidcSettings,
    http: reqwest::Client,
    discovery: Arc<OnceCell<Discovery>>,
}

/// Why a login failed; shown to the person without any secret.
fn failed(message: impl Into<String>) -> PortalError {
    PortalError(ApiError::Forbidden(format!(
        "sign-in failed: {}",
        message.into()
    )))
}

/// The provider could not be reached or answered nonsense: a 5xx whose cause is logged.
fn provider(what: &str, err: impl std::fmt::Display) -> PortalError {
    PortalError(ApiError::Core(writ_core::CoreError::Internal(format!(
        "OIDC provider: {what}: {err}"
    ))))
}

impl Oidc {
    /// A client for `settings`; the provider is first contacted at the first login.
    pub fn new(settings: OidcSettings) -> Self {
        Self {
            settings,
            http: reqwest::Client::new(),
            discovery: Arc::new(OnceCell::new()),
        }
    }

    async fn discovery(&self) -> Result<&Discovery, PortalError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.settings.issuer.trim_end_matches('/')
                );
                let found: Discovery = self
                    .http
                    .get(&url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| provider("discovery", e))?
                    .json()
                    .await
                    .map_err(|e| provider("discovery document", e))?;
                if found.issuer.trim_end_matches('/') != self.settings.issuer.trim_end_matches('/')
                {
                    return Err(provider(
                        "discovery",
                        format!("issuer `{}` is not the configured one", found.issuer),
                    ));
                }
                Ok(found)
            })
            .await
    }
}

/// A fresh random value, base64url (256 bits).
fn random() -> Result<String, PortalError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| provider("randomness", e))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Starts a login: to the provider, with `state`, `nonce` and a PKCE challenge.
#[tracing::instrument(skip_all)]
pub(crate) async fn start(State(state): State<AppState>) -> Result<Response, PortalError> {
    let Some(oidc) = &state.portal.oidc else {
        return Err(PortalError(ApiError::NotFound(
            "OpenID Connect login (no `[oidc]` in writ.toml)".into(),
        )));
    };
    let discovery = oidc.discovery().await?;
    let (login_state, nonce, verifier) = (random()?, random()?, random()?);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &oidc.settings.client_id)
        .append_pair("redirect_uri", &oidc.settings.redirect_url)
        .append_pair("scope", "openid email profile")
        .append_pair("state", &login_state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let separator = if discovery.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let cookie = format!(
        "{COOKIE}={login_state}.{nonce}.{verifier}; Path=/portal/login; HttpOnly; SameSite=Lax; Max-Age={LOGIN_SECONDS}{}",
        if state.portal.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                LOCATION,
                format!("{}{separator}{query}", discovery.authorization_endpoint),
            ),
            (SET_COOKIE, cookie),
        ],
    )
        .into_response())
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    id_token: String,
}

/// The ID token claims writ reads.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    nonce: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
}

/// Finishes a login: checks `state`, redeems the code with the PKCE verifier, verifies the ID
/// token and its nonce, maps the person to a principal and starts a session.
#[tracing::instrument(skip_all)]
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(back): Query<Callback>,
) -> Result<Response, PortalError> {
    let Some(oidc) = &state.portal.oidc else {
        return Err(PortalError(ApiError::NotFound(
            "OpenID Connect login (no `[oidc]` in writ.toml)".into(),
        )));
    };
    if let Some(error) = back.error {
        return Err(failed(format!(
            "the provider answered `{error}`{}",
            back.error_description
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )));
    }
    let cookie = login_cookie(&headers).ok_or_else(|| {
        failed("the login started too long ago or in another browser; start again")
    })?;
    let mut parts = cookie.splitn(3, '.');
    let (Some(expected_state), Some(nonce), Some(verifier)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(failed("the login cookie is malformed; start again"));
    };
    if back.state.as_deref() != Some(expected_state) {
        return Err(failed(
            "the `state` does not match this browser's login; start again",
        ));
    }
    let code = back
        .code
        .ok_or_else(|| failed("the provider sent no code"))?;
    let discovery = oidc.discovery().await?;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &oidc.settings.redirect_url)
        .append_pair("client_id", &oidc.settings.client_id)
        .append_pair("code_verifier", verifier)
        .finish();
    let basic = STANDARD.encode(format!(
        "{}:{}",
        form_urlencoded::byte_serialize(oidc.settings.client_id.as_bytes()).collect::<String>(),
        form_urlencoded::byte_serialize(oidc.settings.client_secret.as_bytes()).collect::<String>()
    ));
    let answer = oidc
        .http
        .post(&discovery.token_endpoint)
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| provider("token endpoint", e))?;
    if !answer.status().is_success() {
        return Err(failed(format!(
            "the provider refused the code ({})",
            answer.status()
        )));
    }
    let tokens: TokenAnswer = answer
        .json()
        .await
        .map_err(|e| provider("token answer", e))?;
    let claims = verify(oidc, discovery, &tokens.id_token).await?;
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(failed("the ID token's nonce does not match this login"));
    }
    let email = principal_email(&state, &claims).await?;
    let mut response = super::login::start(&state, &email).await?;
    // The login cookie has done its work.
    if let Ok(value) =
        format!("{COOKIE}=; Path=/portal/login; HttpOnly; SameSite=Lax; Max-Age=0").parse()
    {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

/// The login cookie's value.
fn login_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The ID token's claims, once its signature (by a key of the provider's JWKS), issuer,
/// audience and expiry check out.
async fn verify(oidc: &Oidc, discovery: &Discovery, id_token: &str) -> Result<Claims, PortalError> {
    let header = jsonwebtoken::decode_header(id_token)
        .map_err(|e| failed(format!("the ID token is malformed: {e}")))?;
    let jwks: JwkSet = oidc
        .http
        .get(&discovery.jwks_uri)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| provider("JWKS", e))?
        .json()
        .await
        .map_err(|e| provider("JWKS document", e))?;
    let jwk = match &header.kid {
        Some(kid) => jwks.find(kid),
        None => jwks.keys.first(),
    }
    .ok_or_else(|| failed("the ID token is signed by a key the provider does not publish"))?;
    let key =
        DecodingKey::from_jwk(jwk).map_err(|e| failed(format!("unusable provider key: {e}")))?;
    // Only asymmetric algorithms: a token "signed" with the client secret or `none` is refused.
    let allowed = [
        jsonwebtoken::Algorithm::RS256,
        jsonwebtoken::Algorithm::RS384,
        jsonwebtoken::Algorithm::RS512,
        jsonwebtoken::Algorithm::PS256,
        jsonwebtoken::Algorithm::ES256,
        jsonwebtoken::Algorithm::ES384,
        jsonwebtoken::Algorithm::EdDSA,
    ];
    if !allowed.contains(&header.alg) {
        return Err(failed(format!(
            "the ID token's algorithm `{:?}` is not accepted",
            header.alg
        )));
    }
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[&oidc.settings.client_id]);
    validation.set_issuer(&[&discovery.issuer]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Claims>(id_token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| failed(format!("the ID token does not verify: {e}")))
}

/// The e-mail of the principal the claims name: by subject (`external_id`) first, then by a
/// verified e-mail.
async fn principal_email(state: &AppState, claims: &Claims) -> Result<String, PortalError> {
    if let Some(p) = state.store.principal_by_external_id(&claims.sub).await? {
        return Ok(p.email.to_string());
    }
    if let Some(email) = claims
        .email
        .as_deref()
        .filter(|_| claims.email_verified != Some(false))
        && let Some(p) = state.store.principal_by_email(email).await?
    {
        return Ok(p.email.to_string());
    }
    Err(failed(format!(
        "no writ principal has subject `{}`{}",
        claims.sub,
        claims
            .email
            .as_deref()
            .map(|e| format!(" or e-mail `{e}`"))
            .unwrap_or_default()
    )))
}
