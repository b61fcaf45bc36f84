//! Bulk loading of a local target for benchmarks and tests: no temporary files, no flushes,
//! and several writer threads, because creating a file waits on the file system's journal
//! far more than on the CPU (about 30 µs a file here on one thread).

use std::collections::HashSet;
use std::fs;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use writ_domain::AccountKey;

use super::directory::{Directory, account_json, create_empty, io_error, write_new_in};
use super::names::{self, KeyName};
use crate::{ConnectorError, LiveGrant};

/// Threads creating files at once.
const WRITERS: usize = 4;
/// Files handed to a writer at once.
const BATCH: usize = 1024;

/// One file to write.
enum Entry {
    /// An enabled account.
    Account(AccountKey),
    /// A membership whose entitlement is declared already.
    Membership(LiveGrant),
}

/// Writes each account (enabled) and each membership under `root`, declaring entitlements
/// as grants name them. Stops at the first error and returns it.
pub(super) fn populate(
    root: &Directory,
    accounts: impl Iterator<Item = AccountKey>,
    grants: impl Iterator<Item = LiveGrant>,
) -> Result<(), ConnectorError> {
    let bulk = Directory::new(root.root().to_owned(), false);
    bulk.init()?;
    let (sender, receiver) = sync_channel::<Vec<Entry>>(WRITERS * 2);
    let receiver = Mutex::new(receiver);
    let failed = AtomicBool::new(false);
    thread::scope(|scope| {
        let w: usize = std::env::var("PW")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(WRITERS);
        let writers: Vec<_> = (0..w)
            .map(|_| scope.spawn(|| write_batches(&bulk, &receiver, &failed)))
            .collect();
        let mut first_error = produce(&bulk, accounts, grants, &sender, &failed).err();
        // Closing the channel lets the writers finish what is queued and stop.
        drop(sender);
        for writer in writers {
            let outcome = writer.join().unwrap_or_else(|_| {
                Err(ConnectorError::Permanent(
                    "a thread filling the local target panicked".to_owned(),
                ))
            });
            if let Err(e) = outcome {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    })
}

/// Reads the iterators, declares entitlements (few, so remembered) and queues the files.
fn produce(
    bulk: &Directory,
    accounts: impl Iterator<Item = AccountKey>,
    grants: impl Iterator<Item = LiveGrant>,
    sender: &SyncSender<Vec<Entry>>,
    failed: &AtomicBool,
) -> Result<(), ConnectorError> {
    let mut declared = HashSet::new();
    let entries = accounts
        .map(|account| Ok(Entry::Account(account)))
        .chain(grants.map(|grant| {
            if !declared.contains(&grant.entitlement) {
                bulk.declare_entitlement(&grant.entitlement)?;
                declared.insert(grant.entitlement.clone());
            }
            Ok(Entry::Membership(grant))
        }));
    let mut batch = Vec::with_capacity(BATCH);
    for entry in entries {
        batch.push(entry?);
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            // A writer that failed has its error to report; queueing more is pointless.
            if failed.load(Ordering::Relaxed) || sender.send(full).is_err() {
                return Ok(());
            }
        }
    }
    // If every writer is gone, they said why.
    let _ = sender.send(batch);
    Ok(())
}

/// Takes batches off the queue and writes them, until the queue closes or a write fails.
fn write_batches(
    bulk: &Directory,
    receiver: &Mutex<Receiver<Vec<Entry>>>,
    failed: &AtomicBool,
) -> Result<(), ConnectorError> {
    loop {
        let next = match receiver.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => {
                return Err(ConnectorError::Permanent(
                    "a thread filling the local target panicked".to_owned(),
                ));
            }
        };
        let Ok(batch) = next else {
            return Ok(());
        };
        for entry in batch {
            if let Err(e) = write(bulk, &entry) {
                failed.store(true, Ordering::Relaxed);
                return Err(e);
            }
        }
    }
}

/// Writes one file, replacing an account file, keeping an existing membership.
fn write(bulk: &Directory, entry: &Entry) -> Result<(), ConnectorError> {
    match entry {
        Entry::Account(account) => {
            let path = bulk.account_path(account);
            fs::write(&path, account_json(account, true)?)
                .map_err(|e| io_error("cannot write", &path, &e))
        }
        Entry::Membership(grant) => {
            let dir = bulk.entitlement_dir(&grant.entitlement);
            let KeyName { name, hashed } = names::encode(grant.account.as_str());
            let path = dir.join(name);
            let written = if hashed {
                write_new_in(&dir, &path, grant.account.as_str().as_bytes(), false)
            } else {
                create_empty(&path, false)
            };
            written
                .map(drop)
                .map_err(|e| io_error("cannot create", &path, &e))
        }
    }
}
