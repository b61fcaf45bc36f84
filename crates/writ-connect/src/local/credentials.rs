//! Credentials on the local (demo) target: one file per account holding a salted SHA-256 of
//! its secret, never the secret.
//!
//! ```text
//! <root>/credentials/<account>.json   {"salt": "<hex>", "sha256": "<hex of SHA-256(salt ‖ secret)>"}
//! ```
//!
//! Nothing logs in to a local target, so "the credential works" means "its hash matches this
//! file". One SHA-256 round is enough for the high-entropy secrets writ issues; it is not a
//! password hash, and this is not a system to keep human passwords in.

use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use writ_domain::AccountKey;

use super::directory::{Directory, corrupt, io_error};
use super::names;
use crate::{ConnectorError, Secret};

/// Where credentials live, under the root.
const CREDENTIALS: &str = "credentials";

/// A credential file's contents.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CredentialFile {
    /// 16 random bytes, hex.
    salt: String,
    /// SHA-256 of the salt's bytes followed by the secret's, hex.
    sha256: String,
}

impl Directory {
    /// `<root>/credentials`.
    fn credentials_dir(&self) -> PathBuf {
        self.root().join(CREDENTIALS)
    }

    /// `<root>/credentials/<account>.json`.
    fn credential_path(&self, account: &AccountKey) -> PathBuf {
        let mut name = names::encode(account.as_str()).name;
        name.push_str(".json");
        self.credentials_dir().join(name)
    }

    /// Whether `secret` is the account's credential: the account exists and the stored hash
    /// matches. An account without a credential file has no credential that works.
    pub(super) fn check_credential(
        &self,
        account: &AccountKey,
        secret: &Secret,
    ) -> Result<bool, ConnectorError> {
        if self.read_account(account)?.is_none() {
            return Ok(false);
        }
        let path = self.credential_path(account);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_error("cannot read", &path, &e)),
        };
        let file: CredentialFile = serde_json::from_slice(&bytes)
            .map_err(|e| corrupt(&path, &format!("is not a credential file: {e}")))?;
        let salt = hex::decode(&file.salt).map_err(|_| corrupt(&path, "has a bad salt"))?;
        let expected = hex::decode(&file.sha256).map_err(|_| corrupt(&path, "has a bad digest"))?;
        Ok(constant_time_eq(&digest(&salt, secret), &expected))
    }

    /// Replaces the account's credential file atomically (temporary file, renamed over).
    pub(super) fn set_credential(
        &self,
        account: &AccountKey,
        secret: &Secret,
    ) -> Result<(), ConnectorError> {
        if self.read_account(account)?.is_none() {
            return Err(ConnectorError::Permanent(format!(
                "account `{account}` does not exist on the local target"
            )));
        }
        let dir = self.credentials_dir();
        fs::create_dir_all(&dir).map_err(|e| io_error("cannot create", &dir, &e))?;
        let salt = *uuid::Uuid::new_v4().as_bytes();
        let file = CredentialFile {
            salt: hex::encode(salt),
            sha256: hex::encode(digest(&salt, secret)),
        };
        let body = serde_json::to_vec(&file).map_err(|e| {
            ConnectorError::Permanent(format!("cannot encode the credential of `{account}`: {e}"))
        })?;
        let path = self.credential_path(account);
        let mut temp = tempfile::Builder::new()
            .prefix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| io_error("cannot write in", &dir, &e))?;
        temp.write_all(&body)
            .map_err(|e| io_error("cannot write", temp.path(), &e))?;
        if self.fsync() {
            temp.as_file()
                .sync_all()
                .map_err(|e| io_error("cannot flush", temp.path(), &e))?;
        }
        temp.persist(&path)
            .map_err(|e| io_error("cannot replace", &path, &e.error))?;
        if self.fsync() {
            fs::File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_error("cannot flush", &dir, &e))?;
        }
        Ok(())
    }

    /// The credential file's path relative to the root, for receipts.
    pub(super) fn credential_file(&self, account: &AccountKey) -> String {
        let path = self.credential_path(account);
        path.strip_prefix(self.root())
            .unwrap_or(&path)
            .display()
            .to_string()
    }
}

fn digest(salt: &[u8], secret: &Secret) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(secret.expose().as_bytes());
    hasher.finalize().into()
}

/// Compares without stopping at the first difference, so timing says nothing of the digest.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
