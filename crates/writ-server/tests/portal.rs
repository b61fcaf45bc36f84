//! The portal through the router without a socket: one-time demo logins, session cookies,
//! CSRF on every form, and a grant from the request form to an active grant.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;
use writ_domain::TokenScope;
use writ_testkit::{TestApp, TestDb};

/// An answer: status, `Location`, `Set-Cookie` and body text.
struct Answer {
    status: StatusCode,
    location: String,
    cookie: String,
    body: String,
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if !cookie.is_empty() {
        request = request.header(header::COOKIE, cookie);
    }
    let body = if method == "POST" {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        Body::from(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish(),
        )
    } else {
        Body::empty()
    };
    let response = app
        .router()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (status, location, cookie) = (
        response.status(),
        header(header::LOCATION),
        header(header::SET_COOKIE),
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    Answer {
        status,
        location,
        cookie,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn demo_app() -> TestApp {
    let mut app = TestApp::new(TestDb::sqlite().await).await;
    app.state.portal.demo = Some(writ_server::DemoLogins::default());
    app
}

/// Signs in as `email` through a one-time link; returns the `Cookie` header and CSRF token.
async fn sign_in(app: &TestApp, email: &str) -> (String, String) {
    let answer = send(app, "GET", &app.login_link(email), "", &[]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let cookie = answer.cookie.split(';').next().unwrap().to_string();
    let page = send(app, "GET", "/portal", &cookie, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    (cookie, csrf)
}

#[tokio::test]
async fn pages_need_a_session() {
    let app = demo_app().await;
    for path in [
        "/portal",
        "/portal/catalog",
        "/portal/requests",
        "/portal/audit",
        "/portal/deliveries",
        "/portal/deliveries?state=",
    ] {
        let answer = send(&app, "GET", path, "", &[]).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.location, "/portal/login", "{path}");
    }
    let forged = send(&app, "GET", "/portal", "writ_session=writ_0000", &[]).await;
    assert_eq!(forged.location, "/portal/login");
}

#[tokio::test]
async fn a_one_time_link_signs_in_once_with_a_safe_cookie() {
    let app = demo_app().await;
    let link = app.login_link("carol@org.example");
    let first = send(&app, "GET", &link, "", &[]).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert!(
        first.cookie.starts_with("writ_session=writ_"),
        "{}",
        first.cookie
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(first.cookie.contains(attribute), "{}", first.cookie);
    }
    assert!(!first.cookie.contains("Secure"), "no TLS configured");
    let again = send(&app, "GET", &link, "", &[]).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.body.contains("used already"), "{}", again.body);
}

#[tokio::test]
async fn one_time_links_do_not_exist_outside_demo_mode() {
    let app = TestApp::new(TestDb::sqlite().await).await;
    let answer = send(&app, "GET", "/portal/login/demo?code=abc", "", &[]).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_form_without_the_session_csrf_token_changes_nothing() {
    let app = demo_app().await;
    let (cookie, _) = sign_in(&app, "carol@org.example").await;
    let form = [
        ("csrf", "0000"),
        ("identity", "svc"),
        ("entitlement", "target/readers"),
        ("justification", "forged"),
    ];
    let answer = send(&app, "POST", "/portal/requests", &cookie, &form).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let mine = send(&app, "GET", "/portal/requests", &cookie, &[]).await;
    assert!(
        mine.body.contains("You have not asked for anything yet"),
        "{}",
        mine.body
    );
}

#[tokio::test]
async fn a_session_opens_the_portal_only_and_an_api_token_opens_the_api_only() {
    let app = demo_app().await;
    let (cookie, _) = sign_in(&app, "carol@org.example").await;
    let session = cookie.trim_start_matches("writ_session=");
    let as_bearer = app
        .router()
        .oneshot(
            Request::builder()
                .uri("/api/v1/requests")
                .header(header::AUTHORIZATION, format!("Bearer {session}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(as_bearer.status(), StatusCode::UNAUTHORIZED);

    let token = app.token("carol@org.example", TokenScope::Write).await;
    let as_cookie = send(
        &app,
        "GET",
        "/portal",
        &format!("writ_session={token}"),
        &[],
    )
    .await;
    assert_eq!(as_cookie.location, "/portal/login");

    let refused = app
        .state
        .tokens
        .create(
            "carol@org.example",
            TokenScope::Session,
            std::time::Duration::from_secs(60),
            writ_domain::audit::Actor::system("test"),
        )
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("signing in to the portal"),
        "{refused}"
    );
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = demo_app().await;
    let (cookie, csrf) = sign_in(&app, "carol@org.example").await;
    let out = send(&app, "POST", "/portal/logout", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.cookie.contains("Max-Age=0"));
    let after = send(&app, "GET", "/portal", &cookie, &[]).await;
    assert_eq!(after.location, "/portal/login");
}

#[tokio::test]
async fn a_request_goes_from_the_form_to_an_active_grant() {
    let app = demo_app().await;
    let (carol, carol_csrf) = sign_in(&app, "carol@org.example").await;
    let form = [
        ("csrf", carol_csrf.as_str()),
        ("identity", "svc"),
        ("entitlement", "target/readers"),
        ("ttl", "8h"),
        ("justification", "nightly export reads the ledger"),
    ];
    // Policy's verdict and the approvers, before anything is stored.
    let check = send(&app, "POST", "/portal/request/check", &carol, &form).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(check.body.contains("Policy: allowed"), "{}", check.body);
    assert!(check.body.contains("Approvals required"), "{}", check.body);
    let submitted = send(&app, "POST", "/portal/requests", &carol, &form).await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let page_path = submitted.location.split('?').next().unwrap().to_string();
    assert!(
        page_path.starts_with("/portal/requests/REQ-"),
        "{page_path}"
    );
    let page = send(&app, "GET", &page_path, &carol, &[]).await;
    assert!(page.body.contains("pending_approval"), "{}", page.body);
    assert!(
        !page.body.contains("Your decision"),
        "a requester never approves their own"
    );

    for approver in ["alice@org.example", "sam@org.example"] {
        let (cookie, csrf) = sign_in(&app, approver).await;
        let inbox = send(&app, "GET", "/portal/approvals", &cookie, &[]).await;
        assert!(inbox.body.contains(&page_path), "{}", inbox.body);
        for name in ["svc", "target/readers", "Carol Teammate"] {
            assert!(inbox.body.contains(name), "{name}: {}", inbox.body);
        }
        let shown = send(&app, "GET", &page_path, &cookie, &[]).await;
        let plan_hash = shown
            .body
            .split("name=\"plan_hash\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string();
        let decided = send(
            &app,
            "POST",
            &format!("{page_path}/decide"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("decision", "approve"),
                ("plan_hash", &plan_hash),
                ("reason", "ok"),
            ],
        )
        .await;
        assert_eq!(
            decided.status,
            StatusCode::SEE_OTHER,
            "{approver}: {}",
            decided.body
        );
    }
    app.run_jobs().await;
    let page = send(&app, "GET", &page_path, &carol, &[]).await;
    assert!(page.body.contains(">fulfilled<"), "{}", page.body);
    assert!(
        page.body.contains("request.submitted"),
        "the timeline: {}",
        page.body
    );
    // Ids are shown by the names people know: approvers and actors by name, the identity,
    // the entitlement as `system/key`.
    for name in [
        "Alice Owner",
        "Sam Security",
        "Carol Teammate",
        "target/readers",
    ] {
        assert!(page.body.contains(name), "{name}: {}", page.body);
    }
    let mine = send(&app, "GET", "/portal/requests", &carol, &[]).await;
    assert!(mine.body.contains("target/readers"), "{}", mine.body);
    let grants = send(&app, "GET", "/portal/grants", &carol, &[]).await;
    assert!(grants.body.contains(">active<"), "{}", grants.body);
    for name in ["svc", "target/readers"] {
        assert!(grants.body.contains(name), "{name}: {}", grants.body);
    }
    let identities = send(&app, "GET", "/portal/identities", &carol, &[]).await;
    for name in ["Alice Owner", "target/readers"] {
        assert!(
            identities.body.contains(name),
            "{name}: {}",
            identities.body
        );
    }
    let (audrey, _) = sign_in(&app, "audrey@org.example").await;
    let log = send(&app, "GET", "/portal/audit?action=request.", &audrey, &[]).await;
    assert!(log.body.contains("Carol Teammate"), "{}", log.body);
}

#[tokio::test]
async fn auditors_read_the_log_and_others_do_not() {
    let app = demo_app().await;
    let (audrey, audrey_csrf) = sign_in(&app, "audrey@org.example").await;
    let log = send(&app, "GET", "/portal/audit?action=token.", &audrey, &[]).await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.contains("token.created"), "{}", log.body);
    let submit = send(
        &app,
        "POST",
        "/portal/requests",
        &audrey,
        &[
            ("csrf", &audrey_csrf),
            ("identity", "svc"),
            ("entitlement", "target/readers"),
            ("justification", "x"),
        ],
    )
    .await;
    assert_eq!(submit.status, StatusCode::FORBIDDEN);
    let (carol, _) = sign_in(&app, "carol@org.example").await;
    let denied = send(&app, "GET", "/portal/audit", &carol, &[]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_page_renders_for_a_signed_in_person() {
    let app = demo_app().await;
    let (root, _) = sign_in(&app, "root@org.example").await;
    for path in [
        "/portal",
        "/portal/catalog?q=read",
        "/portal/request?entitlement=target%2Freaders",
        "/portal/requests",
        "/portal/approvals",
        "/portal/identities",
        "/portal/grants",
        "/portal/findings",
        "/portal/findings?status=&kind=unowned_account",
        "/portal/audit",
        "/portal/deliveries",
        "/portal/deliveries?state=",
        "/portal/reviews",
        "/portal/campaigns",
    ] {
        let answer = send(&app, "GET", path, &root, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        assert!(answer.body.contains("<main id=\"main\">"), "{path}");
    }
}

#[tokio::test]
async fn auditors_download_a_request_s_evidence_that_verifies_offline() {
    let app = demo_app().await;
    let (carol, carol_csrf) = sign_in(&app, "carol@org.example").await;
    let submitted = send(
        &app,
        "POST",
        "/portal/requests",
        &carol,
        &[
            ("csrf", &carol_csrf),
            ("identity", "svc"),
            ("entitlement", "target/readers"),
            ("ttl", "8h"),
            ("justification", "nightly report"),
        ],
    )
    .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let page = submitted.location.split('?').next().unwrap().to_string();
    let number = page.rsplit('/').next().unwrap().to_string();
    let refused = send(&app, "GET", &format!("{page}/evidence"), &carol, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let (audrey, _) = sign_in(&app, "audrey@org.example").await;
    let shown = send(&app, "GET", &page, &audrey, &[]).await;
    assert!(
        shown.body.contains("Download the evidence bundle"),
        "{}",
        shown.body
    );
    let bundle = send(&app, "GET", &format!("{page}/evidence"), &audrey, &[]).await;
    assert_eq!(bundle.status, StatusCode::OK, "{}", bundle.body);
    let summary = writ_domain::bundle::EvidenceBundle::verify(
        bundle.body.as_bytes(),
        &writ_testkit::test_signer().verifier(),
    )
    .unwrap();
    assert_eq!(summary.request, number);
}

#[tokio::test]
async fn a_dead_letter_is_shown_to_administrators_with_its_error() {
    use writ_core::Clock;
    let app = demo_app().await;
    let store = &app.state.store;
    let now = app.clock.now();
    writ_testkit::refuse_ticket(&**store, "OPS-77", now).await;
    let claim = writ_store::ClaimRequest {
        worker: "test",
        now,
        lease_for: std::time::Duration::from_secs(60),
        limit: 1,
    };
    let entry = store.claim_outbox(claim).await.unwrap().remove(0);
    let error = "jira (comment) answered 404 Not Found";
    store
        .outbox_failed(entry.id, error, None, now)
        .await
        .unwrap();

    let (root, _) = sign_in(&app, "root@org.example").await;
    let page = send(&app, "GET", "/portal/deliveries", &root, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&entry.id.to_string()), "{}", page.body);
    assert!(page.body.contains("jira:OPS-77"));
    assert!(page.body.contains(error));
    let refused = &page.body[page.body.find("Refused tickets").unwrap()..];
    assert!(refused.contains("jira:OPS-77"), "{refused}");
    assert!(
        refused.contains("is not a catalog entitlement"),
        "the reason is shown: {refused}"
    );
    let (carol, _) = sign_in(&app, "carol@org.example").await;
    let denied = send(&app, "GET", "/portal/deliveries", &carol, &[]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_reviewer_keeps_access_from_my_reviews_and_the_campaign_charts_it() {
    use writ_core::Clock;
    let app = demo_app().await;
    let store = app.state.store.clone();
    let id = |email: &'static str| {
        let store = store.clone();
        async move { store.principal_by_email(email).await.unwrap().unwrap().id }
    };
    let catalog = store.catalog().await.unwrap();
    let submitted = app
        .state
        .requests
        .submit(writ_core::requests::NewRequest {
            requester: id("carol@org.example").await,
            kind: writ_domain::RequestKind::Grant,
            identity: catalog.identities[0].id,
            entitlement: Some(catalog.entitlements[0].id),
            justification: "nightly export reads the ledger".into(),
            ttl: None,
            end: None,
            external_ref: None,
            new_owner: None,
        })
        .await
        .unwrap();
    for approver in ["alice@org.example", "sam@org.example"] {
        app.state
            .requests
            .decide(writ_core::requests::Decide {
                approver: id(approver).await,
                request: submitted.request.id,
                decision: writ_domain::ApprovalDecision::Approve,
                reason: None,
                plan_hash: submitted.request.plan_hash.unwrap(),
            })
            .await
            .unwrap();
    }
    app.run_jobs().await;
    let root = id("root@org.example").await;
    let campaign = app
        .state
        .campaigns
        .create(writ_core::campaigns::NewCampaign {
            created_by: root,
            name: "Quarterly production review".into(),
            scope: writ_domain::CampaignScope::default(),
            reviewers: writ_domain::ReviewerRule::IdentityOwner,
            undecided: writ_domain::UndecidedPolicy::Revoke,
            deadline: app.clock.now().plus(std::time::Duration::from_secs(86_400)),
            every_days: None,
        })
        .await
        .unwrap();
    let items = app.state.campaigns.launch(root, campaign.id).await.unwrap();

    let (alice, csrf) = sign_in(&app, "alice@org.example").await;
    let reviews = send(&app, "GET", "/portal/reviews", &alice, &[]).await;
    assert!(
        reviews.body.contains("svc holds Readers on target"),
        "{}",
        reviews.body
    );
    assert!(reviews.body.contains("nightly export reads the ledger"));
    let decided = send(
        &app,
        "POST",
        &format!("/portal/reviews/{}/decide", items[0].id),
        &alice,
        &[
            ("csrf", &csrf),
            ("decision", "keep"),
            ("reason", "still exports nightly"),
        ],
    )
    .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    let reviews = send(&app, "GET", "/portal/reviews", &alice, &[]).await;
    assert!(
        reviews.body.contains("No access waits for your review"),
        "{}",
        reviews.body
    );

    let list = send(&app, "GET", "/portal/campaigns", &alice, &[]).await;
    assert!(
        list.body.contains("Quarterly production review"),
        "{}",
        list.body
    );
    let shown = send(
        &app,
        "GET",
        &format!("/portal/campaigns/{}", campaign.id),
        &alice,
        &[],
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(
        shown.body.contains("<svg"),
        "a completion chart: {}",
        shown.body
    );
    assert!(shown.body.contains("1 of 1"), "{}", shown.body);
    assert!(
        shown.body.contains("still exports nightly"),
        "{}",
        shown.body
    );
}
