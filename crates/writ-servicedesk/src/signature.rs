//! HMAC-SHA256 signatures: Jira's `X-Hub-Signature: sha256=<hex>` over the raw body, and the
//! timestamped `v1=<base64>` over `timestamp.body` that writ's ServiceNow business rule and
//! generic senders produce. Comparisons are constant-time (`Mac::verify_slice`).

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::InboundError;

type HmacSha256 = Hmac<Sha256>;

/// The HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = keyed(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: this cannot fail.
    #[allow(clippy::expect_used)]
    HmacSha256::new_from_slice(key).expect("HMAC accepts any key length")
}

fn verify(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> Result<(), InboundError> {
    let mut mac = keyed(key);
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(expected)
        .map_err(|_| InboundError::BadSignature)
}

/// Checks Jira's `X-Hub-Signature` header (`sha256=<hex>`) against `body`.
pub fn verify_hub_signature(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), InboundError> {
    let hex_digest = header
        .and_then(|h| h.trim().strip_prefix("sha256="))
        .ok_or(InboundError::BadSignature)?;
    let digest = hex::decode(hex_digest).map_err(|_| InboundError::BadSignature)?;
    verify(secret, &[body], &digest)
}

/// The `v1=<base64>` signature of `body` sent at `timestamp` (unix seconds, as sent).
pub fn timestamped_signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mac = hmac_sha256(secret, &[timestamp.as_bytes(), b".", body]);
    format!(
        "v1={}",
        base64::engine::general_purpose::STANDARD.encode(mac)
    )
}

/// Checks a `v1=<base64>` signature header over `timestamp.body`.
pub fn verify_timestamped(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), InboundError> {
    let encoded = header
        .and_then(|h| h.trim().strip_prefix("v1="))
        .ok_or(InboundError::BadSignature)?;
    let digest = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| InboundError::BadSignature)?;
    verify(secret, &[timestamp.as_bytes(), b".", body], &digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hub_signature_verifies_only_its_own_body_and_secret() {
        let body = br#"{"webhookEvent":"jira:issue_created"}"#;
        let header = format!("sha256={}", hex::encode(hmac_sha256(b"s3cret", &[body])));
        assert_eq!(verify_hub_signature(b"s3cret", body, Some(&header)), Ok(()));
        assert_eq!(
            verify_hub_signature(b"other", body, Some(&header)),
            Err(InboundError::BadSignature)
        );
        assert_eq!(
            verify_hub_signature(b"s3cret", b"{}", Some(&header)),
            Err(InboundError::BadSignature)
        );
        assert_eq!(
            verify_hub_signature(b"s3cret", body, None),
            Err(InboundError::BadSignature)
        );
    }

    #[test]
    fn a_timestamped_signature_binds_the_timestamp() {
        let header = timestamped_signature(b"k", "1767225600", b"{}");
        assert_eq!(
            verify_timestamped(b"k", "1767225600", b"{}", Some(&header)),
            Ok(())
        );
        assert_eq!(
            verify_timestamped(b"k", "1767225601", b"{}", Some(&header)),
            Err(InboundError::BadSignature)
        );
    }
}
