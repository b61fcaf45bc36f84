//! Campaigns end to end over HTTP: an admin creates and launches one, the owner finds the
//! grant in their queue with its justification and revokes it, the revocation runs as a
//! governed request, and the campaign shows the progress.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use writ_api::{
    CampaignItemQuery, CampaignQuery, DecideBody, DecideItemBody, DelegateItemBody, GrantQuery,
    NewCampaignBody, NewRequestBody,
};
use writ_client::{Client, ClientError};
use writ_core::Clock;
use writ_domain::TokenScope;
use writ_testkit::{TestApp, TestDb};

async fn client(app: &TestApp, email: &str, scope: TokenScope) -> Client {
    Client::new(&app.url(), app.token(email, scope).await).unwrap()
}

fn status(result: Result<impl std::fmt::Debug, ClientError>) -> u16 {
    match result {
        Err(ClientError::Api { status, .. }) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_owner_revokes_a_grant_in_a_campaign_and_the_campaign_shows_it() {
    for db in TestDb::each().await {
        let app = TestApp::spawn(db).await;
        let carol = client(&app, "carol@org.example", TokenScope::Write).await;
        let alice = client(&app, "alice@org.example", TokenScope::Write).await;
        let sam = client(&app, "sam@org.example", TokenScope::Write).await;
        let root = client(&app, "root@org.example", TokenScope::Write).await;

        let submitted = carol
            .create_request(&NewRequestBody {
                kind: None,
                identity: "svc".into(),
                entitlement: Some("target/readers".into()),
                justification: "nightly report".into(),
                ttl: Some("7d".into()),
                end: None,
                new_owner: None,
            })
            .await
            .unwrap();
        let decide = DecideBody {
            plan_hash: submitted.request.plan_hash.clone().unwrap(),
            reason: None,
        };
        alice
            .approve(&submitted.request.number, &decide)
            .await
            .unwrap();
        sam.approve(&submitted.request.number, &decide)
            .await
            .unwrap();
        while app.run_jobs().await > 0 {}

        let body = NewCampaignBody {
            name: "Production review".into(),
            deadline: app.clock.now().plus(Duration::from_secs(7200)).to_string(),
            reviewers: None,
            undecided: Some("revoke".into()),
            every_days: None,
            system: None,
            environment: Some("production".into()),
            min_risk: None,
            identity_kind: None,
            older_than_days: None,
        };
        assert_eq!(status(carol.create_campaign(&body).await), 403);
        let campaign = root.create_campaign(&body).await.unwrap();
        assert_eq!(campaign.status, "draft");
        let launched = root.launch_campaign(&campaign.id).await.unwrap();
        assert_eq!(launched.progress.total, 1);
        let listed = carol.campaigns(&CampaignQuery::default()).await.unwrap();
        assert_eq!(listed.items.len(), 1);

        let page = alice
            .my_campaign_items(&CampaignItemQuery::default())
            .await
            .unwrap();
        assert_eq!(page.next, None, "one item, one page");
        let mine = page.items;
        assert_eq!(mine.len(), 1);
        let item = &mine[0];
        assert_eq!(
            (item.identity.as_str(), item.justification.as_str()),
            ("svc", "nightly report")
        );
        let revoke = DecideItemBody {
            decision: "revoke".into(),
            reason: Some("the report is retired".into()),
        };
        assert_eq!(
            status(carol.decide_campaign_item(&item.id, &revoke).await),
            403,
            "only the reviewer decides"
        );
        let to_requester = DelegateItemBody {
            to: "carol@org.example".into(),
            reason: None,
        };
        assert_eq!(
            status(alice.delegate_campaign_item(&item.id, &to_requester).await),
            422,
            "Carol asked for it and may not certify it"
        );
        let decided = alice.decide_campaign_item(&item.id, &revoke).await.unwrap();
        assert_eq!(decided.status, "revoked");
        assert!(decided.revoke_request.is_some());
        while app.run_jobs().await > 0 {}
        let grants = carol.grants(&GrantQuery::default()).await.unwrap();
        assert!(
            grants.items.iter().all(|g| g.status == "revoked"),
            "{grants:?}"
        );

        let shown = carol
            .campaign(&campaign.id, &writ_api::CampaignItemQuery::default())
            .await
            .unwrap();
        assert_eq!((shown.progress.revoked, shown.progress.pending), (1, 0));
        assert_eq!(
            shown.items[0].decided_by.as_deref(),
            Some("alice@org.example")
        );
    }
}
