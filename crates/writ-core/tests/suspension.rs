//! An identity whose owner left and whom nobody takes over within the grace period is
//! suspended: its accounts are disabled on the target and read back as disabled, its grants
//! are kept. With nobody to hand it to, it is suspended at once.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod org;

use std::time::Duration;

use org::{Org, local_target};
use writ_connect::Connector;
use writ_core::Clock;
use writ_domain::audit::{Actor, NewAuditEvent};
use writ_domain::{AccountKey, EntitlementKey, IdentityStatus, RequestStatus};
use writ_testkit::TestDb;

/// Alice owns the service and reports to Dana; Carol is on her team.
fn catalog(prefix: &str, config: &str, alice_manager: bool) -> String {
    let manager = if alice_manager {
        ", manager: dana@org.example"
    } else {
        ""
    };
    format!(
        r#"
principals:
  - {{external_id: dana, email: dana@org.example, name: Dana Lead, groups: [leads]}}
  - {{external_id: alice, email: alice@org.example, name: Alice Owner, groups: [team]{manager}}}
  - {{external_id: carol, email: carol@org.example, name: Carol Teammate, groups: [team]}}
systems:
  - {{name: files, connector: local, owner: alice@org.example, environment: development, criticality: low, config: {config}}}
entitlements:
  - {{system: files, key: {prefix}readers, name: Readers, risk: medium, default_ttl: 8h, max_ttl: 7d, owner: alice@org.example}}
identities:
  - {{name: {prefix}svc, kind: service_account, owner: alice@org.example, team: team, purpose: the service under test, environment: development}}
"#
    )
}

/// Carol's grant, approved by Alice and executed; then the identity provider deactivates Alice.
async fn granted_then_owner_leaves(org: &Org) {
    let request = org.submit().await;
    org.approve("alice@org.example", &request).await.unwrap();
    while org.runner.run_once().await.unwrap() > 0 {}
    assert_eq!(org.status(&request).await, RequestStatus::Fulfilled);
    let store = org.db.store();
    let mut catalog = store.catalog().await.unwrap();
    for principal in &mut catalog.principals {
        if principal.email.as_str() == "alice@org.example" {
            principal.active = false;
        }
    }
    let now = org.clock.now();
    let event = NewAuditEvent::new(now, Actor::system("idp"), "principal.deactivated");
    store
        .apply_catalog(catalog, vec![event], now)
        .await
        .unwrap();
}

async fn account_enabled(
    target: &writ_connect::local::LocalConnector,
    account: &AccountKey,
) -> bool {
    target
        .list_accounts()
        .await
        .unwrap()
        .iter()
        .any(|a| &a.key == account && a.enabled)
}

#[tokio::test]
async fn an_identity_nobody_takes_over_in_time_is_suspended_with_its_grants_kept() {
    for db in TestDb::each().await {
        let (_dir, target, config) = local_target("s_", true).await;
        let org = Org::with_catalog(db, &catalog("s_", &config, true)).await;
        let account: AccountKey = "s_svc".parse().unwrap();
        let readers: EntitlementKey = "s_readers".parse().unwrap();
        granted_then_owner_leaves(&org).await;

        let handovers = org.requests.hand_over_departed().await.unwrap();
        assert_eq!(handovers.len(), 1);
        assert_eq!(handovers[0].to, Some(org.id_of("dana@org.example").await));
        assert_eq!(
            org.requests.suspend_unclaimed().await.unwrap(),
            0,
            "within the grace period"
        );

        org.clock.advance(Duration::from_secs(7 * 86_400 + 1));
        assert_eq!(org.requests.suspend_unclaimed().await.unwrap(), 1);
        assert_eq!(
            org.requests.suspend_unclaimed().await.unwrap(),
            0,
            "queued once"
        );
        assert!(account_enabled(&target, &account).await);
        while org.runner.run_once().await.unwrap() > 0 {}
        assert!(
            !account_enabled(&target, &account).await,
            "disabled on the target"
        );
        assert!(
            target.holds(&account, &readers).await.unwrap(),
            "grants are kept"
        );
        let catalog = org.db.store().catalog().await.unwrap();
        assert_eq!(catalog.identities[0].status, IdentityStatus::Suspended);
        let actions = org.audit_actions().await;
        assert!(
            actions.contains(&"identity.suspended".into()),
            "{actions:?}"
        );
    }
}

#[tokio::test]
async fn an_identity_nobody_can_take_over_is_suspended_at_once() {
    let (_dir, target, config) = local_target("n_", true).await;
    let org = Org::with_catalog(TestDb::sqlite().await, &catalog("n_", &config, false)).await;
    granted_then_owner_leaves(&org).await;
    // No manager, and Alice herself owns the only system: nobody to hand it to.
    let handovers = org.requests.hand_over_departed().await.unwrap();
    assert_eq!(handovers.len(), 1);
    assert_eq!(handovers[0].to, None);
    while org.runner.run_once().await.unwrap() > 0 {}
    assert!(!account_enabled(&target, &"n_svc".parse().unwrap()).await);
    let catalog = org.db.store().catalog().await.unwrap();
    assert_eq!(catalog.identities[0].status, IdentityStatus::Suspended);
}
