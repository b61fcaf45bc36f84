//! What writ tells a ticket about one change of its request: the request's number, what it
//! grants to whom, who approved, for how long, and whether the live state proves it. A note
//! says "done" only for a fulfilled request, which writ fulfils only once the target was read
//! back (for a revocation: read back as gone).

use writ_domain::audit::AuditEvent;
use writ_domain::{ExternalRef, RequestKind, RequestStatus};

/// One note for a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketNote {
    /// The ticket.
    pub ticket: ExternalRef,
    /// The audited action it reports (`request.approved`, `ticket.refused`, …).
    pub action: String,
    /// The request's number, `REQ-…` (none for a ticket refused before it became one).
    pub request_number: Option<String>,
    /// The request's kind.
    pub kind: Option<RequestKind>,
    /// The request's status right after the change.
    pub status: Option<RequestStatus>,
    /// The entitlement, as `system/key`.
    pub entitlement: Option<String>,
    /// The identity's name.
    pub identity: Option<String>,
    /// The requester's e-mail.
    pub requester: Option<String>,
    /// Who approved so far, by e-mail.
    pub approvers: Vec<String>,
    /// The requested TTL, counted from fulfilment.
    pub ttl: Option<String>,
    /// What the live state showed, in words.
    pub verification: String,
    /// Reasons given (policy's, a denial's, an error), verbatim.
    pub reasons: Vec<String>,
}

impl TicketNote {
    /// The one-line headline.
    pub fn headline(&self) -> String {
        let number = self.request_number.as_deref().unwrap_or("writ");
        match (self.status, self.kind) {
            (None, _) => format!("{number}: refused; no access was requested in writ"),
            (Some(RequestStatus::Fulfilled), Some(RequestKind::Revoke | RequestKind::Offboard)) => {
                format!("{number}: done; the access was read back as gone")
            }
            (Some(RequestStatus::Fulfilled), _) => {
                format!("{number}: done; the live state was read back and matches")
            }
            (Some(status), _) => format!("{number}: {}", status_words(status)),
        }
    }

    /// The note as plain lines: the headline, then one `label: value` line per fact.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.headline()];
        let mut fact = |label: &str, value: Option<&str>| {
            if let Some(value) = value {
                lines.push(format!("{label}: {value}"));
            }
        };
        fact("Request", self.request_number.as_deref());
        fact("Status", self.status.map(|s| s.as_str()));
        fact("Entitlement", self.entitlement.as_deref());
        fact("Identity", self.identity.as_deref());
        fact("Requester", self.requester.as_deref());
        let approvers = self.approvers.join(", ");
        fact(
            "Approvers",
            Some(if approvers.is_empty() {
                "none yet"
            } else {
                &approvers
            }),
        );
        fact("TTL", self.ttl.as_deref());
        fact("Verification", Some(&self.verification));
        for reason in &self.reasons {
            lines.push(format!("Reason: {reason}"));
        }
        lines
    }

    /// The note as plain text, one fact per line.
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }
}

fn status_words(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Submitted => "received",
        RequestStatus::Rejected => "rejected by policy",
        RequestStatus::PendingApproval => "waiting for approval",
        RequestStatus::Denied => "denied",
        RequestStatus::Cancelled => "cancelled",
        RequestStatus::Expired => "expired; nobody approved it in time",
        RequestStatus::Approved => "approved; waiting to be carried out",
        RequestStatus::Executing => "being carried out",
        RequestStatus::Verifying => "carried out; reading the live state back",
        RequestStatus::Fulfilled => "done",
        RequestStatus::Failed => "failed; not done",
    }
}

/// What the live state showed, from the status and the audit event that reported it.
pub(crate) fn verification(status: Option<RequestStatus>, event: &serde_json::Value) -> String {
    let at = event.get("verified_at").and_then(|v| v.as_str());
    match (status, at) {
        (Some(RequestStatus::Fulfilled), Some(at)) => {
            format!("verified: read back from the live system at {at}")
        }
        (Some(RequestStatus::Fulfilled), None) => "verified: read back from the live system".into(),
        (Some(RequestStatus::Failed), _) => "not verified: the change did not take effect".into(),
        _ => "not verified yet: nothing has been changed on the live system".into(),
    }
}

/// The reasons an audit event gives: a denial's reason, an error, policy's reasons.
pub(crate) fn reasons(event: &AuditEvent, data: &serde_json::Value) -> Vec<String> {
    let mut reasons = Vec::new();
    for key in ["reason", "error"] {
        if let Some(text) = data.get(key).and_then(|v| v.as_str()) {
            reasons.push(text.to_string());
        }
    }
    let listed = data
        .get("reasons")
        .or_else(|| data.get("decision").and_then(|d| d.get("reasons")));
    if let Some(list) = listed.and_then(|v| v.as_array()) {
        reasons.extend(list.iter().filter_map(|r| {
            match r {
                serde_json::Value::String(s) => Some(s.clone()),
                other => other
                    .get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string),
            }
        }));
    }
    if reasons.is_empty() && event.action == "request.rejected" {
        reasons.push("refused by policy".into());
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(kind: RequestKind, status: Option<RequestStatus>) -> TicketNote {
        TicketNote {
            ticket: ExternalRef {
                system: "jira".into(),
                key: "OPS-1".into(),
                url: None,
            },
            action: "request.fulfilled".into(),
            request_number: Some("REQ-000042".into()),
            kind: Some(kind),
            status,
            entitlement: Some("orders-db/readers".into()),
            identity: Some("billing-exporter".into()),
            requester: Some("carol@org.example".into()),
            approvers: vec!["alice@org.example".into(), "sam@org.example".into()],
            ttl: Some("8h".into()),
            verification: verification(
                status,
                &serde_json::json!({ "verified_at": "2026-11-24T10:00:00Z" }),
            ),
            reasons: Vec::new(),
        }
    }

    #[test]
    fn a_fulfilled_grant_says_done_with_every_fact() {
        let text = note(RequestKind::Grant, Some(RequestStatus::Fulfilled)).text();
        assert!(text.starts_with("REQ-000042: done; the live state was read back"));
        for fact in [
            "Entitlement: orders-db/readers",
            "Identity: billing-exporter",
            "Requester: carol@org.example",
            "Approvers: alice@org.example, sam@org.example",
            "TTL: 8h",
            "Verification: verified: read back from the live system at 2026-11-24T10:00:00Z",
        ] {
            assert!(text.contains(fact), "`{fact}` missing from:\n{text}");
        }
    }

    #[test]
    fn a_revocation_is_done_only_when_read_back_as_gone() {
        let done = note(RequestKind::Revoke, Some(RequestStatus::Fulfilled));
        assert!(done.headline().contains("read back as gone"));
        let executing = note(RequestKind::Revoke, Some(RequestStatus::Executing));
        assert!(!executing.headline().contains("done"));
        assert!(executing.verification.starts_with("not verified yet"));
    }
}
