//! Evidence bundles: everything about one request an auditor needs, checkable offline with the
//! public key alone. A bundle holds every audit event that touches the request and its grants
//! (each carrying what writ recorded: policy decisions with their policy ids and policy-set
//! hash, approvals bound to the plan hash, connector receipts and live-state read-backs), an
//! inclusion proof of each event in the signed checkpoint, and that checkpoint.
//!
//! Verification recomputes each event's hash from its fields, proves it in the tree the
//! checkpoint signs, checks the signature, and insists that the file is byte for byte the
//! canonical form of what it holds, so changing any byte of a bundle fails.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::audit::{AuditEvent, AuditHash};
use crate::checkpoint::{CheckpointError, NoteVerifier};
use crate::merkle::{TreeHash, leaf_hash, verify_inclusion};
use crate::time::Timestamp;

/// The format tag of this bundle layout.
pub const FORMAT: &str = "writ-evidence-bundle/1";

/// One request's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBundle {
    /// [`FORMAT`].
    pub format: String,
    /// The request's number, `REQ-…`.
    pub request: String,
    /// The request's id, as its events name it (`request:<id>`).
    pub request_id: String,
    /// The signed checkpoint every event is proven in (a C2SP signed note).
    pub checkpoint: String,
    /// The events, in log order.
    pub events: Vec<BundledEvent>,
}

/// An audit event as stored, with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundledEvent {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When, in microseconds since the epoch.
    pub at_micros: i64,
    /// Who caused it.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// The things it touched.
    pub subjects: Vec<String>,
    /// Its details, as the exact JSON text that was hashed.
    pub data: String,
    /// The previous event's hash, hex.
    pub prev_hash: String,
    /// Its hash, hex.
    pub hash: String,
    /// The tree hashes, hex, that prove leaf `seq - 1` in the checkpoint's tree.
    pub inclusion_proof: Vec<String>,
}

impl BundledEvent {
    /// The stored event and its proof, for a bundle.
    pub fn new(event: &AuditEvent, proof: &[TreeHash]) -> Self {
        Self {
            seq: event.seq,
            at_micros: event.at.as_micros(),
            actor: event.actor.clone(),
            action: event.action.clone(),
            subjects: event.subjects.clone(),
            data: event.data.clone(),
            prev_hash: event.prev_hash.to_string(),
            hash: event.hash.to_string(),
            inclusion_proof: proof.iter().map(hex::encode).collect(),
        }
    }
}

/// Why a bundle does not verify: the first problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Not JSON of the bundle's shape.
    #[error("not an evidence bundle: {0}")]
    Unreadable(String),
    /// Valid JSON, but not byte for byte what writ writes: something was edited.
    #[error("the file is not in canonical form: it was changed after export")]
    NotCanonical,
    /// Another layout.
    #[error("unknown bundle format `{0}` (expected `{FORMAT}`)")]
    Format(String),
    /// The checkpoint's signature or text.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// An event whose fields no longer give its hash.
    #[error("event {0} was altered: its fields do not give its hash")]
    Altered(u64),
    /// An event not in the signed tree.
    #[error("event {0} is not in the signed tree: its inclusion proof fails")]
    NotIncluded(u64),
    /// An event that does not belong to the request.
    #[error("event {0} does not touch request {1} or its grants")]
    Unrelated(u64, String),
    /// The bundle names a request number its events do not.
    #[error("the bundle says {0}, but its events record another request number")]
    Number(String),
    /// Events out of order or repeated.
    #[error("events are out of log order at seq {0}")]
    Order(u64),
    /// No events at all.
    #[error("the bundle holds no event of its request")]
    Empty,
    /// An event that belongs neither to the campaign nor to the revocations it filed.
    #[error("event {0} does not touch campaign `{1}`, the revocations it filed or their grants")]
    NotOfCampaign(u64, String),
    /// The bundle names a campaign its events do not.
    #[error("the bundle says campaign `{0}`, but its events record another name")]
    CampaignName(String),
}

/// What a verified bundle shows, for people.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// The request's number.
    pub request: String,
    /// Its kind.
    pub kind: String,
    /// Who asked (the submitting actor).
    pub requester: String,
    /// When.
    pub submitted_at: Option<Timestamp>,
    /// The policy ids and policy-set hash it was decided under.
    pub decision: String,
    /// Each approval: who, which stage, under which plan hash.
    pub approvals: Vec<String>,
    /// What was executed and read back.
    pub executed: Vec<String>,
    /// When the live state was read back as changed.
    pub verified_at: Option<String>,
    /// When the access ended (read back as gone), if it has.
    pub ended: Option<String>,
    /// How many events, and the checkpoint size they are proven in.
    pub events: usize,
    /// The signed tree size.
    pub checkpoint_size: u64,
}

