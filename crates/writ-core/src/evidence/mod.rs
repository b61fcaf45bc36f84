//! Evidence an auditor can verify offline: the audit log's Merkle tree (RFC 6962), signed
//! checkpoints of it, `audit verify` against them, and per-request evidence bundles whose every
//! event carries an inclusion proof in a signed checkpoint.

mod bundle;
mod campaign;
mod checkpoint;
mod tree;
mod verify;

pub use bundle::{Bundles, request_events};
pub use checkpoint::{Checkpointer, generate_keys, read_signer, read_verifier};
pub use tree::{AuditTree, TILE};
pub use verify::{VerifiedLog, verify_log};
