//! A ticket refused at the door, as the intake stores it: for tests of what lists, shows or
//! delivers refused tickets without a desk in the loop.

use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{ExternalRef, TicketFields, TicketRecord, Timestamp};
use writ_store::Store;

/// Why [`refuse_ticket`] refuses.
pub const REFUSAL: &str = "`target/everything` is not a catalog entitlement";

/// Stores Jira ticket `key`, filed by Carol for `target/everything`, as refused at `now`, with
/// its `ticket.refused` event and the note it owes.
pub async fn refuse_ticket(store: &dyn Store, key: &str, now: Timestamp) {
    let reference = ExternalRef {
        system: "jira".into(),
        key: key.into(),
        url: Some(format!("https://example.atlassian.net/browse/{key}")),
    };
    let fields = TicketFields {
        entitlement: Some("target/everything".into()),
        identity: Some("svc".into()),
        ..TicketFields::default()
    };
    let event = NewAuditEvent::new(now, Actor::system("jira"), "ticket.refused")
        .subject(SubjectRef::new("ticket", format!("jira:{key}")))
        .data(serde_json::json!({ "ticket": key, "reason": REFUSAL }));
    let ticket =
        TicketRecord::received(reference, "carol@org.example", fields, now).refused(REFUSAL);
    store.refuse_ticket(ticket, event).await.unwrap();
}
