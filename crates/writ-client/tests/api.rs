//! End to end: the real server on a free port over a fresh store (SQLite, and PostgreSQL when
//! `WRIT_TEST_POSTGRES_URL` is set), driven through the typed client with bearer tokens.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use writ_api::{
    AuditQuery, CancelBody, DecideBody, EntitlementQuery, GrantQuery, IdentityQuery,
    NewRequestBody, NotificationQuery, RequestQuery, SystemQuery,
};
use writ_client::{Client, ClientError};
use writ_domain::TokenScope;
use writ_testkit::{TestApp, TestDb};

async fn client(app: &TestApp, email: &str, scope: TokenScope) -> Client {
    Client::new(&app.url(), app.token(email, scope).await).unwrap()
}

fn readers(justification: &str) -> NewRequestBody {
    NewRequestBody {
        kind: None,
        identity: "svc".into(),
        entitlement: Some("target/readers".into()),
        justification: justification.into(),
        ttl: Some("8h".into()),
        end: None,
        new_owner: None,
    }
}

fn api_error(result: Result<impl std::fmt::Debug, ClientError>) -> (u16, writ_api::ErrorDetail) {
    match result {
        Err(ClientError::Api { status, error }) => (status, error),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_request_is_submitted_approved_by_two_approvers_executed_and_shown_fulfilled() {
    for db in TestDb::each().await {
        let backend = db.backend();
        let app = TestApp::spawn(db).await;
        let carol = client(&app, "carol@org.example", TokenScope::Write).await;
        let alice = client(&app, "alice@org.example", TokenScope::Write).await;
        let sam = client(&app, "sam@org.example", TokenScope::Write).await;
        let audrey = client(&app, "audrey@org.example", TokenScope::Read).await;

        let systems = carol.systems(&SystemQuery::default()).await.unwrap();
        assert_eq!(systems.items.len(), 1, "{backend}");
        assert_eq!(systems.items[0].name, "target");
        let entitlements = carol
            .entitlements(&EntitlementQuery {
                system: Some("target".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(entitlements.items[0].key, "readers");

        let explained = carol.explain(&readers("nightly report")).await.unwrap();
        assert!(explained.allowed, "{explained:?}");
        assert_eq!(explained.stages.len(), 2, "production needs two approvers");

        let submitted = carol
            .create_request(&readers("nightly report"))
            .await
            .unwrap();
        let request = submitted.request;
        assert_eq!(request.status, "pending_approval", "{backend}");
        let number = request.number.clone();
        let plan_hash = request.plan_hash.clone().unwrap();
        let decide = DecideBody {
            plan_hash: plan_hash.clone(),
            reason: None,
        };

        // The requester cannot approve; policy's reasons come back as details.
        let (status, error) = api_error(carol.approve(&number, &decide).await);
        assert_eq!((status, error.code.as_str()), (403, "refused"), "{error:?}");
        assert!(
            error.details["reasons"]
                .as_array()
                .is_some_and(|r| !r.is_empty())
        );

        let first = alice.approve(&number, &decide).await.unwrap();
        assert_eq!(first.outcome, "next_stage", "{backend}");
        let second = sam.approve(&number, &decide).await.unwrap();
        assert_eq!(second.outcome, "approved", "{backend}");
        assert_eq!(second.request.status, "approved");

        assert!(app.run_jobs().await >= 1, "the runner executes it");
        let shown = carol.request(&number).await.unwrap();
        assert_eq!(shown.request.status, "fulfilled", "{backend}");
        assert_eq!(shown.approvals.len(), 2);
        let grants = carol
            .grants(&GrantQuery {
                identity: Some("svc".into()),
                status: Some("active".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(grants.items.len(), 1, "{backend}");
        assert_eq!(grants.items[0].request, shown.request.id);

        let identity = carol.identity("svc").await.unwrap();
        assert_eq!(identity.owner.unwrap().email, "alice@org.example");
        assert_eq!(identity.grants.len(), 1);
        assert_eq!(identity.accounts.len(), 1);

        // Every change is recorded as its caller's: carol submitted, sam approved last.
        let audit = audrey.audit(&AuditQuery::default()).await.unwrap();
        let actor_of = |action: &str| {
            audit
                .items
                .iter()
                .find(|e| e.action == action)
                .map(|e| e.actor.clone())
                .unwrap_or_else(|| panic!("no {action} in the audit log"))
        };
        assert_eq!(
            actor_of("request.submitted"),
            format!("principal:{}", request.requester)
        );
        assert_eq!(
            actor_of("request.approved"),
            format!("principal:{}", shown.approvals[1].approver)
        );
    }
}

#[tokio::test]
async fn auditors_read_but_every_write_is_forbidden() {
    for db in TestDb::each().await {
        let app = TestApp::spawn(db).await;
        let carol = client(&app, "carol@org.example", TokenScope::Write).await;
        let number = carol
            .create_request(&readers("report"))
            .await
            .unwrap()
            .request
            .number;
        // Even with a write token, an auditor changes nothing.
        let audrey = client(&app, "audrey@org.example", TokenScope::Write).await;
        assert_eq!(
            audrey.request(&number).await.unwrap().request.number,
            number
        );
        let decide = DecideBody {
            plan_hash: "0".repeat(64),
            reason: Some("no".into()),
        };
        for result in [
            audrey.create_request(&readers("x")).await.map(|_| ()),
            audrey.approve(&number, &decide).await.map(|_| ()),
            audrey.deny(&number, &decide).await.map(|_| ()),
            audrey
                .cancel(&number, &CancelBody::default())
                .await
                .map(|_| ()),
            audrey.reveal(&number).await.map(|_| ()),
        ] {
            let (status, error) = api_error(result);
            assert_eq!((status, error.code.as_str()), (403, "forbidden"));
        }
        // The requester may cancel; a second cancel is refused.
        let cancelled = carol.cancel(&number, &CancelBody::default()).await.unwrap();
        assert_eq!(cancelled.status, "cancelled");
        let (status, _) = api_error(carol.cancel(&number, &CancelBody::default()).await);
        assert!((400..500).contains(&status));
    }
}

#[tokio::test]
async fn lists_page_through_everything_once_newest_first() {
    for db in TestDb::each().await {
        let backend = db.backend();
        let app = TestApp::spawn(db).await;
        let carol = client(&app, "carol@org.example", TokenScope::Write).await;
        for i in 0..7 {
            carol
                .create_request(&readers(&format!("request {i}")))
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let page = carol
                .requests(&RequestQuery {
                    after: after.clone(),
                    limit: Some(3),
                    requester: Some("carol@org.example".into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            pages += 1;
            assert!(page.items.len() <= 3);
            seen.extend(page.items.into_iter().map(|r| r.number));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(pages, 3, "{backend}");
        let expected: Vec<String> = (1..=7).rev().map(|n| format!("REQ-{n:06}")).collect();
        assert_eq!(seen, expected, "{backend}");
        // Filters narrow the same walk.
        let pending = carol
            .requests(&RequestQuery {
                status: Some("pending_approval".into()),
                system: Some("target".into()),
                identity: Some("svc".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!pending.items.is_empty());
        assert!(pending.items.iter().all(|r| r.status == "pending_approval"));
        let identities = carol
            .identities(&IdentityQuery {
                limit: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(identities.items.len(), 1);
        assert_eq!(identities.next, None, "one identity: one page");
    }
}

#[tokio::test]
async fn bad_input_is_a_4xx_naming_the_field_and_bad_tokens_are_401() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let carol = client(&app, "carol@org.example", TokenScope::Write).await;
    let (status, error) = api_error(
        carol
            .requests(&RequestQuery {
                limit: Some(501),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(
        (status, error.details["field"].as_str()),
        (400, Some("limit"))
    );
    let mut body = readers("x");
    body.ttl = Some("a while".into());
    let (status, error) = api_error(carol.create_request(&body).await);
    assert_eq!(
        (status, error.details["field"].as_str()),
        (400, Some("ttl"))
    );
    let (status, error) = api_error(carol.request("REQ-404").await);
    assert_eq!((status, error.code.as_str()), (404, "not_found"));

    let stranger = Client::new(&app.url(), "writ_forged").unwrap();
    let (status, error) = api_error(stranger.systems(&SystemQuery::default()).await);
    assert_eq!((status, error.code.as_str()), (401, "unauthenticated"));
}

/// `count` more identities owned by Alice, each holding `target/readers`, ending an hour apart
/// from an hour from now.
async fn seed_grants(app: &TestApp, count: usize) {
    let store = app.db.store();
    let mut yaml = writ_testkit::catalog_yaml(&app.target.path().display().to_string());
    for i in 0..count {
        yaml.push_str(&format!(
            "  - {{name: batch-{i}, kind: service_account, owner: alice@org.example, purpose: batch {i}, environment: production}}\n"
        ));
    }
    writ_core::catalog::apply(
        &*store,
        &*app.clock,
        writ_domain::audit::Actor::system("test"),
        "more.yaml",
        &yaml,
        false,
    )
    .await
    .unwrap();
    let catalog = store.catalog().await.unwrap();
    let id_of = |email: &str| {
        catalog
            .principals
            .iter()
            .find(|p| p.email.as_str() == email)
            .unwrap()
            .id
    };
    let identities = catalog
        .identities
        .iter()
        .filter(|i| i.name.as_str().starts_with("batch-"))
        .map(|i| (i.id, i.name.as_str().parse().unwrap()))
        .collect();
    let now = writ_core::Clock::now(&*app.clock);
    let hour = std::time::Duration::from_secs(3600);
    writ_store::seed::active_grants(
        app.db.url(),
        &writ_store::seed::ActiveGrants {
            requester: id_of("carol@org.example"),
            system: catalog.systems[0].id,
            identities,
            entitlements: vec![catalog.entitlements[0].id],
            granted_at: now,
            first_end: now.plus(hour),
            last_end: now.plus(hour * count as u32),
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn grant_and_identity_filters_page_in_their_own_order() {
    for db in TestDb::each().await {
        let backend = db.backend();
        let app = TestApp::spawn(db).await;
        seed_grants(&app, 5).await;
        let carol = client(&app, "carol@org.example", TokenScope::Read).await;

        // By system, newest first, three pages of at most two.
        let mut ids = Vec::new();
        let mut query = GrantQuery {
            system: Some("target".into()),
            limit: Some(2),
            ..Default::default()
        };
        loop {
            let page = carol.grants(&query).await.unwrap();
            ids.extend(page.items.into_iter().map(|g| g.id));
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        let mut newest_first = ids.clone();
        newest_first.sort_by(|a, b| b.cmp(a));
        newest_first.dedup();
        assert_eq!(ids, newest_first, "{backend}: newest first, each once");
        assert_eq!(ids.len(), 5, "{backend}");

        // Ending within 2h40m (the seed spreads ends 48 minutes apart from 1h): three, soonest
        // first, across two pages.
        let now = writ_core::Clock::now(&*app.clock);
        let before = now.plus(std::time::Duration::from_secs(2 * 3600 + 2400));
        let mut query = GrantQuery {
            expiring_before: Some(before.to_string()),
            limit: Some(2),
            ..Default::default()
        };
        let mut ends = Vec::new();
        let mut pages = 0;
        loop {
            let page = carol.grants(&query).await.unwrap();
            pages += 1;
            ends.extend(page.items.into_iter().map(|g| g.expires_at.unwrap()));
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        assert_eq!((ends.len(), pages), (3, 2), "{backend}: {ends:?}");
        let mut sorted = ends.clone();
        sorted.sort();
        assert_eq!(ends, sorted, "{backend}: soonest first");

        // Identities by owner, by name, a page at a time.
        let mut names = Vec::new();
        let mut query = IdentityQuery {
            owner: Some("alice@org.example".into()),
            limit: Some(4),
            ..Default::default()
        };
        loop {
            let page = carol.identities(&query).await.unwrap();
            names.extend(page.items.into_iter().map(|i| i.name));
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        assert_eq!(
            names,
            ["batch-0", "batch-1", "batch-2", "batch-3", "batch-4", "svc"],
            "{backend}"
        );
    }
}

#[tokio::test]
async fn exceptions_are_listed_apart() {
    for db in TestDb::each().await {
        let backend = db.backend();
        let app = TestApp::spawn(db).await;
        let carol = client(&app, "carol@org.example", TokenScope::Write).await;
        carol.create_request(&readers("the usual")).await.unwrap();
        let end =
            writ_core::Clock::now(&*app.clock).plus(std::time::Duration::from_secs(10 * 86_400));
        let exception = carol
            .create_request(&NewRequestBody {
                kind: Some("exception".into()),
                ttl: None,
                end: Some(end.to_string()),
                ..readers("the report needs it past its TTL until the migration")
            })
            .await
            .unwrap();
        assert_eq!(
            exception.request.status, "pending_approval",
            "{backend}: {:?}",
            exception.explanation
        );
        carol.create_request(&readers("again")).await.unwrap();

        let exceptions = carol
            .requests(&RequestQuery {
                kind: Some("exception".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let numbers: Vec<_> = exceptions.items.iter().map(|r| r.number.clone()).collect();
        assert_eq!(numbers, vec![exception.request.number.clone()], "{backend}");
        let (status, error) = api_error(
            carol
                .requests(&RequestQuery {
                    kind: Some("favour".into()),
                    ..Default::default()
                })
                .await,
        );
        assert_eq!(status, 400);
        assert!(error.message.contains("kind"), "{}", error.message);
    }
}

#[tokio::test]
async fn a_rotated_secret_is_revealed_once_to_its_requester_over_the_api() {
    for db in TestDb::each().await {
        let backend = db.backend();
        let app = TestApp::spawn(db).await;
        let store = app.db.store();
        let catalog = store.catalog().await.unwrap();
        let alice_id = catalog
            .principals
            .iter()
            .find(|p| p.email.as_str() == "alice@org.example")
            .unwrap()
            .id;
        // A first issue: writ has no credential on record for the account yet.
        let submitted = app
            .rotations
            .submit(writ_core::rotate::NewRotation {
                requester: alice_id,
                identity: catalog.identities[0].id,
                system: catalog.systems[0].id,
                justification: "first key".into(),
                current: None,
                not_before: None,
            })
            .await
            .unwrap();
        let number = submitted.request.number.to_string();
        assert!(app.run_jobs().await >= 1);

        let carol = client(&app, "carol@org.example", TokenScope::Write).await;
        let (status, _) = api_error(carol.reveal(&number).await);
        assert_eq!(status, 403, "{backend}: only the requester");

        let alice = client(&app, "alice@org.example", TokenScope::Write).await;
        let revealed = alice.reveal(&number).await.unwrap();
        assert_eq!(revealed.secret.len(), 64, "{backend}");
        assert_eq!(revealed.system, "target");
        assert!(!revealed.fingerprint.contains(&revealed.secret));

        let (status, error) = api_error(alice.reveal(&number).await);
        assert_eq!(status, 422, "{backend}: {error:?}");
        assert!(error.message.contains("revealed already"), "{error:?}");
        assert!(!error.message.contains(&revealed.secret));
    }
}

#[tokio::test]
async fn an_auditor_downloads_a_bundle_that_verifies_offline_and_others_may_not() {
    for db in TestDb::each().await {
        let backend = db.backend();
        let app = TestApp::spawn(db).await;
        let carol = client(&app, "carol@org.example", TokenScope::Write).await;
        let number = carol
            .create_request(&readers("nightly report"))
            .await
            .unwrap()
            .request
            .number;
        let audrey = client(&app, "audrey@org.example", TokenScope::Read).await;
        let bytes = audrey.evidence(&number).await.unwrap();
        let summary = writ_domain::bundle::EvidenceBundle::verify(
            &bytes,
            &writ_testkit::test_signer().verifier(),
        )
        .unwrap();
        assert_eq!(summary.request, number, "{backend}");
        let checkpoints = audrey.checkpoints().await.unwrap();
        assert_eq!(checkpoints.items.len(), 1, "signed for the download");
        assert!(
            checkpoints.items[0]
                .note
                .starts_with("test.writ.example/audit\n")
        );

        let (status, _) = api_error(carol.evidence(&number).await);
        assert_eq!(
            status, 403,
            "{backend}: evidence is for auditors and admins"
        );
        let (status, _) = api_error(audrey.evidence("REQ-999999").await);
        assert_eq!(status, 404);
    }
}

#[tokio::test]
async fn break_glass_notifies_the_owner_and_security_in_their_inboxes() {
    for db in TestDb::each().await {
        let backend = db.backend();
        let app = TestApp::spawn(db).await;
        let carol = client(&app, "carol@org.example", TokenScope::Write).await;
        let emergency = carol
            .create_request(&NewRequestBody {
                kind: Some("break_glass".into()),
                ttl: Some("1h".into()),
                ..readers("INC-42: the nightly report is stuck")
            })
            .await
            .unwrap();
        assert_eq!(
            emergency.request.status, "approved",
            "{backend}: {:?}",
            emergency.explanation
        );
        for who in ["alice@org.example", "sam@org.example", "priya@org.example"] {
            let inbox = client(&app, who, TokenScope::Read)
                .await
                .notifications(&NotificationQuery::default())
                .await
                .unwrap();
            assert_eq!(inbox.items.len(), 1, "{backend}: {who}");
            assert_eq!(inbox.items[0].topic, "break_glass_used");
            assert_eq!(inbox.items[0].request, emergency.request.number);
        }
        let own = carol
            .notifications(&NotificationQuery::default())
            .await
            .unwrap();
        assert!(own.items.is_empty(), "{backend}: the requester is not told");
    }
}
