//! The generic JSON form end to end, on SQLite and PostgreSQL: a signed delivery becomes a
//! request whose outcome notes are posted, signed, to the desk's callback; a bad signature,
//! a stale timestamp and a replay change nothing; the same ticket key sent again is an update
//! whose new approver counts.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::fake_desk::FakeDesk;
use support::{deliver, only_request, post, request_count, worker};
use writ_core::Clock;
use writ_domain::{RequestStatus, TicketOutcome};
use writ_servicedesk::Secret;
use writ_servicedesk::generic::{GenericDesk, GenericSettings};
use writ_servicedesk::signature::hmac_sha256;
use writ_testkit::{TestApp, TestDb};

const SECRET: &str = "generic-webhook-secret";

fn settings(desk: &FakeDesk) -> GenericSettings {
    GenericSettings {
        name: "helpdesk".into(),
        webhook_secret: Secret::new(SECRET),
        max_skew: Duration::from_secs(600),
        callback_url: Some(format!("{}/callback", desk.url)),
    }
}

async fn app_with_generic(db: TestDb, desk: &FakeDesk) -> TestApp {
    let mut app = TestApp::new(db).await;
    app.state.webhooks.generic = Some(Arc::new(writ_server::Desk {
        settings: settings(desk),
        count_approvals: true,
    }));
    app
}

/// The form as the README documents it, for ticket `HD-7`, sent `ago` before now.
fn form(app: &TestApp, delivery: &str, approvers: &[&str], ago: Duration) -> Vec<u8> {
    let sent = app.clock.now().as_micros() / 1_000_000 - ago.as_secs() as i64;
    serde_json::json!({
        "delivery_id": delivery,
        "timestamp": sent,
        "ticket": { "key": "HD-7", "url": "https://helpdesk.example/HD-7" },
        "reporter": { "email": "carol@org.example" },
        "entitlement": "target/readers",
        "identity": "svc",
        "ttl": "8h",
        "justification": "svc reads the target for the nightly export",
        "approvers": approvers.iter().map(|e| serde_json::json!({ "email": e })).collect::<Vec<_>>(),
    })
    .to_string()
    .into_bytes()
}

fn signature(secret: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let mac = hex::encode(hmac_sha256(secret.as_bytes(), &[body]));
    vec![("x-writ-signature", format!("sha256={mac}"))]
}

async fn send(app: &TestApp, body: &[u8]) -> (u16, serde_json::Value) {
    post(app, "/webhooks/generic", &signature(SECRET, body), body).await
}

#[tokio::test]
async fn a_generic_ticket_becomes_a_request_and_its_outcome_is_posted_back_signed() {
    for db in TestDb::each().await {
        let desk = FakeDesk::start().await;
        let app = app_with_generic(db, &desk).await;
        let (status, answer) = send(&app, &form(&app, "g-1", &[], Duration::ZERO)).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["outcome"], "submitted", "{answer}");
        let request = only_request(&app).await;
        assert_eq!(request.external_ref.as_ref().unwrap().system, "helpdesk");
        assert_eq!(
            request.requested_ttl.map(|t| t.to_string()),
            Some("8h".into())
        );
        let ticket = app.state.store.ticket("helpdesk", "HD-7").await.unwrap();
        assert_eq!(ticket.unwrap().outcome, TicketOutcome::Submitted);

        // Sent again under a new id, now approved by the identity's owner: an update.
        let approved = form(&app, "g-2", &["alice@org.example"], Duration::ZERO);
        let (_, answer) = send(&app, &approved).await;
        assert_eq!(answer["outcome"], "updated", "{answer}");
        let approvals = app.state.store.approvals_of(request.id).await.unwrap();
        assert_eq!(approvals.len(), 1, "alice's approval counts: {approvals:?}");
        assert_eq!(request_count(&app).await, 1);

        let callback = GenericDesk::new(settings(&desk));
        deliver(&worker(&app, "helpdesk", Arc::new(callback))).await;
        let notes = desk.calls_of("callback");
        assert_eq!(
            notes.len(),
            2,
            "submitted, then alice's approval: {notes:?}"
        );
        for note in &notes {
            let expected = signature(SECRET, &note.raw).remove(0).1;
            assert_eq!(note.headers["x-writ-signature"], expected, "signed");
            assert_eq!(note.body["ticket"]["key"], "HD-7");
            assert_eq!(note.body["request"], request.number.to_string());
        }
        assert_eq!(
            notes[0].body["status"],
            RequestStatus::PendingApproval.as_str()
        );
        assert!(
            notes[1].body["approvers"]
                .to_string()
                .contains("alice@org.example")
        );
        assert!(
            notes[1].body["text"]
                .as_str()
                .unwrap()
                .contains("Identity: svc")
        );
    }
}

#[tokio::test]
async fn a_bad_signature_a_stale_timestamp_or_a_replay_changes_nothing() {
    for db in TestDb::each().await {
        let desk = FakeDesk::start().await;
        let app = app_with_generic(db, &desk).await;
        let body = form(&app, "g-1", &[], Duration::ZERO);
        let forged = signature("a-guess", &body);
        let (status, answer) = post(&app, "/webhooks/generic", &forged, &body).await;
        assert_eq!(
            (status, &answer["error"]["code"]),
            (401, &"unverified".into())
        );
        assert!(!answer.to_string().contains(SECRET), "{answer}");
        assert_eq!(post(&app, "/webhooks/generic", &[], &body).await.0, 401);

        let stale = form(&app, "g-2", &[], Duration::from_secs(3600));
        let (status, answer) = send(&app, &stale).await;
        assert_eq!(status, 401);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("stale"),
            "{answer}"
        );

        let mut typo: serde_json::Value = serde_json::from_slice(&body).unwrap();
        typo["entitlment"] = typo["entitlement"].take();
        let typo = typo.to_string().into_bytes();
        let (status, answer) = send(&app, &typo).await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("entitlment"),
            "{answer}"
        );

        assert_eq!(request_count(&app).await, 0);
        assert!(
            app.state
                .store
                .tickets_page(None, None, 10)
                .await
                .unwrap()
                .is_empty(),
            "nothing stored for a delivery refused at the door"
        );
        assert!(
            !app.state
                .store
                .inbound_seen("helpdesk", "g-1")
                .await
                .unwrap()
        );

        assert_eq!(send(&app, &body).await.1["outcome"], "submitted");
        let (status, answer) = send(&app, &body).await;
        assert_eq!((status, &answer["outcome"]), (200, &"replay".into()));
        assert_eq!(request_count(&app).await, 1);
    }
}
