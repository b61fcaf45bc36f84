//! API tokens: bearer secrets for the CLI and automation, each acting as one principal within
//! a scope. writ keeps only the SHA-256 of a token, never the token.

use sha2::{Digest, Sha256};

use crate::id::{ApiTokenId, PrincipalId};
use crate::kinds::string_enum;
use crate::time::Timestamp;

string_enum! {
    /// What a token may do: `read` only reads, `write` also changes (requests, decisions),
    /// `admin` also does what only administrators may (cancelling others' requests);
    /// `session` is a portal sign-in, good only as the portal's cookie.
    TokenScope as "token scope" {
        /// Reads only; every change is refused.
        Read = "read",
        /// Reads and changes, as policy lets the principal.
        Write = "write",
        /// Everything the principal's roles allow, administration included.
        Admin = "admin",
        /// A person signed in to the portal: everything their roles allow, through the
        /// portal's cookie only, never as a bearer token (a stolen cookie does not open the
        /// API).
        Session = "session",
    }
}

impl TokenScope {
    /// Whether the scope allows changes.
    pub const fn can_write(self) -> bool {
        matches!(
            self,
            TokenScope::Write | TokenScope::Admin | TokenScope::Session
        )
    }
}

/// The prefix of every token, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "writ_";

/// The SHA-256 of a token: what writ stores and looks tokens up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The hash of `token`.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Wraps a hash read back from storage.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A stored API token (without its secret, which writ never keeps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// writ's id, shown at creation and used to revoke.
    pub id: ApiTokenId,
    /// Who the token acts as.
    pub principal: PrincipalId,
    /// What it may do.
    pub scope: TokenScope,
    /// The SHA-256 of the token.
    pub hash: TokenHash,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Whether the token works at `now`: neither revoked nor expired.
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_stops_working_when_it_expires_or_is_revoked() {
        let mut token = ApiToken {
            id: ApiTokenId::new(),
            principal: PrincipalId::new(),
            scope: TokenScope::Read,
            hash: TokenHash::of("writ_x"),
            created_at: Timestamp::from_micros(0),
            expires_at: Timestamp::from_micros(10),
            revoked_at: None,
        };
        assert!(token.is_valid_at(Timestamp::from_micros(9)));
        assert!(!token.is_valid_at(Timestamp::from_micros(10)));
        token.revoked_at = Some(Timestamp::from_micros(5));
        assert!(!token.is_valid_at(Timestamp::from_micros(9)));
    }

    #[test]
    fn only_write_and_admin_scopes_change_things() {
        assert!(!TokenScope::Read.can_write());
        assert!(TokenScope::Write.can_write());
        assert!(TokenScope::Admin.can_write());
    }
}
