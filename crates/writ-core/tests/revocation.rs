//! Access that ends, end to end on real targets with a manual clock: a grant is revoked at
//! its end and is `revoked` only once the target shows it gone; a `revoke` request takes access
//! away at once; offboarding removes everything everywhere before the identity is
//! decommissioned, and says what is still live when it cannot.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod org;

use std::time::Duration;

use org::{Org, PgTarget, local_target, psql};
use writ_connect::Connector;
use writ_core::Clock;
use writ_core::execute::ExecuteError;
use writ_core::requests::NewRequest;
use writ_domain::{IdentityStatus, Request, RequestKind, RequestStatus};
use writ_testkit::TestDb;

const EIGHT_HOURS: Duration = Duration::from_secs(8 * 3600);

/// Carol's request, approved by Alice and executed.
async fn fulfilled(org: &Org, entitlement: usize) -> Request {
    let request = org.submit_for(entitlement).await;
    org.approve("alice@org.example", &request).await.unwrap();
    while org.runner.run_once().await.unwrap() > 0 {}
    assert_eq!(org.status(&request).await, RequestStatus::Fulfilled);
    request
}

/// Alice (the owner) asks to revoke the `entitlement`-th entitlement, or to offboard.
async fn removal(org: &Org, kind: RequestKind, entitlement: Option<usize>) -> Request {
    let catalog = org.db.store().catalog().await.unwrap();
    let submitted = org
        .requests
        .submit(NewRequest {
            requester: org.id_of("alice@org.example").await,
            kind,
            identity: catalog.identities[0].id,
            entitlement: entitlement.map(|i| catalog.entitlements[i].id),
            justification: "the nightly report was retired".into(),
            ttl: None,
            end: None,
            external_ref: None,
            new_owner: None,
        })
        .await
        .unwrap();
    assert_eq!(
        submitted.request.status,
        RequestStatus::Approved,
        "{:?}",
        submitted.explanation
    );
    submitted.request
}

#[tokio::test]
async fn a_grant_is_revoked_at_its_end_only_once_the_target_shows_it_gone() {
    for db in TestDb::each().await {
        let Some(target) = PgTarget::new().await else {
            return;
        };
        let org = Org::new(db, &target.prefix, &target.config(5432), "development").await;
        let started = org.clock.now();
        fulfilled(&org, 0).await;
        assert!(target.is_member());

        let revoker = org.executor.revoker();
        assert_eq!(revoker.sweep_expired().await.unwrap(), 0, "not due yet");
        org.clock.advance(EIGHT_HOURS + Duration::from_secs(1));
        assert_eq!(revoker.sweep_expired().await.unwrap(), 1);
        assert_eq!(revoker.sweep_expired().await.unwrap(), 0, "started once");
        assert!(target.is_member(), "nothing is revoked by the sweep itself");
        assert_eq!(org.runner.run_once().await.unwrap(), 1);
        assert!(!target.is_member(), "gone from pg_auth_members");

        let actions = org.audit_actions().await;
        assert!(
            actions.ends_with(&["grant.expiring".into(), "grant.revoked".into()]),
            "{actions:?}"
        );
        let lags = org.db.store().expiry_lags(started).await.unwrap();
        assert_eq!(lags.len(), 1);
        assert!(lags[0] <= Duration::from_secs(2), "{lags:?}");
    }
}

#[tokio::test]
async fn a_revoke_request_takes_the_access_away_at_once() {
    for db in TestDb::each().await {
        let Some(target) = PgTarget::new().await else {
            return;
        };
        let org = Org::new(db, &target.prefix, &target.config(5432), "development").await;
        fulfilled(&org, 0).await;
        assert!(target.is_member());

        let revoke = removal(&org, RequestKind::Revoke, Some(0)).await;
        assert_eq!(org.runner.run_once().await.unwrap(), 1);
        assert_eq!(org.status(&revoke).await, RequestStatus::Fulfilled);
        assert!(!target.is_member());

        // The grant ended with it: its end coming later starts nothing.
        org.clock.advance(EIGHT_HOURS * 2);
        let revoker = org.executor.revoker();
        assert_eq!(revoker.sweep_expired().await.unwrap(), 0);

        // Revoking absent access succeeds, and is still proven by a read-back.
        let again = removal(&org, RequestKind::Revoke, Some(0)).await;
        org.runner.run_once().await.unwrap();
        assert_eq!(org.status(&again).await, RequestStatus::Fulfilled);
    }
}

