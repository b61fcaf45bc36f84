//! A Jira webhook delivery, verified and mapped. The payload is Jira Cloud's issue event:
//! `{"timestamp": <ms>, "webhookEvent": "jira:issue_created", "issue": {"key", "fields": {…}}}`;
//! `jira:issue_updated` carries the whole issue too, and maps the same way (the intake tells
//! a new ticket from an update by its key).

use writ_core::intake::Ticket;
use writ_domain::{ExternalRef, Timestamp};

use super::JiraSettings;
use crate::Inbound;
use crate::error::{InboundError, check_fresh};
use crate::fields;
use crate::signature::verify_hub_signature;

/// The header carrying Jira's delivery id, unchanged across retries.
pub const DELIVERY_HEADER: &str = "x-atlassian-webhook-identifier";
/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "x-hub-signature";

/// Verifies a delivery (signature, then freshness) and maps an `issue_created` or
/// `issue_updated` event to a ticket; other events carry none.
pub fn accept(
    settings: &JiraSettings,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    now: Timestamp,
) -> Result<Inbound, InboundError> {
    verify_hub_signature(
        settings.webhook_secret.expose().as_bytes(),
        body,
        header(SIGNATURE_HEADER).as_deref(),
    )?;
    let delivery_id = header(DELIVERY_HEADER)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| InboundError::Malformed(format!("no `{DELIVERY_HEADER}` header")))?;
    let payload: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| InboundError::Malformed(format!("the body is not JSON: {e}")))?;
    let sent_ms = payload
        .get("timestamp")
        .and_then(|t| t.as_i64())
        .ok_or_else(|| InboundError::Malformed("no `timestamp`".into()))?;
    check_fresh(
        Timestamp::from_micros(sent_ms.saturating_mul(1000)),
        now,
        settings.max_skew,
    )?;
    let event = payload.get("webhookEvent").and_then(|e| e.as_str());
    let ticket = match event {
        Some("jira:issue_created" | "jira:issue_updated") => Some(ticket(settings, &payload)?),
        _ => None,
    };
    Ok(Inbound {
        delivery_id,
        ticket,
    })
}

fn ticket(settings: &JiraSettings, payload: &serde_json::Value) -> Result<Ticket, InboundError> {
    let issue = payload
        .get("issue")
        .ok_or_else(|| InboundError::Malformed("no `issue`".into()))?;
    let key = issue
        .get("key")
        .and_then(|k| k.as_str())
        .ok_or_else(|| InboundError::Malformed("no `issue.key`".into()))?;
    let null = serde_json::Value::Null;
    let issue_fields = issue.get("fields").unwrap_or(&null);
    let field = |name: &str| issue_fields.get(name).unwrap_or(&null);
    let text = |name: &Option<String>| name.as_deref().and_then(|n| fields::text(field(n)));
    let map = &settings.fields;
    Ok(Ticket {
        reference: ExternalRef {
            system: settings.name.clone(),
            key: key.to_string(),
            url: Some(format!(
                "{}/browse/{key}",
                settings.base_url.trim_end_matches('/')
            )),
        },
        reporter: fields::people(field("reporter"), "emailAddress", "accountId")
            .into_iter()
            .next()
            .unwrap_or_default(),
        entitlement: fields::text(field(&map.entitlement)),
        identity: fields::text(field(&map.identity)),
        ttl: text(&map.ttl),
        justification: text(&map.justification),
        approvers: map
            .approvers
            .as_deref()
            .map(|name| fields::people(field(name), "emailAddress", "accountId"))
            .unwrap_or_default(),
    })
}

/// `lines` as an Atlassian Document Format document: the first line bold, one paragraph each.
pub fn document(lines: &[String]) -> serde_json::Value {
    let paragraphs: Vec<serde_json::Value> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut text = serde_json::json!({ "type": "text", "text": line });
            if i == 0 {
                text["marks"] = serde_json::json!([{ "type": "strong" }]);
            }
            serde_json::json!({ "type": "paragraph", "content": [text] })
        })
        .collect();
    serde_json::json!({ "type": "doc", "version": 1, "content": paragraphs })
}
