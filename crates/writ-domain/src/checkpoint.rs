//! Signed checkpoints of the audit log: the tree size and root in the C2SP `tlog-checkpoint`
//! layout, signed with Ed25519 as a C2SP `signed-note`, so tools built for transparency logs
//! (and auditors with nothing but the public key) can check them.
//!
//! ```text
//! example.org/writ            ← origin: the key's name
//! 4817                        ← tree size
//! 8pTTbIbNs6lN2kNaWpmeovb3mfP4Fuso3OlwkclwrBE=   ← root, base64
//!
//! — example.org/writ AAAAB3Nz…   ← key id (4 bytes) and signature, base64
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::TreeHash;

/// The signature algorithm byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;

/// Why a checkpoint or key could not be read or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text is not a checkpoint, a signed note or a key of the expected form.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No signature line by the key that was asked for.
    #[error("the checkpoint carries no signature by `{0}`")]
    Unsigned(String),
    /// A signature line by the key that does not verify: the note was changed or forged.
    #[error("the signature by `{0}` does not match the checkpoint")]
    BadSignature(String),
}

fn malformed(what: &'static str, reason: impl Into<String>) -> CheckpointError {
    CheckpointError::Malformed {
        what,
        reason: reason.into(),
    }
}

/// A tree head: how many audit events the tree holds and its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name (the signing key's name).
    pub origin: String,
    /// How many events the tree holds.
    pub size: u64,
    /// The tree hash of those events.
    pub root: TreeHash,
}

impl Checkpoint {
    /// The checkpoint's text: origin, size and base64 root, each on its own line.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// Reads a checkpoint's text (extension lines after the root are allowed and ignored).
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let what = "checkpoint";
        let mut lines = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed(what, "it must end with a newline"))?
            .split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| malformed(what, "no origin line"))?;
        let size = lines
            .next()
            .and_then(|s| s.parse::<u64>().ok().filter(|n| n.to_string() == s))
            .ok_or_else(|| malformed(what, "the second line must be the tree size in decimal"))?;
        let root = lines
            .next()
            .and_then(|r| BASE64.decode(r).ok())
            .and_then(|r| <TreeHash>::try_from(r).ok())
            .ok_or_else(|| malformed(what, "the third line must be a base64 SHA-256 root"))?;
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// The 4-byte id of an Ed25519 key named `name`: the start of
/// `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`.
fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ED25519]);
    hasher.update(key.as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A key name must be non-empty and free of `+`, spaces and newlines (signed-note rules).
fn check_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() || name.contains(['+', ' ', '\n', '\t']) {
        return Err(malformed(
            "key name",
            format!("`{name}` must be non-empty without `+`, spaces or newlines"),
        ));
    }
    Ok(())
}

/// The private key that signs checkpoints. Never logged: `Debug` shows only the name.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteSigner({})", self.name)
    }
}

impl NoteSigner {
    /// A signer named `name` (e.g. `example.org/writ`) from 32 random bytes.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, CheckpointError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads the key file's text, `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 ‖ seed)>`
    /// (the format Go's `golang.org/x/mod/sumdb/note` uses).
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let what = "signing key";
        let rest = text
            .trim_end()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| malformed(what, "it must start with `PRIVATE+KEY+`"))?;
        // Names hold no `+`; base64 may.
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(encoded)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed(what, "expected PRIVATE+KEY+<name>+<id>+<key>"));
        };
        let bytes = BASE64
            .decode(encoded)
            .map_err(|e| malformed(what, e.to_string()))?;
        let (Some(&ED25519), Ok(seed)) = (bytes.first(), <[u8; 32]>::try_from(&bytes[1..])) else {
            return Err(malformed(what, "not an Ed25519 key"));
        };
        let signer = Self::from_seed(name, seed)?;
        if hex::encode(key_id(name, &signer.key.verifying_key())) != id {
            return Err(malformed(what, "the key id does not match the key"));
        }
        Ok(signer)
    }

    /// The key file's text (see [`NoteSigner::parse`]). Secret: write it to a 0600 file only.
    pub fn to_text(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        let verifying = self.key.verifying_key();
        format!(
            "PRIVATE+KEY+{}+{}+{}\n",
            self.name,
            hex::encode(key_id(&self.name, &verifying)),
            BASE64.encode(bytes)
        )
    }

    /// The key's name, which is also the origin of the checkpoints it signs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half, for auditors.
    pub fn verifier(&self) -> NoteVerifier {
        let key = self.key.verifying_key();
        NoteVerifier {
            id: key_id(&self.name, &key),
            name: self.name.clone(),
            key,
        }
    }

    /// The signed note of a checkpoint of `size` events with tree hash `root`.
    pub fn sign(&self, size: u64, root: TreeHash) -> String {
        let body = Checkpoint {
            origin: self.name.clone(),
            size,
            root,
        }
        .body();
        let signature = self.key.sign(body.as_bytes());
        let mut stamp = key_id(&self.name, &self.key.verifying_key()).to_vec();
        stamp.extend_from_slice(&signature.to_bytes());
        format!("{body}\n\u{2014} {} {}\n", self.name, BASE64.encode(stamp))
    }
}

