//! The `local` connector: a target system that is a directory of files, for the demo and for
//! tests and benchmarks that need no server. **It is a demo target**: nothing logs in with
//! these accounts, and nothing is protected by these memberships; it exists so that writ's
//! whole grant path (execute, read back, verify, expire, reconcile) can run anywhere.
//!
//! # Layout
//!
//! ```text
//! <path>/accounts/<account>.json               {"key": "svc_billing", "enabled": true}
//! <path>/entitlements/<entitlement>/           the entitlement is declared
//! <path>/entitlements/<entitlement>/<account>  empty file: the account holds the entitlement
//! <path>/credentials/<account>.json            salted SHA-256 of the account's credential
//! ```
//!
//! One file per membership makes every change one atomic file-system call and every check
//! one `stat`: `grant` creates the file (`O_CREAT|O_EXCL`, so a present membership answers
//! "unchanged"), `revoke` unlinks it, `holds` looks it up. Nothing is read, modified and
//! written back, so concurrent grants, from tasks or processes, need no lock and cannot lose
//! each other's updates. `list_grants` walks the folders with two directory handles open at a
//! time, so memory stays flat however many memberships there are. The price is an inode per
//! membership: one million memberships are one million empty files (no data blocks; ext4's
//! inode tables are allocated up front), so check `df -i` before generating ten million.
//!
//! Entitlements must be declared ([`LocalConnector::declare_entitlement`]), as a group role
//! must exist on PostgreSQL: granting an undeclared one, or granting to an account that does
//! not exist, is a permanent error. Keys may hold any character; they are escaped into safe
//! file names (`%XX` for every byte outside `[A-Za-z0-9._-]` and for a leading `.`), and a key
//! too long to be a file name is named by its hash, the file then holding the key. Names
//! starting with `.` are the connector's own (temporary files) and are skipped. Keys differing
//! only in case need a case-sensitive file system (Linux's are).
//!
//! # Durability
//!
//! Every write is atomic: account files are written to a temporary file in the same folder and
//! renamed over; memberships are created or removed in one call. With `"fsync": true` (the
//! default) each write also flushes the file and its folder before it is reported done, so an
//! acknowledged grant survives a power loss; that costs a journal commit per call. With
//! `"fsync": false` a change survives a crash of writ but not of the machine. Measured on the
//! development VM (ext4): a grant takes about 0.13 ms without flushes and 0.35 ms with them
//! (up to 1 ms on a busy disk), a revoke 0.03 ms and 0.17 ms, `holds` 0.02 ms. A benchmark
//! states which setting it ran with; bulk set-up goes through [`LocalConnector::populate`].

mod credentials;
mod directory;
mod listing;
mod names;
mod populate;

#[cfg(test)]
mod tests;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use writ_domain::{AccountKey, ConnectorKind, EntitlementKey};

use self::directory::Directory;
use crate::{Connector, ConnectorError, LiveAccount, LiveGrant, Receipt, Secret};

/// How many memberships `list_grants` sends across from its reading thread at once.
const GRANT_BATCH: usize = 512;
/// How many batches may wait for the reader: the listing's memory bound.
const GRANT_BATCHES_QUEUED: usize = 4;

/// A directory-backed demo target: accounts and memberships are files.
#[derive(Debug, Clone)]
pub struct LocalConnector {
    /// The target directory; shared with the blocking threads that touch it.
    dir: Arc<Directory>,
}

impl LocalConnector {
    /// The target at `path`, flushing every write to disk. Nothing is touched until a call.
    pub fn open(path: impl Into<PathBuf>) -> Self {
        Self {
            dir: Arc::new(Directory::new(path.into(), true)),
        }
    }

    /// The target a system's connector config names: `{"path": "/var/lib/writ/local/x"}`,
    /// optionally with `"fsync": false`.
    pub fn from_config(config: &Value) -> Result<Self, ConnectorError> {
        let Some(settings) = config.as_object() else {
            return Err(ConnectorError::Permanent(
                "the local connector's config must be an object like \
                 `{\"path\": \"/var/lib/writ/local/payments\"}`"
                    .to_owned(),
            ));
        };
        if let Some(unknown) = settings
            .keys()
            .find(|k| !matches!(k.as_str(), "path" | "fsync"))
        {
            return Err(ConnectorError::Permanent(format!(
                "`{unknown}` is not a setting of the local connector (it has `path` and `fsync`)"
            )));
        }
        let path = match settings.get("path") {
            Some(Value::String(path)) if !path.is_empty() => path,
            Some(_) => {
                return Err(ConnectorError::Permanent(
                    "`path` must be a non-empty string".to_owned(),
                ));
            }
            None => {
                return Err(ConnectorError::Permanent(
                    "`path` is required: the directory holding the local target".to_owned(),
                ));
            }
        };
        let fsync = match settings.get("fsync") {
            None => true,
            Some(Value::Bool(fsync)) => *fsync,
            Some(_) => {
                return Err(ConnectorError::Permanent(
                    "`fsync` must be `true` or `false`".to_owned(),
                ));
            }
        };
        Ok(Self::open(path).with_fsync(fsync))
    }

