//! Reading a whole local target: every account, and every membership as a walk that holds
//! two directory handles and never the whole list.

use std::fs;
use std::ops::ControlFlow;
use std::path::Path;

use writ_domain::{AccountKey, EntitlementKey};

use super::directory::{Directory, KEY_FILE, corrupt, io_error, parse_account};
use super::names::{self, Decoded};
use crate::{ConnectorError, LiveAccount, LiveGrant};

impl Directory {
    /// Every account.
    pub(super) fn list_accounts(&self) -> Result<Vec<LiveAccount>, ConnectorError> {
        let dir = self.accounts_dir();
        let entries = fs::read_dir(&dir).map_err(|e| io_error("cannot list", &dir, &e))?;
        let mut accounts = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error("cannot list", &dir, &e))?;
            let file_name = entry.file_name();
            let path = entry.path();
            let Some(name) = file_name.to_str() else {
                return Err(corrupt(&path, "is not a file the local connector writes"));
            };
            if name.starts_with('.') {
                continue;
            }
            let decoded = name
                .strip_suffix(".json")
                .map_or(Decoded::Foreign, names::decode);
            let bytes = fs::read(&path).map_err(|e| io_error("cannot read", &path, &e))?;
            let file = parse_account(&path, &bytes)?;
            let named_right = match decoded {
                Decoded::Key(key) => key == file.key.as_str(),
                Decoded::Hashed => name
                    .strip_suffix(".json")
                    .is_some_and(|stem| names::is_name_of(stem, file.key.as_str())),
                Decoded::Internal | Decoded::Foreign => false,
            };
            if !named_right {
                return Err(corrupt(&path, "is not named after the account it holds"));
            }
            accounts.push(LiveAccount {
                key: file.key,
                enabled: file.enabled,
            });
        }
        Ok(accounts)
    }

    /// Walks every membership, handing each to `emit` until it says stop. Holds at most two
    /// directory handles open at a time, never the whole list.
    pub(super) fn walk_grants(
        &self,
        mut emit: impl FnMut(Result<LiveGrant, ConnectorError>) -> ControlFlow<()>,
    ) {
        if let Err(e) = self.try_walk_grants(&mut emit) {
            // The walk ends here either way; whether the reader still listens does not matter.
            let _ = emit(Err(e));
        }
    }

    /// [`Self::walk_grants`], stopping at the first error, which it returns.
    fn try_walk_grants(
        &self,
        emit: &mut impl FnMut(Result<LiveGrant, ConnectorError>) -> ControlFlow<()>,
    ) -> Result<(), ConnectorError> {
        let root = self.entitlements_dir();
        let entitlements = fs::read_dir(&root).map_err(|e| io_error("cannot list", &root, &e))?;
        for entry in entitlements {
            let entry = entry.map_err(|e| io_error("cannot list", &root, &e))?;
            let dir = entry.path();
            let Some(entitlement) = self.entitlement_of(&dir)? else {
                continue;
            };
            let members = fs::read_dir(&dir).map_err(|e| io_error("cannot list", &dir, &e))?;
            for member in members {
                let member = member.map_err(|e| io_error("cannot list", &dir, &e))?;
                let path = member.path();
                let Some(account) = account_of_membership(&path)? else {
                    continue;
                };
                let grant = LiveGrant {
                    account,
                    entitlement: entitlement.clone(),
                };
                if emit(Ok(grant)).is_break() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The entitlement an `entitlements/` entry declares; `None` for the connector's own
    /// (temporary) entries.
    fn entitlement_of(&self, dir: &Path) -> Result<Option<EntitlementKey>, ConnectorError> {
        let key = match file_name_of(dir).map(names::decode) {
            Some(Decoded::Internal) => return Ok(None),
            Some(Decoded::Key(key)) => key,
            Some(Decoded::Hashed) => {
                let key_path = dir.join(KEY_FILE);
                let key = fs::read_to_string(&key_path)
                    .map_err(|e| io_error("cannot read", &key_path, &e))?;
                if !file_name_of(dir).is_some_and(|name| names::is_name_of(name, &key)) {
                    return Err(corrupt(dir, "is not named after the key in its `.key`"));
                }
                key
            }
            Some(Decoded::Foreign) | None => {
                return Err(corrupt(dir, "is not a file the local connector writes"));
            }
        };
        if !dir.is_dir() {
            return Err(corrupt(dir, "is not a directory"));
        }
        EntitlementKey::parse(&key)
            .map(Some)
            .map_err(|e| corrupt(dir, &format!("names no valid entitlement key: {e}")))
    }
}

/// The account a membership file names; `None` for the connector's own (temporary) files.
fn account_of_membership(path: &Path) -> Result<Option<AccountKey>, ConnectorError> {
    let key = match file_name_of(path).map(names::decode) {
        Some(Decoded::Internal) => return Ok(None),
        Some(Decoded::Key(key)) => key,
        Some(Decoded::Hashed) => {
            let key = fs::read_to_string(path).map_err(|e| io_error("cannot read", path, &e))?;
            if !file_name_of(path).is_some_and(|name| names::is_name_of(name, &key)) {
                return Err(corrupt(path, "is not named after the account it holds"));
            }
            key
        }
        Some(Decoded::Foreign) | None => {
            return Err(corrupt(path, "is not a file the local connector writes"));
        }
    };
    AccountKey::parse(&key)
        .map(Some)
        .map_err(|e| corrupt(path, &format!("names no valid account key: {e}")))
}

/// The last component of `path` as text.
fn file_name_of(path: &Path) -> Option<&str> {
    path.file_name().and_then(|name| name.to_str())
}
