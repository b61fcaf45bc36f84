//! The password of a new login role, sent as a SCRAM-SHA-256 verifier rather than in clear.
//!
//! `CREATE ROLE … PASSWORD '<clear text>'` lands in the server log of any cluster that runs
//! with `log_statement = 'ddl'` (a common audit setting). PostgreSQL also accepts a verifier
//! computed by the client (as psql's `\password` does) and stores it as is, so the clear
//! password never leaves this process: it is drawn from the operating system's CSPRNG, turned
//! into a verifier and dropped.

use sha2::{Digest, Sha256};

use crate::Secret;

/// PostgreSQL's default `scram_iterations`.
const ITERATIONS: u32 = 4096;

/// A verifier for a fresh random password nobody will ever see (64 hex characters, 244 random
/// bits from two v4 UUIDs); a later `rotate_credential` sets one that is handed over.
pub(super) fn random_password_verifier() -> Secret {
    let password = Secret::new(format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    ));
    let salt = *uuid::Uuid::new_v4().as_bytes();
    scram_sha256_verifier(&password, &salt, ITERATIONS)
}

/// A verifier for `password` with a fresh random salt: what `rotate_credential` sends, so the
/// new password itself never reaches the server's logs.
pub(super) fn password_verifier(password: &Secret) -> Secret {
    let salt = *uuid::Uuid::new_v4().as_bytes();
    scram_sha256_verifier(password, &salt, ITERATIONS)
}

/// Whether `password` is the one `verifier` (as `pg_authid.rolpassword` holds it) was made
/// from: recomputes the StoredKey with the verifier's salt and iterations, as the server does
/// when a client logs in with SCRAM. `None` when `verifier` is not a SCRAM-SHA-256 verifier
/// (an `md5…` hash, or anything else), so the caller knows it proves nothing.
pub(super) fn verifier_matches(verifier: &str, password: &Secret) -> Option<bool> {
    let rest = verifier.strip_prefix("SCRAM-SHA-256$")?;
    let (params, keys) = rest.split_once('$')?;
    let (iterations, salt) = params.split_once(':')?;
    let (stored_key, _server_key) = keys.split_once(':')?;
    let iterations: u32 = iterations.parse().ok().filter(|n| *n > 0)?;
    let salt = base64_decode(salt)?;
    let stored_key = base64_decode(stored_key)?;
    let salted = pbkdf2_sha256(password.expose().as_bytes(), &salt, iterations);
    let client_key = hmac_sha256(&salted, &[b"Client Key"]);
    let computed: [u8; 32] = Sha256::digest(client_key).into();
    Some(
        stored_key.len() == computed.len()
            && stored_key
                .iter()
                .zip(computed)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0,
    )
}

/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` for `password` (RFC 5802, 7677;
/// the format of `pg_authid.rolpassword`). The password must be ASCII: SASLprep is not applied.
pub(super) fn scram_sha256_verifier(password: &Secret, salt: &[u8], iterations: u32) -> Secret {
    let salted = pbkdf2_sha256(password.expose().as_bytes(), salt, iterations);
    let client_key = hmac_sha256(&salted, &[b"Client Key"]);
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    let server_key = hmac_sha256(&salted, &[b"Server Key"]);
    Secret::new(format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        base64(salt),
        base64(&stored_key),
        base64(&server_key)
    ))
}

/// PBKDF2-HMAC-SHA-256 with one output block (32 bytes), which is all SCRAM needs.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = hmac_sha256(password, &[salt, &1u32.to_be_bytes()]);
    let mut result = block;
    for _ in 1..iterations {
        block = hmac_sha256(password, &[&block]);
        for (r, b) in result.iter_mut().zip(block) {
            *r ^= b;
        }
    }
    result
}

/// HMAC-SHA-256 (RFC 2104) of the concatenated `parts`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut padded = [0u8; BLOCK];
    if key.len() > BLOCK {
        let digest: [u8; 32] = Sha256::digest(key).into();
        padded[..32].copy_from_slice(&digest);
    } else {
        padded[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(padded.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let inner: [u8; 32] = inner.finalize().into();
    let mut outer = Sha256::new();
    outer.update(padded.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 with padding; `None` for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let last = index == bytes.len() / 4 - 1;
        let padding = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - padding] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * padding as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_verifier_postgresql_computes() {
        // PostgreSQL 15: `SET password_encryption = 'scram-sha-256'; CREATE ROLE r PASSWORD
        // 'pencil'`, then `pg_authid.rolpassword`.
        let expected = "SCRAM-SHA-256$4096:MXRDoYmf8Ln7i5Zd8Tb5XQ==$MqQ4+0eILBItOvcLxyrEpajo/\
                        14dCeAS5cyMrCn0Cmk=:ifhZfRhYgavTI3yAJoRIGZEs+blCjzGKtQ6rEu44CaE=";
        let salt = [
            0x31, 0x74, 0x43, 0xa1, 0x89, 0x9f, 0xf0, 0xb9, 0xfb, 0x8b, 0x96, 0x5d, 0xf1, 0x36,
            0xf9, 0x5d,
        ];
        assert_eq!(base64(&salt), "MXRDoYmf8Ln7i5Zd8Tb5XQ==");
        let verifier = scram_sha256_verifier(&Secret::new("pencil"), &salt, 4096);
        assert_eq!(verifier.expose(), expected);
    }

    #[test]
    fn a_verifier_matches_its_password_only() {
        let verifier = password_verifier(&Secret::new("correct horse"));
        assert_eq!(
            verifier_matches(verifier.expose(), &Secret::new("correct horse")),
            Some(true)
        );
        assert_eq!(
            verifier_matches(verifier.expose(), &Secret::new("correct horsf")),
            Some(false)
        );
        // The verifier PostgreSQL itself computed for `pencil`.
        let postgres = "SCRAM-SHA-256$4096:MXRDoYmf8Ln7i5Zd8Tb5XQ==$MqQ4+0eILBItOvcLxyrEpajo/\
                        14dCeAS5cyMrCn0Cmk=:ifhZfRhYgavTI3yAJoRIGZEs+blCjzGKtQ6rEu44CaE=";
        assert_eq!(
            verifier_matches(postgres, &Secret::new("pencil")),
            Some(true)
        );
        assert_eq!(
            verifier_matches(postgres, &Secret::new("Pencil")),
            Some(false)
        );
    }

    #[test]
    fn what_is_not_a_scram_verifier_proves_nothing() {
        for other in [
            "md5d41d8cd98f00b204e9800998ecf8427e",
            "",
            "SCRAM-SHA-256$x:abc$def:ghi",
            "SCRAM-SHA-256$4096:!!!!$AAAA:AAAA",
        ] {
            assert_eq!(verifier_matches(other, &Secret::new("pw")), None, "{other}");
        }
    }

    #[test]
    fn base64_decodes_what_it_encodes() {
        for input in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foobar",
            &[0xff, 0x00, 0x80, 0x7f],
        ] {
            assert_eq!(base64_decode(&base64(input)).as_deref(), Some(input));
        }
        assert_eq!(base64_decode("Zg="), None);
        assert_eq!(base64_decode("Zg==Zg=="), None);
    }

    #[test]
    fn base64_pads_short_input() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn each_new_password_verifier_is_different() {
        let a = random_password_verifier();
        let b = random_password_verifier();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("SCRAM-SHA-256$4096:"));
    }
}
