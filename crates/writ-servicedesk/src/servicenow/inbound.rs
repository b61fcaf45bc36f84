//! A delivery from writ's ServiceNow business rule, verified and mapped. Its body is
//! `{"sys_id", "number", "reporter": {"email", "user_name"}, "fields": {…}, "approvers":
//! [{"email", "user_name"}]}`, sent with `X-Writ-Delivery`, `X-Writ-Timestamp` (unix seconds)
//! and `X-Writ-Signature: v1=<base64 HMAC-SHA256 of "timestamp.body">`.

use writ_core::intake::Ticket;
use writ_domain::{ExternalRef, Timestamp};

use super::ServiceNowSettings;
use crate::Inbound;
use crate::error::{InboundError, check_fresh};
use crate::fields;
use crate::signature::verify_timestamped;

/// The header carrying the delivery id (the business rule's `gs.generateGUID()`).
pub const DELIVERY_HEADER: &str = "x-writ-delivery";
/// The header carrying when it was sent, in unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-writ-timestamp";
/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-writ-signature";

/// Verifies a delivery (signature over timestamp and body, then freshness) and maps it.
pub fn accept(
    settings: &ServiceNowSettings,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    now: Timestamp,
) -> Result<Inbound, InboundError> {
    let sent = header(TIMESTAMP_HEADER).ok_or(InboundError::BadSignature)?;
    verify_timestamped(
        settings.webhook_secret.expose().as_bytes(),
        &sent,
        body,
        header(SIGNATURE_HEADER).as_deref(),
    )?;
    let secs: i64 = sent.trim().parse().map_err(|_| {
        InboundError::Malformed(format!("`{TIMESTAMP_HEADER}` is not unix seconds"))
    })?;
    check_fresh(
        Timestamp::from_micros(secs.saturating_mul(1_000_000)),
        now,
        settings.max_skew,
    )?;
    let delivery_id = header(DELIVERY_HEADER)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| InboundError::Malformed(format!("no `{DELIVERY_HEADER}` header")))?;
    let record: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| InboundError::Malformed(format!("the body is not JSON: {e}")))?;
    Ok(Inbound {
        delivery_id,
        ticket: Some(ticket(settings, &record)?),
    })
}

fn ticket(
    settings: &ServiceNowSettings,
    record: &serde_json::Value,
) -> Result<Ticket, InboundError> {
    let sys_id = record
        .get("sys_id")
        .and_then(|k| k.as_str())
        .filter(|k| k.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or_else(|| InboundError::Malformed("no alphanumeric `sys_id`".into()))?;
    let null = serde_json::Value::Null;
    let record_fields = record.get("fields").unwrap_or(&null);
    let field = |name: &str| record_fields.get(name).unwrap_or(&null);
    let text = |name: &Option<String>| name.as_deref().and_then(|n| fields::text(field(n)));
    let map = &settings.fields;
    Ok(Ticket {
        reference: ExternalRef {
            system: settings.name.clone(),
            key: sys_id.to_string(),
            url: Some(format!(
                "{}/{}.do?sys_id={sys_id}",
                settings.base_url.trim_end_matches('/'),
                settings.table
            )),
        },
        reporter: fields::people(
            record.get("reporter").unwrap_or(&null),
            "email",
            "user_name",
        )
        .into_iter()
        .next()
        .unwrap_or_default(),
        entitlement: fields::text(field(&map.entitlement)),
        identity: fields::text(field(&map.identity)),
        ttl: text(&map.ttl),
        justification: text(&map.justification),
        approvers: fields::people(
            record.get("approvers").unwrap_or(&null),
            "email",
            "user_name",
        ),
    })
}
