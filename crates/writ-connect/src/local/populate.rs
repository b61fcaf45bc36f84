//! Bulk loading of a local target for benchmarks and tests: no temporary files, no flushes,
//! one thread. (Writer threads were tried: creating files in the same folders, they contend
//! for its lock and the file system's journal and were no faster.)

use std::collections::HashSet;
use std::fs;

use writ_domain::AccountKey;

use super::directory::{Directory, account_json, create_empty, io_error, write_new_in};
use super::names::{self, KeyName};
use crate::{ConnectorError, LiveGrant};

/// Writes each account (enabled) and each membership under `target`'s root, declaring
/// entitlements as grants name them. Stops at the first error and returns it.
pub(super) fn populate(
    target: &Directory,
    accounts: impl Iterator<Item = AccountKey>,
    grants: impl Iterator<Item = LiveGrant>,
) -> Result<(), ConnectorError> {
    let bulk = Directory::new(target.root().to_owned(), false);
    bulk.init()?;
    for account in accounts {
        let path = bulk.account_path(&account);
        fs::write(&path, account_json(&account, true)?)
            .map_err(|e| io_error("cannot write", &path, &e))?;
    }
    // Entitlements are few next to memberships: remember which are declared already.
    let mut declared = HashSet::new();
    for grant in grants {
        if !declared.contains(&grant.entitlement) {
            bulk.declare_entitlement(&grant.entitlement)?;
            declared.insert(grant.entitlement.clone());
        }
        let dir = bulk.entitlement_dir(&grant.entitlement);
        let KeyName { name, hashed } = names::encode(grant.account.as_str());
        let path = dir.join(name);
        let written = if hashed {
            write_new_in(&dir, &path, grant.account.as_str().as_bytes(), false)
        } else {
            create_empty(&path, false)
        };
        written.map_err(|e| io_error("cannot create", &path, &e))?;
    }
    Ok(())
}
