//! A generic-form delivery, verified and read. Its body:
//!
//! ```json
//! {"delivery_id": "…", "timestamp": 1767225600,
//!  "ticket": {"key": "HD-1042", "url": "https://desk.example/HD-1042"},
//!  "reporter": {"email": "carol@example.com", "external_id": "carol"},
//!  "entitlement": "target/readers", "identity": "svc", "ttl": "8h",
//!  "justification": "…", "approvers": [{"email": "alice@example.com"}]}
//! ```
//!
//! `ticket.url`, `external_id`, `ttl`, `justification` and `approvers` may be left out; an
//! unknown field is refused, so a typo is not silently ignored.

use serde::Deserialize;
use writ_core::intake::{PersonRef, Ticket};
use writ_domain::{ExternalRef, Timestamp};

use super::GenericSettings;
use crate::Inbound;
use crate::error::{InboundError, check_fresh};
use crate::signature::verify_hub_signature;

/// The header carrying `sha256=<hex HMAC-SHA256 of the raw body>`.
pub const SIGNATURE_HEADER: &str = "x-writ-signature";

/// The longest ticket key or delivery id accepted.
const MAX_ID_LEN: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Delivery {
    delivery_id: String,
    timestamp: i64,
    ticket: TicketRef,
    reporter: Person,
    entitlement: Option<String>,
    identity: Option<String>,
    ttl: Option<String>,
    justification: Option<String>,
    #[serde(default)]
    approvers: Vec<Person>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketRef {
    key: String,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Person {
    email: Option<String>,
    external_id: Option<String>,
}

/// Verifies a delivery (signature, then freshness) and reads its ticket.
pub fn accept(
    settings: &GenericSettings,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    now: Timestamp,
) -> Result<Inbound, InboundError> {
    verify_hub_signature(
        settings.webhook_secret.expose().as_bytes(),
        body,
        header(SIGNATURE_HEADER).as_deref(),
    )?;
    let delivery: Delivery = serde_json::from_slice(body)
        .map_err(|e| InboundError::Malformed(format!("the body is not the generic form: {e}")))?;
    check_fresh(
        Timestamp::from_micros(delivery.timestamp.saturating_mul(1_000_000)),
        now,
        settings.max_skew,
    )?;
    identifier("delivery_id", &delivery.delivery_id)?;
    identifier("ticket.key", &delivery.ticket.key)?;
    if let Some(url) = &delivery.ticket.url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(InboundError::Malformed(
            "`ticket.url` must be an http(s) URL".into(),
        ));
    }
    let reporter = person(delivery.reporter);
    if reporter.email.is_none() && reporter.external_id.is_none() {
        return Err(InboundError::Malformed(
            "`reporter` needs an `email` or an `external_id`".into(),
        ));
    }
    Ok(Inbound {
        delivery_id: delivery.delivery_id,
        ticket: Some(Ticket {
            reference: ExternalRef {
                system: settings.name.clone(),
                key: delivery.ticket.key,
                url: delivery.ticket.url,
            },
            reporter,
            entitlement: trimmed(delivery.entitlement),
            identity: trimmed(delivery.identity),
            ttl: trimmed(delivery.ttl),
            justification: trimmed(delivery.justification),
            approvers: delivery.approvers.into_iter().map(person).collect(),
        }),
    })
}

fn identifier(field: &str, value: &str) -> Result<(), InboundError> {
    if value.trim().is_empty() || value.len() > MAX_ID_LEN || value.chars().any(char::is_control) {
        return Err(InboundError::Malformed(format!(
            "`{field}` must be 1 to {MAX_ID_LEN} printable characters"
        )));
    }
    Ok(())
}

fn person(person: Person) -> PersonRef {
    PersonRef {
        email: trimmed(person.email),
        external_id: trimmed(person.external_id),
    }
}

/// A field as text, `None` when absent or blank.
fn trimmed(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use crate::signature::hmac_sha256;

    const NOW: Timestamp = Timestamp::from_micros(1_767_225_600_000_000);

    fn settings() -> GenericSettings {
        GenericSettings {
            name: "helpdesk".into(),
            webhook_secret: Secret::new("s3cret"),
            max_skew: std::time::Duration::from_secs(600),
            callback_url: None,
        }
    }

    fn signed(body: &serde_json::Value) -> Result<Inbound, InboundError> {
        let raw = body.to_string();
        let signature = format!(
            "sha256={}",
            hex::encode(hmac_sha256(b"s3cret", &[raw.as_bytes()]))
        );
        accept(
            &settings(),
            |_| Some(signature.clone()),
            raw.as_bytes(),
            NOW,
        )
    }

    fn form() -> serde_json::Value {
        serde_json::json!({
            "delivery_id": "d-1", "timestamp": 1_767_225_600,
            "ticket": {"key": "HD-1", "url": "https://desk.example/HD-1"},
            "reporter": {"email": "carol@org.example"},
            "entitlement": "target/readers", "identity": "svc",
            "approvers": [{"external_id": "alice"}]
        })
    }

    #[test]
    fn the_generic_form_reads_as_a_ticket_of_its_desk() {
        let ticket = signed(&form()).unwrap().ticket.unwrap();
        assert_eq!(ticket.reference.system, "helpdesk");
        assert_eq!(ticket.reference.key, "HD-1");
        assert_eq!(ticket.reporter.email.as_deref(), Some("carol@org.example"));
        assert_eq!(ticket.entitlement.as_deref(), Some("target/readers"));
        assert_eq!(ticket.ttl, None);
        assert_eq!(ticket.approvers[0].external_id.as_deref(), Some("alice"));
    }

    #[test]
    fn a_malformed_form_names_what_is_wrong() {
        let cases = [
            (
                "entitlment",
                serde_json::json!("x"),
                "unknown field `entitlment`",
            ),
            ("reporter", serde_json::json!({}), "`reporter` needs"),
            ("ticket", serde_json::json!({"key": ""}), "`ticket.key`"),
            (
                "ticket",
                serde_json::json!({"key": "HD-1", "url": "javascript:alert(1)"}),
                "`ticket.url`",
            ),
        ];
        for (field, value, expected) in cases {
            let mut body = form();
            body[field] = value;
            match signed(&body) {
                Err(InboundError::Malformed(message)) => {
                    assert!(message.contains(expected), "{message}")
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
