//! The audit log's events and the hash chain that links them.
//!
//! `hash = SHA-256(prev_hash || canonical bytes of the event)`, where the canonical bytes are a
//! versioned, length-prefixed encoding of every stored field (seq included, so a reordering
//! breaks the chain). The event's data is hashed as the exact JSON text that is stored.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::ParseError;
use crate::time::Timestamp;

/// Domain tag that starts every event's canonical bytes; a new encoding gets a new tag.
const CANONICAL_TAG: &[u8] = b"writ-audit-v1\0";

/// A SHA-256 digest in the audit chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditHash(pub [u8; 32]);

impl AuditHash {
    /// The `prev_hash` of the first event.
    pub const GENESIS: AuditHash = AuditHash([0; 32]);

    /// Reads a digest from stored bytes, which must be exactly 32 long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ParseError> {
        <[u8; 32]>::try_from(bytes)
            .map(Self)
            .map_err(|_| ParseError::new("audit hash", hex::encode(bytes), "expected 32 bytes"))
    }
}

impl fmt::Display for AuditHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for AuditHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditHash({self})")
    }
}

impl FromStr for AuditHash {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = hex::decode(s).map_err(|e| ParseError::new("audit hash", s, e.to_string()))?;
        Self::from_slice(&bytes)
    }
}

/// Who caused an event: `principal:<id>` for a person, `system:<component>` for writ itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor(String);

impl Actor {
    /// A principal acting through the API, the portal or the CLI.
    pub fn principal(id: crate::id::PrincipalId) -> Self {
        Self(format!("principal:{id}"))
    }

    /// A component of writ acting on its own (the job runner, a migration, a schedule).
    pub fn system(component: &str) -> Self {
        Self(format!("system:{component}"))
    }

    /// The stored text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reference from an event to a thing it touches, as `kind:id` (e.g. `request:0193…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubjectRef(String);

impl SubjectRef {
    /// A reference to a `kind` of thing by its id.
    pub fn new(kind: &str, id: impl fmt::Display) -> Self {
        Self(format!("{kind}:{id}"))
    }

    /// The stored text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An event to append; the store assigns its `seq` and links it into the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    /// When the change happened (from the injected clock).
    pub at: Timestamp,
    /// Who caused it.
    pub actor: Actor,
    /// What happened, as `noun.verb` (e.g. `principal.created`, `job.dead_lettered`).
    pub action: String,
    /// The things it touched.
    pub subjects: Vec<SubjectRef>,
    /// Details of the change.
    pub data: serde_json::Value,
}

impl NewAuditEvent {
    /// An event with no subjects and empty data; add them with the builder methods.
    pub fn new(at: Timestamp, actor: Actor, action: impl Into<String>) -> Self {
        Self {
            at,
            actor,
            action: action.into(),
            subjects: Vec::new(),
            data: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// Adds a subject.
    pub fn subject(mut self, subject: SubjectRef) -> Self {
        self.subjects.push(subject);
        self
    }

    /// Sets the data.
    pub fn data(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }

    /// Adds one field to the data object (data that is not an object is left as it is).
    pub fn data_field(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        if let serde_json::Value::Object(fields) = &mut self.data {
            fields.insert(key.to_string(), value.into());
        }
        self
    }

    /// Gives the event its place in the chain: `seq` after an event whose hash is `prev_hash`.
    pub fn seal(self, seq: u64, prev_hash: AuditHash) -> AuditEvent {
        let mut event = AuditEvent {
            seq,
            at: self.at,
            actor: self.actor.0,
            action: self.action,
            subjects: self.subjects.into_iter().map(|s| s.0).collect(),
            data: canonical_json(self.data).to_string(),
            prev_hash,
            hash: AuditHash::GENESIS,
        };
        event.hash = event.computed_hash();
        event
    }
}

/// `value` with every object's keys in sorted order, so the stored text of equal data is equal
/// whatever order it was built in (and whether or not serde_json preserves insertion order).
fn canonical_json(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(fields) => {
            let mut fields: Vec<_> = fields.into_iter().collect();
            fields.sort_by(|(a, _), (b, _)| a.cmp(b));
            serde_json::Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k, canonical_json(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(canonical_json).collect())
        }
        other => other,
    }
}

/// One entry of the append-only audit log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// When the change happened.
    pub at: Timestamp,
    /// Who caused it (`principal:<id>` or `system:<component>`).
    pub actor: String,
    /// What happened (`noun.verb`).
    pub action: String,
    /// The things it touched (`kind:id`).
    pub subjects: Vec<String>,
    /// Details as the exact JSON text that was hashed.
    pub data: String,
    /// The previous event's hash ([`AuditHash::GENESIS`] for the first).
    pub prev_hash: AuditHash,
    /// `SHA-256(prev_hash || canonical bytes)`.
    pub hash: AuditHash,
}

impl AuditEvent {
    /// Recomputes this event's hash from its stored fields and its stored `prev_hash`.
    pub fn computed_hash(&self) -> AuditHash {
        let mut h = Sha256::new();
        h.update(self.prev_hash.0);
        h.update(CANONICAL_TAG);
        h.update(self.seq.to_be_bytes());
        h.update(self.at.as_micros().to_be_bytes());
        update_field(&mut h, self.actor.as_bytes());
        update_field(&mut h, self.action.as_bytes());
        h.update(len_prefix(self.subjects.len()));
        for subject in &self.subjects {
            update_field(&mut h, subject.as_bytes());
        }
        update_field(&mut h, self.data.as_bytes());
        AuditHash(h.finalize().into())
    }

