//! Writing back to a generic desk: each outcome note is posted to its `callback_url` as JSON,
//! signed like the deliveries it sends (`X-Writ-Signature: sha256=<hex>` over the raw body),
//! with the note's facts as fields and as text. A desk configured without a callback takes
//! its notes as settled: it reads outcomes from writ's API, and an unsendable note must not
//! pile up as a dead letter.

use writ_core::outbox::{DeskError, TicketDesk, TicketNote};

use super::{GenericSettings, SIGNATURE_HEADER};
use crate::http::{client, refusal, unreachable};
use crate::signature::hmac_sha256;

/// A generic desk writ posts outcome notes to.
#[derive(Debug, Clone)]
pub struct GenericDesk {
    settings: GenericSettings,
    http: reqwest::Client,
}

impl GenericDesk {
    /// A desk over `settings`.
    pub fn new(settings: GenericSettings) -> Self {
        Self {
            settings,
            http: client(),
        }
    }
}

/// A note as the callback receives it.
pub fn note_json(note: &TicketNote) -> serde_json::Value {
    serde_json::json!({
        "ticket": { "key": note.ticket.key, "url": note.ticket.url },
        "action": note.action,
        "request": note.request_number,
        "kind": note.kind.map(|k| k.as_str()),
        "status": note.status.map(|s| s.as_str()),
        "entitlement": note.entitlement,
        "identity": note.identity,
        "requester": note.requester,
        "approvers": note.approvers,
        "ttl": note.ttl,
        "verification": note.verification,
        "reasons": note.reasons,
        "text": note.text(),
    })
}

#[async_trait::async_trait]
impl TicketDesk for GenericDesk {
    async fn post(&self, note: &TicketNote) -> Result<(), DeskError> {
        let Some(callback_url) = &self.settings.callback_url else {
            tracing::debug!(ticket = %note.ticket.key, "no callback_url: the note stays in writ");
            return Ok(());
        };
        let body = note_json(note).to_string();
        let signature = hex::encode(hmac_sha256(
            self.settings.webhook_secret.expose().as_bytes(),
            &[body.as_bytes()],
        ));
        let response = self
            .http
            .post(callback_url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, format!("sha256={signature}"))
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable(&self.settings.name, e))?;
        if !response.status().is_success() {
            return Err(refusal(&self.settings.name, response).await);
        }
        Ok(())
    }
}