impl EvidenceBundle {
    /// The bundle as the bytes writ writes (pretty JSON and a final newline); verification
    /// accepts exactly these bytes.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        // Serialising plain strings, numbers and vectors cannot fail.
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Checks `bytes` as a bundle against `verifier` and summarises it.
    pub fn verify(bytes: &[u8], verifier: &NoteVerifier) -> Result<Summary, BundleError> {
        let bundle: EvidenceBundle =
            serde_json::from_slice(bytes).map_err(|e| BundleError::Unreadable(e.to_string()))?;
        if bundle.to_canonical_bytes() != bytes {
            return Err(BundleError::NotCanonical);
        }
        if bundle.format != FORMAT {
            return Err(BundleError::Format(bundle.format));
        }
        let checkpoint = verifier.verify(&bundle.checkpoint)?;
        let request_subject = format!("request:{}", bundle.request_id);
        let grants: Vec<&str> = bundle
            .events
            .iter()
            .filter(|e| e.subjects.contains(&request_subject))
            .flat_map(|e| e.subjects.iter().filter(|s| s.starts_with("grant:")))
            .map(String::as_str)
            .collect();
        check_proven(&bundle.events, &checkpoint)?;
        for bundled in &bundle.events {
            let related = bundled
                .subjects
                .iter()
                .any(|s| *s == request_subject || grants.contains(&s.as_str()));
            if !related {
                return Err(BundleError::Unrelated(bundled.seq, bundle.request.clone()));
            }
        }
        // The number is authenticated by the events that record it.
        let numbers: Vec<String> = bundle
            .events
            .iter()
            .filter(|e| e.subjects.contains(&request_subject))
            .filter_map(|e| {
                let data: serde_json::Value = serde_json::from_str(&e.data).ok()?;
                data.get("number")?.as_str().map(str::to_string)
            })
            .collect();
        if numbers.is_empty() || numbers.iter().any(|n| *n != bundle.request) {
            return Err(BundleError::Number(bundle.request.clone()));
        }
        Ok(summarise(&bundle, checkpoint.size))
    }
}

/// Checks that `events` are in log order, each intact (its fields give its hash) and proven
/// in `checkpoint`'s tree, and that there is at least one.
pub(crate) fn check_proven(
    events: &[BundledEvent],
    checkpoint: &crate::checkpoint::Checkpoint,
) -> Result<(), BundleError> {
    let mut previous = 0;
    for bundled in events {
        if bundled.seq <= previous {
            return Err(BundleError::Order(bundled.seq));
        }
        previous = bundled.seq;
        let event = to_event(bundled).ok_or(BundleError::Altered(bundled.seq))?;
        if !event.hash_is_intact() {
            return Err(BundleError::Altered(bundled.seq));
        }
        let proof: Option<Vec<TreeHash>> = bundled
            .inclusion_proof
            .iter()
            .map(|p| hex::decode(p).ok().and_then(|b| TreeHash::try_from(b).ok()))
            .collect();
        let included = proof.is_some_and(|proof| {
            verify_inclusion(
                bundled.seq - 1,
                checkpoint.size,
                &leaf_hash(&event.hash.0),
                &proof,
                &checkpoint.root,
            )
        });
        if !included {
            return Err(BundleError::NotIncluded(bundled.seq));
        }
    }
    if events.is_empty() {
        return Err(BundleError::Empty);
    }
    Ok(())
}

fn to_event(bundled: &BundledEvent) -> Option<AuditEvent> {
    Some(AuditEvent {
        seq: bundled.seq,
        at: Timestamp::from_micros(bundled.at_micros),
        actor: bundled.actor.clone(),
        action: bundled.action.clone(),
        subjects: bundled.subjects.clone(),
        data: bundled.data.clone(),
        prev_hash: bundled.prev_hash.parse::<AuditHash>().ok()?,
        hash: bundled.hash.parse::<AuditHash>().ok()?,
    })
}

/// Reads the verified events into what a person asks first.
fn summarise(bundle: &EvidenceBundle, checkpoint_size: u64) -> Summary {
    let mut summary = Summary {
        request: bundle.request.clone(),
        events: bundle.events.len(),
        checkpoint_size,
        ..Summary::default()
    };
    for event in &bundle.events {
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
        let text = |key: &str| {
            data.get(key)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let at = Timestamp::from_micros(event.at_micros);
        match event.action.as_str() {
            "request.submitted" | "request.rejected" => {
                summary.kind = text("kind");
                summary.requester = event.actor.clone();
                summary.submitted_at = Some(at);
                let decision = &data["decision"];
                summary.decision = format!(
                    "{} by policies {} (policy set {})",
                    if decision["allowed"].as_bool() == Some(true) {
                        "allowed"
                    } else {
                        "refused"
                    },
                    decision["policy_ids"],
                    decision["policy_set_hash"].as_str().unwrap_or("")
                );
            }
            "approval.recorded" | "request.approved" | "request.denied" => {
                summary.approvals.push(format!(
                    "{} {} stage `{}` at {at} (plan {})",
                    event.actor,
                    text("decision"),
                    text("stage"),
                    text("plan_hash")
                ));
            }
            "request.fulfilled" => {
                summary.verified_at = Some(text("verified_at"));
                for item in data["evidence"].as_array().into_iter().flatten() {
                    summary.executed.push(format!(
                        "{}: {}",
                        item["kind"].as_str().unwrap_or(""),
                        item["data"]
                    ));
                }
            }
            "grant.revoked" | "request.revoked" => {
                summary.ended = Some(at.to_string());
            }
            _ => {}
        }
    }
    summary
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "request      {} ({})", self.request, self.kind)?;
        writeln!(
            f,
            "asked by     {} at {}",
            self.requester,
            self.submitted_at.map(|t| t.to_string()).unwrap_or_default()
        )?;
        writeln!(f, "decided      {}", self.decision)?;
        for approval in &self.approvals {
            writeln!(f, "approval     {approval}")?;
        }
        for executed in &self.executed {
            writeln!(f, "executed     {executed}")?;
        }
        writeln!(
            f,
            "verified at  {}",
            self.verified_at.as_deref().unwrap_or("not yet")
        )?;
        writeln!(
            f,
            "ended        {}",
            self.ended.as_deref().unwrap_or("not yet")
        )?;
        write!(
            f,
            "proof        {} events, each included in the signed tree of {} events",
            self.events, self.checkpoint_size
        )
    }
}
