//! One-time login links for `writ demo`: a code signs its holder in as one principal, once,
//! within minutes. Kept in memory (a demo is one process) and absent outside `writ demo`, so
//! a production server has no such door.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use writ_domain::Timestamp;

/// How long a one-time link stays valid.
pub const DEMO_LINK_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Unredeemed codes by SHA-256: the e-mail each signs in as, and until when.
type Codes = HashMap<[u8; 32], (String, Timestamp)>;

/// The unredeemed one-time login codes, by hash.
#[derive(Clone, Default)]
pub struct DemoLogins {
    codes: Arc<Mutex<Codes>>,
}

impl std::fmt::Debug for DemoLogins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DemoLogins")
    }
}

fn hash(code: &str) -> [u8; 32] {
    Sha256::digest(code.as_bytes()).into()
}

impl DemoLogins {
    /// A new code that signs in as the principal with e-mail `email` until `until`.
    pub fn issue(&self, email: &str, until: Timestamp) -> Result<String, getrandom::Error> {
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes)?;
        let code = hex::encode(bytes);
        if let Ok(mut codes) = self.codes.lock() {
            codes.insert(hash(&code), (email.to_string(), until));
        }
        Ok(code)
    }

    /// The e-mail a code signs in as, if it is known and unexpired at `now`; it cannot be
    /// used again either way.
    pub fn redeem(&self, code: &str, now: Timestamp) -> Option<String> {
        let (email, until) = self.codes.lock().ok()?.remove(&hash(code))?;
        (now < until).then_some(email)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_signs_in_once() {
        let logins = DemoLogins::default();
        let now = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let code = logins.issue("a@x", now.plus(DEMO_LINK_LIFETIME)).unwrap();
        assert_eq!(logins.redeem(&code, now).as_deref(), Some("a@x"));
        assert_eq!(logins.redeem(&code, now), None);
    }

    #[test]
    fn an_expired_code_signs_nobody_in() {
        let logins = DemoLogins::default();
        let now = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let code = logins.issue("a@x", now).unwrap();
        assert_eq!(logins.redeem(&code, now), None);
    }
}
