//! Campaign evidence: who reviewed what, when, with what outcome, and proof that each
//! revocation was read back as gone. It holds every audit event of the campaign (created,
//! launched, each decision, delegation, escalation, the revocations filed, closed) and of the
//! `revoke` requests it filed and their grants, each with its inclusion proof in one signed
//! checkpoint; it verifies offline with the public key alone, like a request's bundle.

use serde::{Deserialize, Serialize};

use crate::bundle::{BundleError, BundledEvent, check_proven};
use crate::checkpoint::NoteVerifier;
use crate::time::Timestamp;

/// The format tag of this layout.
pub const CAMPAIGN_FORMAT: &str = "writ-campaign-evidence/1";

/// One campaign's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignEvidence {
    /// [`CAMPAIGN_FORMAT`].
    pub format: String,
    /// The campaign's name.
    pub campaign: String,
    /// Its id, as its events name it (`campaign:<id>`).
    pub campaign_id: String,
    /// The signed checkpoint every event is proven in (a C2SP signed note).
    pub checkpoint: String,
    /// The events, in log order.
    pub events: Vec<BundledEvent>,
}

/// What verified campaign evidence shows, for people.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CampaignSummary {
    /// The campaign's name.
    pub campaign: String,
    /// Each decision: what, by whom, when, why.
    pub reviews: Vec<String>,
    /// Each revocation filed, and when its read-back showed the access gone (or that it has
    /// not yet).
    pub revocations: Vec<String>,
    /// How many events.
    pub events: usize,
    /// The signed tree size they are proven in.
    pub checkpoint_size: u64,
}

impl CampaignEvidence {
    /// The evidence as the bytes writ writes (pretty JSON and a final newline); verification
    /// accepts exactly these bytes.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        // Serialising plain strings, numbers and vectors cannot fail.
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Checks `bytes` as campaign evidence against `verifier` and summarises it.
    pub fn verify(bytes: &[u8], verifier: &NoteVerifier) -> Result<CampaignSummary, BundleError> {
        let evidence: CampaignEvidence =
            serde_json::from_slice(bytes).map_err(|e| BundleError::Unreadable(e.to_string()))?;
        if evidence.to_canonical_bytes() != bytes {
            return Err(BundleError::NotCanonical);
        }
        if evidence.format != CAMPAIGN_FORMAT {
            return Err(BundleError::Format(evidence.format));
        }
        let checkpoint = verifier.verify(&evidence.checkpoint)?;
        check_proven(&evidence.events, &checkpoint)?;
        let campaign = format!("campaign:{}", evidence.campaign_id);
        let touches = |e: &BundledEvent, prefix: &str| -> Vec<String> {
            e.subjects
                .iter()
                .filter(|s| s.starts_with(prefix))
                .cloned()
                .collect()
        };
        let of_campaign: Vec<&BundledEvent> = evidence
            .events
            .iter()
            .filter(|e| e.subjects.contains(&campaign))
            .collect();
        // The revocations the campaign filed are authenticated by its own events naming them.
        let requests: Vec<String> = of_campaign
            .iter()
            .flat_map(|e| touches(e, "request:"))
            .collect();
        let grants: Vec<String> = evidence
            .events
            .iter()
            .filter(|e| e.subjects.iter().any(|s| requests.contains(s)))
            .flat_map(|e| touches(e, "grant:"))
            .collect();
        for event in &evidence.events {
            let related = event
                .subjects
                .iter()
                .any(|s| *s == campaign || requests.contains(s) || grants.contains(s));
            if !related {
                return Err(BundleError::NotOfCampaign(event.seq, evidence.campaign));
            }
        }
        let named = of_campaign
            .iter()
            .filter(|e| e.action == "campaign.created")
            .filter_map(|e| data(e).get("name")?.as_str().map(str::to_string))
            .collect::<Vec<_>>();
        if named.is_empty() || named.iter().any(|n| *n != evidence.campaign) {
            return Err(BundleError::CampaignName(evidence.campaign));
        }
        Ok(summarise(&evidence, &campaign, checkpoint.size))
    }
}

fn data(event: &BundledEvent) -> serde_json::Value {
    serde_json::from_str(&event.data).unwrap_or_default()
}

/// Reads the verified events into who decided what and which revocations were read back.
fn summarise(evidence: &CampaignEvidence, campaign: &str, size: u64) -> CampaignSummary {
    let mut summary = CampaignSummary {
        campaign: evidence.campaign.clone(),
        events: evidence.events.len(),
        checkpoint_size: size,
        ..CampaignSummary::default()
    };
    for event in &evidence.events {
        let d = data(event);
        let text = |key: &str| {
            d.get(key)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let at = Timestamp::from_micros(event.at_micros);
        match event.action.as_str() {
            "campaign.item.decided" if event.subjects.iter().any(|s| s == campaign) => {
                summary.reviews.push(format!(
                    "{} holding {} on {}: {} ({}) by {} at {at}{}",
                    text("identity"),
                    text("entitlement"),
                    text("system"),
                    text("decision"),
                    text("status"),
                    event.actor,
                    d.get("reason")
                        .and_then(|r| r.as_str())
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ));
            }
            "campaign.item.revoke_filed" => {
                let request = event
                    .subjects
                    .iter()
                    .find(|s| s.starts_with("request:"))
                    .cloned()
                    .unwrap_or_default();
                let verified = evidence
                    .events
                    .iter()
                    .find(|e| e.action == "request.fulfilled" && e.subjects.contains(&request));
                summary.revocations.push(match verified {
                    Some(fulfilled) => format!(
                        "{} revokes {}: read back as gone at {}",
                        text("request"),
                        text("access"),
                        data(fulfilled)
                            .get("verified_at")
                            .and_then(|v| v.as_str())
                            .unwrap_or("")
                    ),
                    None => format!(
                        "{} revokes {}: not yet verified",
                        text("request"),
                        text("access")
                    ),
                });
            }
            _ => {}
        }
    }
    summary
}

impl std::fmt::Display for CampaignSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "campaign     {}", self.campaign)?;
        for review in &self.reviews {
            writeln!(f, "review       {review}")?;
        }
        for revocation in &self.revocations {
            writeln!(f, "revocation   {revocation}")?;
        }
        write!(
            f,
            "proof        {} events, each included in the signed tree of {} events",
            self.events, self.checkpoint_size
        )
    }
}
