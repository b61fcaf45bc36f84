//! `writ keys generate` and `writ evidence export|verify`: the checkpoint signing key, and
//! per-request bundles (and campaign evidence) that verify offline with the public key alone.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use writ_core::SystemClock;
use writ_core::evidence::{Bundles, Checkpointer, read_verifier};
use writ_domain::RequestNumber;
use writ_domain::bundle::EvidenceBundle;
use writ_domain::campaign::{CAMPAIGN_FORMAT, CampaignEvidence};
use writ_store::OpenMode;

use super::audit::Unverified;
use crate::config::Config;

/// Writes a new signing key and its public key.
pub fn generate_keys(name: &str, private: &Path, public: &Path) -> anyhow::Result<()> {
    let verifier = writ_core::evidence::generate_keys(name, private, public)?;
    println!(
        "wrote the signing key {} (keep it secret; set `audit_signing_key_file` in writ.toml) \
         and the public key {} for auditors:\n{}",
        private.display(),
        public.display(),
        verifier.to_text().trim_end()
    );
    Ok(())
}

/// Writes the bundle of `request` to `output`.
pub async fn export(config: &Config, request: &str, output: &Path) -> anyhow::Result<()> {
    let number: RequestNumber = request.parse()?;
    let (store, _) = super::open_store(config, OpenMode::Existing).await?;
    let checkpointer = config
        .checkpoint_signer()?
        .map(|signer| Checkpointer::new(store.clone(), signer, Arc::new(SystemClock)));
    let bundle = Bundles::new(store, checkpointer).export(number).await?;
    std::fs::write(output, bundle.to_canonical_bytes())
        .with_context(|| format!("cannot write `{}`", output.display()))?;
    println!(
        "wrote the evidence of {number} to {}: {} events, each with its inclusion proof",
        output.display(),
        bundle.events.len()
    );
    Ok(())
}

/// Verifies a bundle offline and prints its summary.
pub fn verify(bundle: &Path, public_key: &Path) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(bundle).with_context(|| format!("cannot read `{}`", bundle.display()))?;
    let verifier = read_verifier(public_key)?;
    // A campaign's evidence says so in its format; anything else is checked as a request's.
    let campaign = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .is_some_and(|v| v["format"] == CAMPAIGN_FORMAT);
    let verified = if campaign {
        CampaignEvidence::verify(&bytes, &verifier).map(|s| s.to_string())
    } else {
        EvidenceBundle::verify(&bytes, &verifier).map(|s| s.to_string())
    };
    match verified {
        Ok(summary) => {
            println!("{summary}");
            println!("verified: signed by {}", verifier.name());
            Ok(())
        }
        Err(err) => Err(Unverified(format!("{} does not verify: {err}", bundle.display())).into()),
    }
}
