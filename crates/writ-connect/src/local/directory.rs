//! The target directory and its blocking file operations on one account, entitlement or
//! membership at a time (whole-target reads are in `listing.rs`); `mod.rs` runs them off the
//! async executor.
//!
//! ```text
//! <root>/accounts/<account>.json          {"key": "svc_billing", "enabled": true}
//! <root>/entitlements/<entitlement>/      exists = the entitlement is declared
//! <root>/entitlements/<entitlement>/<account>   empty file = the account holds it
//! ```
//!
//! Names are escaped keys (see `names.rs`); a hashed name's file holds the key instead of
//! being empty (a hashed entitlement directory holds it in `.key`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use writ_domain::{AccountKey, EntitlementKey};

use super::names::{self, KeyName};
use crate::{ConnectorError, LiveAccount};

/// Where accounts live, under the root.
const ACCOUNTS: &str = "accounts";
/// Where entitlements and their members live, under the root.
const ENTITLEMENTS: &str = "entitlements";
/// The file that names a hashed entitlement directory's key.
pub(super) const KEY_FILE: &str = ".key";

/// An account file's contents.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct AccountFile {
    /// The account's key, exactly.
    pub(super) key: AccountKey,
    /// Whether the account can be used.
    pub(super) enabled: bool,
}

/// The target directory.
#[derive(Debug, Clone)]
pub(super) struct Directory {
    /// The root of the target.
    root: PathBuf,
    /// Whether writes are flushed to disk before they are reported done.
    fsync: bool,
}

impl Directory {
    /// The target under `root`; nothing is touched yet.
    pub(super) fn new(root: PathBuf, fsync: bool) -> Self {
        Self { root, fsync }
    }

    /// The root directory.
    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    /// Whether writes are flushed to disk.
    pub(super) fn fsync(&self) -> bool {
        self.fsync
    }

    /// Turns flushing on or off.
    pub(super) fn set_fsync(&mut self, fsync: bool) {
        self.fsync = fsync;
    }

    /// Creates the root and its two folders if they are missing.
    pub(super) fn init(&self) -> Result<(), ConnectorError> {
        for dir in [self.accounts_dir(), self.entitlements_dir()] {
            fs::create_dir_all(&dir).map_err(|e| io_error("cannot create", &dir, &e))?;
        }
        if self.fsync {
            sync_dir(&self.root)?;
        }
        Ok(())
    }