/// One identity with an entitlement on a `local` target and one on a PostgreSQL target.
fn two_systems(prefix: &str, local_config: &str, pg_config: &str) -> String {
    format!(
        r#"
principals:
  - {{external_id: alice, email: alice@org.example, name: Alice Owner, groups: [team]}}
  - {{external_id: carol, email: carol@org.example, name: Carol Teammate, groups: [team]}}
systems:
  - {{name: files, connector: local, owner: alice@org.example, environment: development, criticality: low, config: {local_config}}}
  - {{name: ledger, connector: postgres, owner: alice@org.example, environment: development, criticality: high, config: {pg_config}}}
entitlements:
  - {{system: files, key: {prefix}readers, name: File readers, risk: medium, default_ttl: 8h, max_ttl: 7d, owner: alice@org.example}}
  - {{system: ledger, key: {prefix}readers, name: Ledger readers, risk: medium, default_ttl: 8h, max_ttl: 7d, owner: alice@org.example}}
identities:
  - {{name: {prefix}svc, kind: service_account, owner: alice@org.example, team: team, purpose: the service under test, environment: development}}
"#
    )
}

fn can_login(target: &PgTarget) -> bool {
    let sql = format!(
        "SELECT rolcanlogin FROM pg_roles WHERE rolname = '{}svc'",
        target.prefix
    );
    psql(&target.admin_url, None, &sql) == "t"
}

#[tokio::test]
async fn offboarding_removes_every_access_everywhere_before_the_identity_is_decommissioned() {
    for db in TestDb::each().await {
        let Some(pg) = PgTarget::new().await else {
            return;
        };
        let (_dir, files, local_config) = local_target(&pg.prefix, true).await;
        let yaml = two_systems(&pg.prefix, &local_config, &pg.config(5432));
        let org = Org::with_catalog(db, &yaml).await;
        let (account, entitlement) = (
            format!("{}svc", pg.prefix).parse().unwrap(),
            format!("{}readers", pg.prefix).parse().unwrap(),
        );
        fulfilled(&org, 0).await;
        fulfilled(&org, 1).await;
        assert!(files.holds(&account, &entitlement).await.unwrap());
        assert!(pg.is_member() && can_login(&pg));

        // The ledger is unreachable: the offboarding stays open and names what is live.
        let unreachable = two_systems(&pg.prefix, &local_config, &pg.config(1));
        org.apply(&unreachable).await;
        let offboard = removal(&org, RequestKind::Offboard, None).await;
        let error = org
            .executor
            .execute(offboard.id, offboard.plan_hash.unwrap())
            .await
            .unwrap_err();
        let ExecuteError::Target(error) = error else {
            panic!("{error}");
        };
        assert!(error.is_transient(), "{error}");
        let message = error.to_string();
        assert!(
            message.contains("still live")
                && message.contains(&format!("`{}readers` on `ledger`", pg.prefix)),
            "{message}"
        );
        assert!(
            !message.contains("on `files`"),
            "the files target was done: {message}"
        );
        assert_eq!(org.status(&offboard).await, RequestStatus::Executing);
        assert!(pg.is_member(), "nothing claims the ledger access is gone");

        // Back online: the retry finishes it, and only then is the identity decommissioned.
        org.apply(&yaml).await;
        org.clock.advance(Duration::from_secs(3600));
        while org.runner.run_once().await.unwrap() > 0 {}
        assert_eq!(org.status(&offboard).await, RequestStatus::Fulfilled);
        assert!(!pg.is_member() && !can_login(&pg));
        assert!(!files.holds(&account, &entitlement).await.unwrap());
        let live = files.list_accounts().await.unwrap();
        assert!(
            live.iter().all(|a| a.key != account || !a.enabled),
            "{live:?}"
        );
        let catalog = org.db.store().catalog().await.unwrap();
        assert_eq!(catalog.identities[0].status, IdentityStatus::Decommissioned);
        assert!(
            org.audit_actions()
                .await
                .contains(&"identity.decommissioned".into())
        );
    }
}