/// The public key that checks checkpoints, as `<name>+<key id hex>+<base64(0x01 ‖ key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Reads a public key's text.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let what = "public key";
        // Names hold no `+`; base64 may.
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(encoded)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed(what, "expected <name>+<id>+<key>"));
        };
        check_name(name)?;
        let bytes = BASE64
            .decode(encoded)
            .map_err(|e| malformed(what, e.to_string()))?;
        let (Some(&ED25519), Ok(raw)) = (bytes.first(), <[u8; 32]>::try_from(&bytes[1..])) else {
            return Err(malformed(what, "not an Ed25519 key"));
        };
        let key = VerifyingKey::from_bytes(&raw).map_err(|e| malformed(what, e.to_string()))?;
        let expected = key_id(name, &key);
        if hex::encode(expected) != id {
            return Err(malformed(what, "the key id does not match the key"));
        }
        Ok(Self {
            name: name.to_string(),
            id: expected,
            key,
        })
    }

    /// The public key's text (see [`NoteVerifier::parse`]).
    pub fn to_text(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}\n",
            self.name,
            hex::encode(self.id),
            BASE64.encode(bytes)
        )
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks `note`'s signature by this key and returns the checkpoint it signs. Signature
    /// lines by other keys are allowed (a witness may cosign) and ignored.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, CheckpointError> {
        let (body, signatures) = note
            .split_once("\n\n")
            .ok_or_else(|| malformed("signed note", "no blank line before the signatures"))?;
        let body = format!("{body}\n");
        let checkpoint = Checkpoint::parse_body(&body)?;
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(malformed(
                    "signed note",
                    format!("`{line}` is not a signature"),
                ));
            };
            let Some((name, encoded)) = rest.split_once(' ') else {
                return Err(malformed(
                    "signed note",
                    format!("`{line}` is not a signature"),
                ));
            };
            let Ok(stamp) = BASE64.decode(encoded) else {
                return Err(malformed("signed note", "a signature is not base64"));
            };
            if name != self.name || stamp.len() != 68 || stamp[..4] != self.id {
                continue;
            }
            let signature = Signature::from_slice(&stamp[4..])
                .map_err(|_| CheckpointError::BadSignature(self.name.clone()))?;
            return match self.key.verify(body.as_bytes(), &signature) {
                Ok(()) if checkpoint.origin == self.name => Ok(checkpoint),
                _ => Err(CheckpointError::BadSignature(self.name.clone())),
            };
        }
        Err(CheckpointError::Unsigned(self.name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> NoteSigner {
        NoteSigner::from_seed("example.org/writ", [7; 32]).unwrap()
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_the_public_key_alone() {
        let signer = signer();
        let note = signer.sign(4817, [9; 32]);
        assert!(note.starts_with("example.org/writ\n4817\n"), "{note}");
        let verifier = NoteVerifier::parse(&signer.verifier().to_text()).unwrap();
        let checkpoint = verifier.verify(&note).unwrap();
        assert_eq!(checkpoint.size, 4817);
        assert_eq!(checkpoint.root, [9; 32]);
    }

    #[test]
    fn keys_survive_their_files() {
        let signer = signer();
        let again = NoteSigner::parse(&signer.to_text()).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
        assert!(!format!("{again:?}").contains(&signer.to_text()));
    }

    #[test]
    fn a_changed_note_or_another_key_fails() {
        let signer = signer();
        let note = signer.sign(10, [1; 32]);
        let verifier = signer.verifier();
        let bigger = note.replacen("\n10\n", "\n11\n", 1);
        assert_eq!(
            verifier.verify(&bigger),
            Err(CheckpointError::BadSignature("example.org/writ".into()))
        );
        let stranger = NoteSigner::from_seed("example.org/writ", [8; 32]).unwrap();
        assert_eq!(
            stranger.verifier().verify(&note),
            Err(CheckpointError::Unsigned("example.org/writ".into()))
        );
        assert!(verifier.verify("example.org/writ\n10\n").is_err());
    }

    #[test]
    fn keys_whose_base64_holds_a_plus_are_read_back() {
        for seed in 0..64u8 {
            let signer = NoteSigner::from_seed("example.org/writ", [seed; 32]).unwrap();
            assert_eq!(
                NoteVerifier::parse(&signer.verifier().to_text()).unwrap(),
                signer.verifier()
            );
            assert!(NoteSigner::parse(&signer.to_text()).is_ok());
        }
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(NoteSigner::from_seed("two words", [1; 32]).is_err());
        assert!(NoteSigner::from_seed("a+b", [1; 32]).is_err());
    }
}
