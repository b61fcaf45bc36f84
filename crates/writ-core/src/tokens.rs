//! API tokens: created for a principal within a scope (shown once, stored as its SHA-256),
//! checked on every API call, revoked by id. Who holds a valid token acts as its principal.

use std::sync::Arc;
use std::time::Duration;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{ApiToken, ApiTokenId, Principal, TOKEN_PREFIX, TokenHash, TokenScope};
use writ_store::Store;

use crate::Clock;
use crate::error::CoreError;
use crate::requests::Roles;

/// How long a token lives when its creator does not say.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(90 * 86_400);

/// Who is calling, as a valid token proves.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The principal the token acts as.
    pub principal: Principal,
    /// What the token may do.
    pub scope: TokenScope,
    /// The token's id (for the record, never its secret).
    pub token: ApiTokenId,
    /// Whether the principal is an administrator.
    pub admin: bool,
    /// Whether the principal is an auditor: reads everything, changes nothing.
    pub auditor: bool,
}

impl Caller {
    /// Whether this caller may change anything: a write or admin token, not an auditor.
    pub fn may_write(&self) -> bool {
        self.scope.can_write() && !self.auditor
    }

    /// Whether this caller may read the audit log: administrators and auditors.
    pub fn may_read_audit(&self) -> bool {
        self.admin || self.auditor
    }

    /// Whether this caller may act as an administrator: an admin, with an admin token or
    /// signed in to the portal.
    pub fn acts_as_admin(&self) -> bool {
        self.admin && matches!(self.scope, TokenScope::Admin | TokenScope::Session)
    }
}

/// A token just created: the secret is here once and nowhere else.
#[derive(Debug)]
pub struct CreatedToken {
    /// The stored token (its hash).
    pub token: ApiToken,
    /// The bearer secret, `writ_…`; writ cannot show it again.
    pub secret: String,
    /// Who it acts as.
    pub principal: Principal,
}

/// The token use cases.
#[derive(Clone)]
pub struct Tokens {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    roles: Roles,
}

impl Tokens {
    /// The use cases over these ports.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, roles: Roles) -> Self {
        Self {
            store,
            clock,
            roles,
        }
    }

    /// Creates a token for the principal with e-mail `email`, valid for `lifetime`. Only an
    /// administrator gets an `admin` token.
    #[tracing::instrument(skip_all, fields(scope = %scope))]
    pub async fn create(
        &self,
        email: &str,
        scope: TokenScope,
        lifetime: Duration,
        by: Actor,
    ) -> Result<CreatedToken, CoreError> {
        let principal = self.active_principal(email).await?;
        if scope == TokenScope::Session {
            return Err(CoreError::Invalid(
                "`session` tokens are made only by signing in to the portal".into(),
            ));
        }
        self.issue(principal, scope, lifetime, by).await
    }

    /// Starts a portal session for the principal with e-mail `email`: a `session` token,
    /// which only the portal's cookie accepts.
    #[tracing::instrument(skip_all)]
    pub async fn start_session(
        &self,
        email: &str,
        lifetime: Duration,
        by: Actor,
    ) -> Result<CreatedToken, CoreError> {
        let principal = self.active_principal(email).await?;
        self.issue(principal, TokenScope::Session, lifetime, by)
            .await
    }

    async fn active_principal(&self, email: &str) -> Result<Principal, CoreError> {
        let principal = self
            .store
            .principal_by_email(email)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("principal `{email}`")))?;
        if !principal.active {
            return Err(CoreError::Invalid(format!(
                "`{email}` is no longer active and cannot be given a token"
            )));
        }
        Ok(principal)
    }

    async fn issue(
        &self,
        principal: Principal,
        scope: TokenScope,
        lifetime: Duration,
        by: Actor,
    ) -> Result<CreatedToken, CoreError> {
        let email = principal.email.as_str();
        if scope == TokenScope::Admin && !principal.is_in_group(&self.roles.admin_group) {
            return Err(CoreError::Invalid(format!(
                "`{email}` is not in `{}`, so cannot have an admin token",
                self.roles.admin_group
            )));
        }
        let secret = new_secret()?;
        let now = self.clock.now();
        let token = ApiToken {
            id: ApiTokenId::new(),
            principal: principal.id,
            scope,
            hash: TokenHash::of(&secret),
            created_at: now,
            expires_at: now.plus(lifetime),
            revoked_at: None,
        };
        let event = NewAuditEvent::new(now, by, "token.created")
            .subject(SubjectRef::new("token", token.id))
            .subject(SubjectRef::new("principal", principal.id))
            .data(serde_json::json!({
                "scope": scope.as_str(),
                "expires_at": token.expires_at.to_string(),
            }));
        self.store.create_api_token(token.clone(), event).await?;
        Ok(CreatedToken {
            token,
            secret,
            principal,
        })
    }

    /// The caller a bearer secret proves, or `None` for an unknown, expired or revoked token,
    /// or one whose principal has left.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Caller>, CoreError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(token) = self.store.api_token(TokenHash::of(secret)).await? else {
            return Ok(None);
        };
        if !token.is_valid_at(self.clock.now()) {
            return Ok(None);
        }
        let Some(principal) = self.store.principal(token.principal).await? else {
            return Ok(None);
        };
        if !principal.active {
            return Ok(None);
        }
        Ok(Some(Caller {
            admin: principal.is_in_group(&self.roles.admin_group),
            auditor: principal.is_in_group(&self.roles.auditor_group),
            principal,
            scope: token.scope,
            token: token.id,
        }))
    }

    /// Revokes a token: it stops working at once.
    #[tracing::instrument(skip_all, fields(token = %id))]
    pub async fn revoke(&self, id: ApiTokenId, by: Actor) -> Result<ApiToken, CoreError> {
        let now = self.clock.now();
        let event =
            NewAuditEvent::new(now, by, "token.revoked").subject(SubjectRef::new("token", id));
        Ok(self.store.revoke_api_token(id, now, event).await?)
    }
}

/// A new bearer secret: the prefix and 32 random bytes in hex (256 bits).
fn new_secret() -> Result<String, CoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| CoreError::Internal(format!("no randomness for a token: {e}")))?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}
