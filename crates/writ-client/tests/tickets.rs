//! End to end: `GET /api/v1/tickets` through the typed client, on SQLite and PostgreSQL: a
//! refused ticket is listed with its reason for auditors, filtered by outcome, paged, and kept
//! from everyone else.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use writ_api::TicketQuery;
use writ_client::Client;
use writ_core::Clock;
use writ_domain::TokenScope;
use writ_testkit::{TestApp, TestDb};

fn query(outcome: Option<&str>, after: Option<String>, limit: Option<u32>) -> TicketQuery {
    TicketQuery {
        outcome: outcome.map(str::to_string),
        after,
        limit,
    }
}

#[tokio::test]
async fn refused_tickets_are_listed_for_auditors_with_their_reason() {
    for db in TestDb::each().await {
        let app = TestApp::spawn(db).await;
        writ_testkit::refuse_ticket(&*app.state.store, "OPS-1", app.clock.now()).await;
        writ_testkit::refuse_ticket(&*app.state.store, "OPS-2", app.clock.now()).await;
        let token = app.token("audrey@org.example", TokenScope::Read).await;
        let audrey = Client::new(&app.url(), token).unwrap();

        let first = audrey
            .tickets(&query(Some("rejected"), None, Some(1)))
            .await;
        let first = first.unwrap();
        assert_eq!(first.items.len(), 1);
        let ticket = &first.items[0];
        assert_eq!(
            (ticket.desk.as_str(), ticket.key.as_str()),
            ("jira", "OPS-1")
        );
        assert_eq!(ticket.outcome, "rejected");
        assert_eq!(ticket.entitlement.as_deref(), Some("target/everything"));
        assert!(
            ticket
                .reason
                .as_deref()
                .unwrap()
                .contains("not a catalog entitlement")
        );
        assert_eq!(ticket.request, None);
        let rest = audrey
            .tickets(&query(Some("rejected"), first.next, None))
            .await
            .unwrap();
        assert_eq!(rest.items.len(), 1);
        assert_eq!(rest.items[0].key, "OPS-2");
        assert_eq!(rest.next, None);

        let submitted = audrey.tickets(&query(Some("submitted"), None, None)).await;
        assert!(submitted.unwrap().items.is_empty());
        let bad = audrey.tickets(&query(Some("lost"), None, None)).await;
        let bad = bad.unwrap_err();
        assert_eq!(bad.status(), Some(400), "{bad}");
        assert!(bad.to_string().contains("lost"), "{bad}");

        let token = app.token("carol@org.example", TokenScope::Read).await;
        let carol = Client::new(&app.url(), token).unwrap();
        let refused = carol.tickets(&TicketQuery::default()).await.unwrap_err();
        assert_eq!(refused.status(), Some(403), "{refused}");
    }
}