    /// Whether the stored hash matches the stored fields.
    pub fn hash_is_intact(&self) -> bool {
        self.computed_hash() == self.hash
    }
}

fn len_prefix(len: usize) -> [u8; 8] {
    (len as u64).to_be_bytes()
}

fn update_field(h: &mut Sha256, bytes: &[u8]) {
    h.update(len_prefix(bytes.len()));
    h.update(bytes);
}

/// What is wrong at the first bad place of a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainFault {
    /// An event is missing: the log jumps from `seq - 1` to `found`.
    #[error("audit event {seq} is missing (the log jumps to {found})")]
    Missing {
        /// The first missing seq.
        seq: u64,
        /// The seq found in its place.
        found: u64,
    },
    /// The event's fields no longer produce its stored hash: it was altered or moved.
    #[error("audit event {seq} was altered: its hash does not match its content")]
    Altered {
        /// The bad event's seq.
        seq: u64,
    },
    /// The event does not link to the one before it.
    #[error("audit event {seq} does not link to event {}: the chain was broken before it", seq - 1)]
    Unlinked {
        /// The bad event's seq.
        seq: u64,
    },
}

impl ChainFault {
    /// The first bad seq.
    pub fn seq(&self) -> u64 {
        match self {
            ChainFault::Missing { seq, .. }
            | ChainFault::Altered { seq }
            | ChainFault::Unlinked { seq } => *seq,
        }
    }
}

/// Walks a chain in seq order and stops at the first fault.
///
/// Checking an event's own hash ([`AuditEvent::hash_is_intact`]) is independent per event, so
/// callers may do that in parallel and feed only the link checks here in order.
#[derive(Debug, Clone)]
pub struct ChainWalk {
    next_seq: u64,
    prev_hash: AuditHash,
}

impl Default for ChainWalk {
    fn default() -> Self {
        Self {
            next_seq: 1,
            prev_hash: AuditHash::GENESIS,
        }
    }
}

