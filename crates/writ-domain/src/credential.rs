//! Credentials: what writ knows about a secret it issued or rotated. Never the secret itself.

use sha2::{Digest, Sha256};

use crate::error::ParseError;
use crate::id::{AccountId, CredentialId};
use crate::kinds::CredentialStatus;
use crate::name::{check_plain_text, text_newtype};
use crate::time::Timestamp;

/// A secret writ issued or rotated for an account, known only by its fingerprint.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Credential {
    /// writ's id.
    pub id: CredentialId,
    /// The account the credential authenticates.
    pub account: AccountId,
    /// Identifies the secret without revealing it.
    pub fingerprint: Fingerprint,
    /// 1 for the first credential of the account, one more at each rotation.
    pub version: u32,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it stops working, if it expires by itself.
    pub expires_at: Option<Timestamp>,
    /// Whether it is in use, superseded or revoked.
    pub status: CredentialStatus,
}

text_newtype! {
    /// Identifies a secret without revealing it: `sha256:` and the hex digest of the secret,
    /// or a public identifier the target system reports (a key id); 1 to 255 characters, no
    /// control characters.
    Fingerprint
}

impl Fingerprint {
    /// The longest fingerprint, in characters.
    pub const MAX_CHARS: usize = 255;

    /// Checks `text` is a usable fingerprint.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        check_plain_text("fingerprint", text, text, Self::MAX_CHARS)?;
        Ok(Self(text.to_owned()))
    }

    /// The fingerprint of `secret`: `sha256:` and the hex SHA-256 digest. Only meaningful for
    /// high-entropy secrets (generated keys and tokens), which are the only kind writ issues.
    pub fn of_secret(secret: &[u8]) -> Self {
        Self(format!("sha256:{}", hex::encode(Sha256::digest(secret))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_does_not_contain_the_secret() {
        let fingerprint = Fingerprint::of_secret(b"s3cr3t-token");
        assert!(fingerprint.as_str().starts_with("sha256:"));
        assert_eq!(fingerprint.as_str().len(), 7 + 64);
        assert!(!fingerprint.as_str().contains("s3cr3t"));
    }

    #[test]
    fn the_same_secret_has_the_same_fingerprint() {
        assert_eq!(Fingerprint::of_secret(b"a"), Fingerprint::of_secret(b"a"));
        assert_ne!(Fingerprint::of_secret(b"a"), Fingerprint::of_secret(b"b"));
    }

    #[test]
    fn a_reported_key_id_is_a_fingerprint() {
        assert_eq!(
            Fingerprint::parse("AKIAEXAMPLE").unwrap().as_str(),
            "AKIAEXAMPLE"
        );
        assert!(Fingerprint::parse("").is_err());
    }
}
