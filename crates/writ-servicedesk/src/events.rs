//! Outbound webhooks: every audited change as a CloudEvents 1.0 event in structured JSON mode
//! (`application/cloudevents+json`), signed per Standard Webhooks: `webhook-id` (the delivery,
//! the same on every retry), `webhook-timestamp` (unix seconds of this attempt) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the endpoint's
//! `whsec_<base64>` secret.

use base64::Engine;
use writ_core::outbox::{DeskError, EventSink, OutboundEvent};

use crate::http::{client, refusal, unreachable};
use crate::secret::Secret;
use crate::signature::hmac_sha256;

/// The CloudEvents `type` prefix of writ's events: `dev.writ.request.fulfilled`.
pub const TYPE_PREFIX: &str = "dev.writ.";

/// An endpoint's signing key, given as `whsec_<base64>`.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    /// Reads a `whsec_<base64>` secret.
    pub fn parse(secret: &Secret) -> Result<Self, String> {
        let encoded = secret
            .expose()
            .strip_prefix("whsec_")
            .ok_or("the secret must start with `whsec_`")?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| "the secret after `whsec_` is not base64")?;
        if key.len() < 24 {
            return Err("the secret must hold at least 24 bytes".into());
        }
        Ok(Self(key))
    }

    /// The `webhook-signature` value of `body` sent as `id` at `timestamp`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let signed = format!("{id}.{timestamp}.");
        let mac = hmac_sha256(&self.0, &[signed.as_bytes(), body]);
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac)
        )
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

/// One endpoint that hears of every change.
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    /// Its name in writ.
    pub name: String,
    /// Where events are posted.
    pub url: String,
    /// The key events are signed with.
    pub key: SigningKey,
    /// The CloudEvents `source` (e.g. `https://writ.example.com`).
    pub source: String,
}

/// Sends events to one endpoint.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    endpoint: WebhookEndpoint,
    http: reqwest::Client,
}

impl WebhookSender {
    /// A sender to `endpoint`.
    pub fn new(endpoint: WebhookEndpoint) -> Self {
        Self {
            endpoint,
            http: client(),
        }
    }
}

/// `event` as a CloudEvents 1.0 structured-mode JSON object.
pub fn cloud_event(source: &str, event: &OutboundEvent) -> serde_json::Value {
    let audit = &event.event;
    let details: serde_json::Value = serde_json::from_str(&audit.data).unwrap_or_default();
    let mut data = serde_json::json!({
        "seq": audit.seq,
        "actor": audit.actor,
        "action": audit.action,
        "subjects": audit.subjects,
        "details": details,
    });
    if let Some(number) = &event.request_number {
        data["request"] = serde_json::json!({
            "number": number,
            "status": event.request_status.map(|s| s.as_str()),
        });
    }
    let mut cloud = serde_json::json!({
        "specversion": "1.0",
        "id": audit.seq.to_string(),
        "source": source,
        "type": format!("{TYPE_PREFIX}{}", audit.action),
        "time": audit.at.to_string(),
        "datacontenttype": "application/json",
        "data": data,
    });
    if let Some(subject) = audit.subjects.first() {
        cloud["subject"] = serde_json::Value::String(subject.clone());
    }
    cloud
}

#[async_trait::async_trait]
impl EventSink for WebhookSender {
    async fn send(&self, event: &OutboundEvent) -> Result<(), DeskError> {
        let body = cloud_event(&self.endpoint.source, event).to_string();
        let id = event.delivery.to_string();
        let timestamp = event.sent_at.as_micros() / 1_000_000;
        let what = format!("webhook `{}`", self.endpoint.name);
        let response = self
            .http
            .post(&self.endpoint.url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/cloudevents+json",
            )
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                self.endpoint.key.sign(&id, timestamp, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable(&what, e))?;
        if !response.status().is_success() {
            return Err(refusal(&what, response).await);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_reference_does() {
        // The example of the Standard Webhooks specification's reference libraries.
        let key =
            SigningKey::parse(&Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_without_its_prefix_is_refused() {
        assert!(SigningKey::parse(&Secret::new("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).is_err());
    }
}