impl ChainWalk {
    /// Checks that `event` is the next one and links to its predecessor. It does not recompute
    /// the event's own hash; see [`ChainWalk::check`] for both.
    pub fn link(&mut self, event: &AuditEvent) -> Result<(), ChainFault> {
        if event.seq != self.next_seq {
            return Err(ChainFault::Missing {
                seq: self.next_seq,
                found: event.seq,
            });
        }
        if event.prev_hash != self.prev_hash {
            return Err(ChainFault::Unlinked { seq: event.seq });
        }
        self.next_seq += 1;
        self.prev_hash = event.hash;
        Ok(())
    }

    /// Checks the event's own hash, then its link.
    pub fn check(&mut self, event: &AuditEvent) -> Result<(), ChainFault> {
        if event.seq == self.next_seq && !event.hash_is_intact() {
            return Err(ChainFault::Altered { seq: event.seq });
        }
        self.link(event)
    }

    /// How many events have been walked.
    pub fn count(&self) -> u64 {
        self.next_seq - 1
    }

    /// The hash of the last event walked.
    pub fn head(&self) -> AuditHash {
        self.prev_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEvent> {
        let mut prev = AuditHash::GENESIS;
        (1..=n)
            .map(|seq| {
                let event = NewAuditEvent::new(
                    Timestamp::from_micros(seq as i64),
                    Actor::system("test"),
                    "thing.happened",
                )
                .subject(SubjectRef::new("thing", seq))
                .data(serde_json::json!({ "n": seq }))
                .seal(seq, prev);
                prev = event.hash;
                event
            })
            .collect()
    }

    fn walk(events: &[AuditEvent]) -> Result<u64, ChainFault> {
        let mut walk = ChainWalk::default();
        for event in events {
            walk.check(event)?;
        }
        Ok(walk.count())
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(walk(&chain(5)), Ok(5));
    }

    #[test]
    fn altered_data_names_the_event() {
        let mut events = chain(5);
        events[2].data = r#"{"n":99}"#.into();
        assert_eq!(walk(&events), Err(ChainFault::Altered { seq: 3 }));
    }

    #[test]
    fn a_deleted_event_names_the_missing_seq() {
        let mut events = chain(5);
        events.remove(1);
        assert_eq!(walk(&events), Err(ChainFault::Missing { seq: 2, found: 3 }));
    }

    #[test]
    fn swapped_events_are_caught_at_the_first_swapped_seq() {
        let mut events = chain(5);
        events[1].seq = 3;
        events[2].seq = 2;
        events.swap(1, 2);
        assert_eq!(walk(&events), Err(ChainFault::Altered { seq: 2 }));
    }

    #[test]
    fn a_rehashed_forgery_is_caught_by_the_next_link() {
        let mut events = chain(5);
        events[2].actor = "principal:mallory".into();
        events[2].hash = events[2].computed_hash();
        assert_eq!(walk(&events), Err(ChainFault::Unlinked { seq: 4 }));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let a = NewAuditEvent::new(Timestamp::EPOCH, Actor::system("ab"), "c")
            .seal(1, AuditHash::GENESIS);
        let b = NewAuditEvent::new(Timestamp::EPOCH, Actor::system("a"), "bc")
            .seal(1, AuditHash::GENESIS);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn the_encoding_is_pinned() {
        // The expected digest was computed independently with Python's hashlib.
        let event = NewAuditEvent::new(
            Timestamp::from_micros(1),
            Actor::system("test"),
            "thing.happened",
        )
        .data(serde_json::json!({"b": 2, "a": {"d": 4, "c": 3}}))
        .seal(1, AuditHash::GENESIS);
        assert_eq!(event.data, r#"{"a":{"c":3,"d":4},"b":2}"#);
        assert_eq!(
            event.hash.to_string(),
            "6f46606c4adf3672198079e9c530032aa2fce25c81588458168e8a7d4b1ecf63"
        );
    }

    #[test]
    fn hashes_round_trip_through_hex() {
        let hash = chain(1)[0].hash;
        assert_eq!(hash.to_string().parse::<AuditHash>(), Ok(hash));
        assert!("00".parse::<AuditHash>().is_err());
    }
}