    /// The same target, flushing writes to disk or not (see the module docs).
    pub fn with_fsync(self, fsync: bool) -> Self {
        let mut dir = Arc::unwrap_or_clone(self.dir);
        dir.set_fsync(fsync);
        Self { dir: Arc::new(dir) }
    }

    /// The target's directory.
    pub fn path(&self) -> &Path {
        self.dir.root()
    }

    /// Whether writes are flushed to disk before they are reported done.
    pub fn fsync(&self) -> bool {
        self.dir.fsync()
    }

    /// Creates the directory and its `accounts` and `entitlements` folders if missing.
    pub async fn init(&self) -> Result<(), ConnectorError> {
        self.blocking(|dir| dir.init()).await
    }

    /// Declares an entitlement, so that it can be granted; unchanged if it exists.
    pub async fn declare_entitlement(
        &self,
        entitlement: &EntitlementKey,
    ) -> Result<Receipt, ConnectorError> {
        let key = entitlement.clone();
        let changed = self
            .blocking(move |dir| dir.declare_entitlement(&key))
            .await?;
        Ok(self.receipt(
            "declare_entitlement",
            changed,
            self.dir.entitlement_file(entitlement),
        ))
    }

    /// Fills the target in bulk, for benchmarks and tests: creates the layout, writes each
    /// account (enabled) and each membership, declaring entitlements as grants name them.
    /// Fast (about 30 s per million memberships on a quiet disk here) because it is neither
    /// atomic nor durable whatever the `fsync` setting: run it before anything else uses the
    /// target, and generate again after a crash. The accounts grants name are not checked;
    /// pass them in `accounts`. Existing account files are replaced, memberships kept.
    pub async fn populate<A, G>(&self, accounts: A, grants: G) -> Result<(), ConnectorError>
    where
        A: IntoIterator<Item = AccountKey>,
        A::IntoIter: Send + 'static,
        G: IntoIterator<Item = LiveGrant>,
        G::IntoIter: Send + 'static,
    {
        let accounts = accounts.into_iter();
        let grants = grants.into_iter();
        self.blocking(move |dir| populate::populate(dir, accounts, grants))
            .await
    }

    /// Runs `work` on a blocking thread: file calls, and flushes above all, must not stall
    /// the async executor.
    async fn blocking<T, F>(&self, work: F) -> Result<T, ConnectorError>
    where
        T: Send + 'static,
        F: FnOnce(&Directory) -> Result<T, ConnectorError> + Send + 'static,
    {
        let dir = Arc::clone(&self.dir);
        tokio::task::spawn_blocking(move || work(&dir))
            .await
            .map_err(task_error)?
    }

    /// Runs `work` on one account's or membership's files: on a blocking thread when it
    /// flushes (a flush waits for the disk), else where it is called, as page-cache work of a
    /// few microseconds is cheaper than the hand-off to a thread and back.
    async fn on_file<T, F>(&self, work: F) -> Result<T, ConnectorError>
    where
        T: Send + 'static,
        F: FnOnce(&Directory) -> Result<T, ConnectorError> + Send + 'static,
    {
        if self.dir.fsync() {
            self.blocking(work).await
        } else {
            work(&self.dir)
        }
    }

    /// A receipt naming the file the call looked at or changed.
    fn receipt(&self, operation: &str, changed: bool, file: String) -> Receipt {
        Receipt {
            operation: operation.to_owned(),
            changed,
            detail: json!({
                "target": "local (demo)",
                "file": file,
                "fsync": self.dir.fsync(),
            }),
        }
    }
}

