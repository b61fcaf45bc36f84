//! Sealing secrets that writ must hold for a while (a handed-over current credential, a new
//! secret until its one delivery): XChaCha20-Poly1305 under a key kept in a file outside the
//! database, with a random 192-bit nonce per secret. The associated data names the request
//! and the row, so a ciphertext moved to another row or request does not open.

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use writ_connect::Secret;
use writ_domain::RequestId;
use writ_store::SealedSecret;
use zeroize::Zeroizing;

use crate::error::CoreError;

/// The length of the key, in bytes.
const KEY_BYTES: usize = 32;
/// The length of a nonce, in bytes.
const NONCE_BYTES: usize = 24;

/// The key secrets are sealed with. Its `Debug` prints no key material; it is wiped from
/// memory when dropped.
pub struct SecretKey(Zeroizing<[u8; KEY_BYTES]>);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// A new key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, CoreError> {
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        random(key.as_mut_slice())?;
        Ok(Self(key))
    }

    /// Reads a key file: 64 hex digits (a trailing newline is fine). Refused when anyone but
    /// its owner may read it, as ssh refuses a private key others can read.
    pub fn from_file(path: &Path) -> Result<Self, CoreError> {
        let shown = path.display();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)
                .map_err(|e| CoreError::Invalid(format!("cannot read secret key `{shown}`: {e}")))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(CoreError::Invalid(format!(
                    "secret key `{shown}` may be read by others (mode {:o}); run `chmod 600 {shown}`",
                    mode & 0o777
                )));
            }
        }
        let text =
            Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                CoreError::Invalid(format!("cannot read secret key `{shown}`: {e}"))
            })?);
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        hex::decode_to_slice(text.trim_end_matches(['\n', '\r']), key.as_mut_slice()).map_err(
            |_| {
                CoreError::Invalid(format!(
                    "secret key `{shown}` is not 64 hex digits (create one with `writ credential \
                     generate-key`)"
                ))
            },
        )?;
        Ok(Self(key))
    }

    /// Writes a new key to `path`, which must not exist yet, readable by its owner only.
    pub fn write_new(path: &Path) -> Result<(), CoreError> {
        let key = Self::generate()?;
        let text = Zeroizing::new(format!("{}\n", hex::encode(key.0.as_slice())));
        crate::keys::write_new_private(path, &text)
    }
}

/// Seals and opens secrets under one key.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// A sealer under `key`.
    pub fn new(key: &SecretKey) -> Self {
        let key = Key::from(*key.0);
        Self {
            cipher: XChaCha20Poly1305::new(&key),
        }
    }

    /// Seals `secret` for a new row of `request`.
    pub fn seal(&self, request: RequestId, secret: &Secret) -> Result<SealedSecret, CoreError> {
        let id = uuid::Uuid::now_v7();
        let mut nonce = [0u8; NONCE_BYTES];
        random(&mut nonce)?;
        let aad = associated_data(request, id);
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret.expose().as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| CoreError::Internal("sealing a secret failed".into()))?;
        Ok(SealedSecret {
            id,
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Opens a secret sealed for `request`; fails when the key is not the one it was sealed
    /// with, or the row was altered or moved.
    pub fn open(&self, request: RequestId, sealed: &SealedSecret) -> Result<Secret, CoreError> {
        let failed = || {
            CoreError::Internal(format!(
                "cannot open sealed secret {} of request {request}: it was sealed under another \
                 secret key, or altered",
                sealed.id
            ))
        };
        let nonce: [u8; NONCE_BYTES] = sealed.nonce.as_slice().try_into().map_err(|_| failed())?;
        let aad = associated_data(request, sealed.id);
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: &sealed.ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| failed())?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| failed())?;
        Ok(Secret::new(text))
    }
}

fn associated_data(request: RequestId, row: uuid::Uuid) -> Vec<u8> {
    format!("writ/sealed-secret/v1/{request}/{row}").into_bytes()
}

pub(crate) use crate::keys::random;

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&SecretKey::generate().unwrap())
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_request_and_row_under_its_key() {
        let sealer = sealer();
        let request = RequestId::new();
        let sealed = sealer.seal(request, &Secret::new("hunter2-xyz")).unwrap();
        assert!(
            !sealed
                .ciphertext
                .windows(b"hunter2".len())
                .any(|w| w == b"hunter2")
        );
        assert_eq!(
            sealer.open(request, &sealed).unwrap().expose(),
            "hunter2-xyz"
        );

        assert!(sealer.open(RequestId::new(), &sealed).is_err());
        let moved = SealedSecret {
            id: uuid::Uuid::now_v7(),
            ..sealed.clone()
        };
        assert!(sealer.open(request, &moved).is_err());
        let mut altered = sealed.clone();
        altered.ciphertext[0] ^= 1;
        assert!(sealer.open(request, &altered).is_err());
        assert!(self::sealer().open(request, &sealed).is_err());
    }

    #[test]
    fn a_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("writ.key");
        SecretKey::write_new(&path).unwrap();
        let key = SecretKey::from_file(&path).unwrap();
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
        assert!(
            SecretKey::write_new(&path).is_err(),
            "never overwrites a key"
        );

        let sealed = Sealer::new(&key)
            .seal(RequestId::new(), &Secret::new("x"))
            .unwrap();
        assert_eq!(sealed.nonce.len(), NONCE_BYTES);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("writ.key");
        SecretKey::write_new(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SecretKey::from_file(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
}
