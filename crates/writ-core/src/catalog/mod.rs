//! The declarative catalog: `writ apply -f catalog.yaml` checks a file, plans what it changes
//! against the store and applies the plan in one transaction, with an audit event per
//! created or updated object. Applying the same file twice changes nothing and records nothing.

pub mod file;
pub mod plan;

use std::collections::BTreeMap;

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{Catalog, IdentityStatus, PrincipalId};
use writ_store::Store;

use crate::Clock;
use crate::error::CoreError;
use file::{CatalogFileErrors, FileError, KnownKeys};
use plan::{CatalogPlan, Change};

/// Why a catalog file was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The file has problems; nothing was changed.
    #[error("{0}")]
    Invalid(#[from] CatalogFileErrors),
    /// The file names something that is not there.
    #[error(transparent)]
    Unresolved(#[from] plan::Unresolved),
    /// The store failed; nothing was changed.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<writ_store::StoreError> for ApplyError {
    fn from(err: writ_store::StoreError) -> Self {
        ApplyError::Core(err.into())
    }
}

/// Checks `text` (the catalog file `file`), plans it against the store and, unless
/// `dry_run`, applies it in one transaction. Returns the plan either way.
#[tracing::instrument(skip_all, fields(file, dry_run))]
pub async fn apply(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: Actor,
    file: &str,
    text: &str,
    dry_run: bool,
) -> Result<CatalogPlan, ApplyError> {
    let current = store.catalog().await?;
    let parsed = file::check_catalog(file, text, &KnownKeys::from_catalog(&current))?;
    let now = clock.now();
    let plan = plan::plan(&current, &parsed, now)?;
    if let Some(errors) = CatalogFileErrors::new(orphaned_identities(file, &current, &plan)) {
        return Err(errors.into());
    }
    if !dry_run && plan.has_changes() {
        let events = plan
            .items
            .iter()
            .filter_map(|item| {
                let (verb, fields) = match &item.change {
                    Change::Create => ("created", None),
                    Change::Update(fields) => ("updated", Some(fields)),
                    Change::Unchanged | Change::Kept => return None,
                };
                let data = serde_json::json!({ "key": item.key, "file": file, "fields": fields });
                Some(
                    NewAuditEvent::new(now, actor.clone(), format!("{}.{verb}", item.kind))
                        .subject(SubjectRef::new(item.kind, &item.id))
                        .data(data),
                )
            })
            .collect();
        store
            .apply_catalog(plan.changes.clone(), events, now)
            .await?;
    }
    Ok(plan)
}

/// An identity cannot exist without an active owner: refuses a plan that would leave an
/// active identity owned by an inactive principal (a principal deactivated in the file while
/// still owning identities in the store, say). Their identities are transferred first.
fn orphaned_identities(file: &str, current: &Catalog, plan: &CatalogPlan) -> Vec<FileError> {
    let mut active: BTreeMap<PrincipalId, (bool, String)> = current
        .principals
        .iter()
        .map(|p| (p.id, (p.active, p.email.to_string())))
        .collect();
    for p in &plan.changes.principals {
        active.insert(p.id, (p.active, p.email.to_string()));
    }
    let mut identities: BTreeMap<_, _> = current.identities.iter().map(|i| (i.id, i)).collect();
    for i in &plan.changes.identities {
        identities.insert(i.id, i);
    }
    identities
        .values()
        .filter(|i| i.status == IdentityStatus::Active)
        .filter_map(|i| match active.get(&i.owner) {
            Some((false, email)) => Some(FileError {
                file: file.to_string(),
                path: String::new(),
                message: format!(
                    "identity `{}` would be left with an inactive owner `{email}`: transfer it to an active owner \
                     (or suspend it) in the same change",
                    i.name
                ),
            }),
            _ => None,
        })
        .collect()
}