#[async_trait]
impl Connector for LocalConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Local
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.blocking(|dir| dir.check()).await?;
        tracing::info!(
            path = %self.dir.root().display(),
            fsync = self.dir.fsync(),
            "local connector ready: a demo target whose accounts and memberships are files, \
             not a system anything logs in to"
        );
        Ok(())
    }

    async fn list_accounts(&self) -> Result<Vec<LiveAccount>, ConnectorError> {
        self.blocking(|dir| dir.list_accounts()).await
    }

    fn list_grants(&self) -> BoxStream<'_, Result<LiveGrant, ConnectorError>> {
        stream::unfold(Walk::Start(Arc::clone(&self.dir)), Walk::next)
            .flat_map(stream::iter)
            .boxed()
    }

    async fn ensure_account(&self, account: &AccountKey) -> Result<Receipt, ConnectorError> {
        let key = account.clone();
        let changed = self
            .on_file(move |dir| match dir.read_account(&key)? {
                Some(live) if live.enabled => Ok(false),
                _ => dir.write_account(&key, true).map(|()| true),
            })
            .await?;
        Ok(self.receipt("ensure_account", changed, self.dir.account_file(account)))
    }

    async fn disable_account(&self, account: &AccountKey) -> Result<Receipt, ConnectorError> {
        let key = account.clone();
        let outcome = self
            .on_file(move |dir| match dir.read_account(&key)? {
                None => Ok(None),
                Some(live) if !live.enabled => Ok(Some(false)),
                Some(_) => dir.write_account(&key, false).map(|()| Some(true)),
            })
            .await?;
        let mut receipt = self.receipt(
            "disable_account",
            outcome.unwrap_or(false),
            self.dir.account_file(account),
        );
        // An account that does not exist cannot be used either: nothing to do, and said so.
        if let (None, Some(detail)) = (outcome, receipt.detail.as_object_mut()) {
            detail.insert("exists".to_owned(), Value::Bool(false));
        }
        Ok(receipt)
    }

    async fn grant(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<Receipt, ConnectorError> {
        let (key, ent) = (account.clone(), entitlement.clone());
        let changed = self.on_file(move |dir| dir.grant(&key, &ent)).await?;
        Ok(self.receipt(
            "grant",
            changed,
            self.dir.membership_file(account, entitlement),
        ))
    }

    async fn revoke(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<Receipt, ConnectorError> {
        let (key, ent) = (account.clone(), entitlement.clone());
        let changed = self.on_file(move |dir| dir.revoke(&key, &ent)).await?;
        Ok(self.receipt(
            "revoke",
            changed,
            self.dir.membership_file(account, entitlement),
        ))
    }

    async fn holds(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<bool, ConnectorError> {
        let (key, ent) = (account.clone(), entitlement.clone());
        self.on_file(move |dir| dir.holds(&key, &ent)).await
    }

    async fn check_credential(
        &self,
        account: &AccountKey,
        secret: &Secret,
    ) -> Result<bool, ConnectorError> {
        let (key, secret) = (account.clone(), secret.clone());
        self.on_file(move |dir| dir.check_credential(&key, &secret))
            .await
    }

    async fn rotate_credential(
        &self,
        account: &AccountKey,
        new: &Secret,
    ) -> Result<Receipt, ConnectorError> {
        let (key, new) = (account.clone(), new.clone());
        self.on_file(move |dir| dir.set_credential(&key, &new))
            .await?;
        Ok(self.receipt("rotate_credential", true, self.dir.credential_file(account)))
    }
}

/// A batch of listed memberships, or the error that ended the listing.
type Batch = Vec<Result<LiveGrant, ConnectorError>>;

/// The state of a `list_grants` stream: a blocking thread walks the directory and sends
/// batches through a bounded channel, so it runs at most a few batches ahead of the reader,
/// and stops when the reader drops the stream.
enum Walk {
    /// Not polled yet: the thread starts on the first poll, inside the caller's runtime.
    Start(Arc<Directory>),
    /// The thread is walking.
    Running(mpsc::Receiver<Batch>, JoinHandle<()>),
    /// The listing ended.
    Done,
}

impl Walk {
    /// The next batch and the state after it.
    async fn next(self) -> Option<(Batch, Walk)> {
        let (mut batches, walker) = match self {
            Walk::Start(dir) => start_walk(dir),
            Walk::Running(batches, walker) => (batches, walker),
            Walk::Done => return None,
        };
        match batches.recv().await {
            Some(batch) => Some((batch, Walk::Running(batches, walker))),
            // The channel closes when the walk ends; a walk that panicked must not pass for a
            // complete listing, or reconciliation would see every missing grant as revoked.
            None => match walker.await {
                Ok(()) => None,
                Err(e) => Some((vec![Err(task_error(e))], Walk::Done)),
            },
        }
    }
}

/// Starts the thread that walks `dir`'s memberships.
fn start_walk(dir: Arc<Directory>) -> (mpsc::Receiver<Batch>, JoinHandle<()>) {
    let (sender, receiver) = mpsc::channel::<Batch>(GRANT_BATCHES_QUEUED);
    let walker = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(GRANT_BATCH);
        dir.walk_grants(|item| {
            batch.push(item);
            if batch.len() < GRANT_BATCH {
                return ControlFlow::Continue(());
            }
            let full = std::mem::replace(&mut batch, Vec::with_capacity(GRANT_BATCH));
            match sender.blocking_send(full) {
                Ok(()) => ControlFlow::Continue(()),
                // The reader dropped the stream: stop walking.
                Err(_) => ControlFlow::Break(()),
            }
        });
        if !batch.is_empty() {
            // If the reader is gone, nobody needs the rest.
            let _ = sender.blocking_send(batch);
        }
    });
    (receiver, walker)
}

/// A blocking task that did not finish: cancelled at shutdown (retry later) or panicked (a
/// bug; retrying will not help).
fn task_error(e: tokio::task::JoinError) -> ConnectorError {
    if e.is_cancelled() {
        ConnectorError::Transient(format!("local connector call cancelled: {e}"))
    } else {
        ConnectorError::Permanent(format!("local connector call failed: {e}"))
    }
}