    /// Checks the root and its folders exist and that a file can be written in the root.
    pub(super) fn check(&self) -> Result<(), ConnectorError> {
        for dir in [
            self.root.clone(),
            self.accounts_dir(),
            self.entitlements_dir(),
        ] {
            match fs::metadata(&dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(ConnectorError::Permanent(format!(
                        "`{}` is not a directory",
                        dir.display()
                    )));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(ConnectorError::Permanent(format!(
                        "`{}` does not exist: not an initialized local target",
                        dir.display()
                    )));
                }
                Err(e) => return Err(io_error("cannot read", &dir, &e)),
            }
        }
        // The probe is a temporary file, removed when dropped; its name starts with `.`, so a
        // listing running at the same time skips it.
        tempfile::Builder::new()
            .prefix(".check")
            .tempfile_in(&self.root)
            .map(drop)
            .map_err(|e| io_error("cannot write in", &self.root, &e))
    }

    /// The account, if it exists.
    pub(super) fn read_account(
        &self,
        account: &AccountKey,
    ) -> Result<Option<LiveAccount>, ConnectorError> {
        let path = self.account_path(account);
        match fs::read(&path) {
            Ok(bytes) => {
                let file = parse_account(&path, &bytes)?;
                if file.key != *account {
                    return Err(corrupt(&path, "holds another account's key"));
                }
                Ok(Some(LiveAccount {
                    key: file.key,
                    enabled: file.enabled,
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("cannot read", &path, &e)),
        }
    }

    /// Writes the account file atomically: a temporary file in the same folder, renamed over.
    pub(super) fn write_account(
        &self,
        account: &AccountKey,
        enabled: bool,
    ) -> Result<(), ConnectorError> {
        let dir = self.accounts_dir();
        let path = self.account_path(account);
        let body = account_json(account, enabled)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| io_error("cannot write in", &dir, &e))?;
        temp.write_all(&body)
            .map_err(|e| io_error("cannot write", temp.path(), &e))?;
        if self.fsync {
            temp.as_file()
                .sync_all()
                .map_err(|e| io_error("cannot flush", temp.path(), &e))?;
        }
        temp.persist(&path)
            .map_err(|e| io_error("cannot replace", &path, &e.error))?;
        if self.fsync {
            sync_dir(&dir)?;
        }
        Ok(())
    }

    /// Declares the entitlement; `false` if it was declared already.
    pub(super) fn declare_entitlement(
        &self,
        entitlement: &EntitlementKey,
    ) -> Result<bool, ConnectorError> {
        let parent = self.entitlements_dir();
        let KeyName { name, hashed } = names::encode(entitlement.as_str());
        let path = parent.join(&name);
        let created = if hashed {
            // The directory must never be seen without its `.key`: build it aside, then
            // rename it into place. A declared hashed directory is never empty, so the rename
            // cannot replace it.
            let temp = tempfile::Builder::new()
                .prefix(".tmp")
                .tempdir_in(&parent)
                .map_err(|e| io_error("cannot write in", &parent, &e))?;
            let key_path = temp.path().join(KEY_FILE);
            write_new(&key_path, entitlement.as_str().as_bytes(), self.fsync)?;
            match fs::rename(temp.path(), &path) {
                Ok(()) => {
                    // The temporary path no longer exists; keep `TempDir` from removing it.
                    let _ = temp.keep();
                    true
                }
                Err(_) if path.is_dir() => false,
                Err(e) => return Err(io_error("cannot create", &path, &e)),
            }
        } else {
            match fs::create_dir(&path) {
                Ok(()) => true,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => false,
                Err(e) => return Err(io_error("cannot create", &path, &e)),
            }
        };
        if created && self.fsync {
            sync_dir(&parent)?;
        }
        Ok(created)
    }

    /// Gives the account the entitlement; `false` if it held it already.
    pub(super) fn grant(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<bool, ConnectorError> {
        let account_path = self.account_path(account);
        match fs::metadata(&account_path) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ConnectorError::Permanent(format!(
                    "account `{account}` does not exist on the local target"
                )));
            }
            Err(e) => return Err(io_error("cannot read", &account_path, &e)),
        }
        let dir = self.entitlement_dir(entitlement);
        let KeyName { name, hashed } = names::encode(account.as_str());
        let path = dir.join(name);
        let created = if hashed {
            write_new_in(&dir, &path, account.as_str().as_bytes(), self.fsync)
        } else {
            create_empty(&path, self.fsync)
        };
        let created = match created {
            Ok(created) => created,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !dir.is_dir() => {
                return Err(ConnectorError::Permanent(format!(
                    "entitlement `{entitlement}` is not declared on the local target"
                )));
            }
            Err(e) => return Err(io_error("cannot create", &path, &e)),
        };
        if created && self.fsync {
            sync_dir(&dir)?;
        }
        Ok(created)
    }

    /// Takes the entitlement from the account; `false` if it did not hold it (including when
    /// the account or the entitlement does not exist: the access is absent either way).
    pub(super) fn revoke(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<bool, ConnectorError> {
        let dir = self.entitlement_dir(entitlement);
        let path = self.membership_path(account, entitlement);
        match fs::remove_file(&path) {
            Ok(()) => {
                if self.fsync {
                    sync_dir(&dir)?;
                }
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error("cannot remove", &path, &e)),
        }
    }

    /// Whether the account holds the entitlement, read from disk.
    pub(super) fn holds(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<bool, ConnectorError> {
        let path = self.membership_path(account, entitlement);
        match fs::symlink_metadata(&path) {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            // A missing entitlement folder makes the path's parent a non-directory at worst.
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => Ok(false),
            Err(e) => Err(io_error("cannot read", &path, &e)),
        }
    }

    /// `<root>/accounts`.
    pub(super) fn accounts_dir(&self) -> PathBuf {
        self.root.join(ACCOUNTS)
    }

    /// `<root>/entitlements`.
    pub(super) fn entitlements_dir(&self) -> PathBuf {
        self.root.join(ENTITLEMENTS)
    }

    /// `<root>/accounts/<account>.json`.
    pub(super) fn account_path(&self, account: &AccountKey) -> PathBuf {
        let mut name = names::encode(account.as_str()).name;
        name.push_str(".json");
        self.accounts_dir().join(name)
    }

    /// `<root>/entitlements/<entitlement>`.
    pub(super) fn entitlement_dir(&self, entitlement: &EntitlementKey) -> PathBuf {
        self.entitlements_dir()
            .join(names::encode(entitlement.as_str()).name)
    }

    /// `<root>/entitlements/<entitlement>/<account>`.
    fn membership_path(&self, account: &AccountKey, entitlement: &EntitlementKey) -> PathBuf {
        self.entitlement_dir(entitlement)
            .join(names::encode(account.as_str()).name)
    }

    /// `path` relative to the root, for receipts.
    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// The account file's path relative to the root, for receipts.
    pub(super) fn account_file(&self, account: &AccountKey) -> String {
        self.relative(&self.account_path(account))
    }

    /// The membership file's path relative to the root, for receipts.
    pub(super) fn membership_file(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> String {
        self.relative(&self.membership_path(account, entitlement))
    }

    /// The entitlement folder's path relative to the root, for receipts.
    pub(super) fn entitlement_file(&self, entitlement: &EntitlementKey) -> String {
        self.relative(&self.entitlement_dir(entitlement))
    }
}

/// An account file's bytes.
pub(super) fn account_json(account: &AccountKey, enabled: bool) -> Result<Vec<u8>, ConnectorError> {
    let file = AccountFile {
        key: account.clone(),
        enabled,
    };
    let mut body = serde_json::to_vec(&file).map_err(|e| {
        ConnectorError::Permanent(format!("cannot encode account `{account}`: {e}"))
    })?;
    body.push(b'\n');
    Ok(body)
}

/// Parses an account file.
pub(super) fn parse_account(path: &Path, bytes: &[u8]) -> Result<AccountFile, ConnectorError> {
    serde_json::from_slice(bytes)
        .map_err(|e| corrupt(path, &format!("is not an account file: {e}")))
}

/// Creates an empty file; `false` if it existed. The creation itself is atomic.
pub(super) fn create_empty(path: &Path, fsync: bool) -> io::Result<bool> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(file) => {
            if fsync {
                file.sync_all()?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes `body` to a new file at `path` in `dir`, atomically and without replacing an
/// existing one; `false` if it existed.
pub(super) fn write_new_in(dir: &Path, path: &Path, body: &[u8], fsync: bool) -> io::Result<bool> {
    let mut temp = tempfile::Builder::new().prefix(".tmp").tempfile_in(dir)?;
    temp.write_all(body)?;
    if fsync {
        temp.as_file().sync_all()?;
    }
    match temp.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e.error),
    }
}

/// Writes `body` to a new file at `path` (inside a folder nobody else sees yet).
fn write_new(path: &Path, body: &[u8], fsync: bool) -> Result<(), ConnectorError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| io_error("cannot create", path, &e))?;
    file.write_all(body)
        .map_err(|e| io_error("cannot write", path, &e))?;
    if fsync {
        file.sync_all()
            .map_err(|e| io_error("cannot flush", path, &e))?;
    }
    Ok(())
}

/// Flushes a directory, so that names created, renamed or removed in it survive a power loss.
fn sync_dir(dir: &Path) -> Result<(), ConnectorError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("cannot flush", dir, &e))
}

/// A file that the connector did not write as it is: permanent, a retry reads it again.
pub(super) fn corrupt(path: &Path, what: &str) -> ConnectorError {
    ConnectorError::Permanent(format!("local target damaged: `{}` {what}", path.display()))
}

/// An I/O error as a connector error: permanent when only a person can fix it (rights, a
/// read-only or missing directory, a name the file system refuses), transient otherwise.
pub(super) fn io_error(doing: &str, path: &Path, e: &io::Error) -> ConnectorError {
    use io::ErrorKind as K;
    let message = format!("{doing} `{}`: {e}", path.display());
    match e.kind() {
        K::NotFound
        | K::PermissionDenied
        | K::ReadOnlyFilesystem
        | K::NotADirectory
        | K::IsADirectory
        | K::InvalidFilename
        | K::InvalidInput
        | K::AlreadyExists => ConnectorError::Permanent(message),
        _ => ConnectorError::Transient(message),
    }
}
