//! Which ticket fields hold what writ needs, configured per integration, and how a field's
//! value (text, number, select option, user, Atlassian Document Format) reads as text.

use serde::Deserialize;
use writ_core::intake::PersonRef;

/// The fields of a ticket that hold a request's parts, by the desk's field names
/// (`customfield_10050` in Jira, `u_entitlement` in ServiceNow).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    /// The catalog entitlement, as `system/key`.
    pub entitlement: String,
    /// The registered identity's name.
    pub identity: String,
    /// The TTL (`8h`, `7d`); the entitlement's default when absent.
    pub ttl: Option<String>,
    /// The justification; the ticket's description or summary are fields like any other.
    pub justification: Option<String>,
    /// The people who approved the ticket in the desk.
    pub approvers: Option<String>,
}

/// A field's value as text: a string as is, a number in decimal, a select option by its
/// value, a user by e-mail, a document by its text; `None` when empty.
pub fn text(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Object(o) if o.get("type").and_then(|t| t.as_str()) == Some("doc") => {
            let mut out = String::new();
            document_text(value, &mut out);
            out.trim().to_string()
        }
        serde_json::Value::Object(o) => ["value", "name", "key", "emailAddress", "display_value"]
            .iter()
            .find_map(|k| o.get(*k).and_then(text))?,
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// The text nodes of an Atlassian Document Format node, paragraphs on lines of their own.
fn document_text(node: &serde_json::Value, out: &mut String) {
    if let Some(t) = node.get("text").and_then(|t| t.as_str()) {
        out.push_str(t);
    }
    if let Some(children) = node.get("content").and_then(|c| c.as_array()) {
        for child in children {
            document_text(child, out);
        }
        if node.get("type").and_then(|t| t.as_str()) == Some("paragraph") {
            out.push('\n');
        }
    }
}

/// A person field (a user object or a list of them, or bare e-mails) as people.
pub fn people(value: &serde_json::Value, email_key: &str, external_id_key: &str) -> Vec<PersonRef> {
    match value {
        serde_json::Value::Array(items) => items
            .iter()
            .flat_map(|item| people(item, email_key, external_id_key))
            .collect(),
        serde_json::Value::String(s) if !s.trim().is_empty() => vec![PersonRef {
            email: Some(s.trim().to_string()),
            external_id: None,
        }],
        serde_json::Value::Object(o) => {
            let field = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let person = PersonRef {
                email: field(email_key),
                external_id: field(external_id_key),
            };
            if person.email.is_none() && person.external_id.is_none() {
                Vec::new()
            } else {
                vec![person]
            }
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values_read_as_text_whatever_their_shape() {
        assert_eq!(
            text(&serde_json::json!(" orders/readers ")),
            Some("orders/readers".into())
        );
        assert_eq!(text(&serde_json::json!(8)), Some("8".into()));
        assert_eq!(
            text(&serde_json::json!({"self": "x", "value": "orders/readers", "id": "10020"})),
            Some("orders/readers".into())
        );
        let adf = serde_json::json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "nightly export"}]}
        ]});
        assert_eq!(text(&adf), Some("nightly export".into()));
        assert_eq!(text(&serde_json::json!(null)), None);
        assert_eq!(text(&serde_json::json!("")), None);
    }
}
