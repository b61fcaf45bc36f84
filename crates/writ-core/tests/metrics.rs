//! Governance metrics end to end on a local target with a manual clock: exceptions are counted
//! apart in the exception rate, and a grant's expiry shows as overdue until the runner has read
//! its removal back, then as one expiry lag.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod org;

use std::sync::Arc;
use std::time::Duration;

use org::{Org, local_target};
use writ_core::Clock;
use writ_core::metrics::GovernanceMetrics;
use writ_core::requests::NewRequest;
use writ_domain::{RequestKind, RequestStatus};
use writ_testkit::TestDb;

#[tokio::test]
async fn exceptions_are_counted_apart_and_expiries_are_measured_until_verified() {
    for db in TestDb::each().await {
        let (_dir, _target, config) = local_target("m_", true).await;
        let org = Org::new(db, "m_", &config, "development").await;
        let metrics = GovernanceMetrics::new(org.db.store(), org.clock.clone() as Arc<dyn Clock>);

        let empty = metrics.read().await.unwrap();
        assert_eq!(empty.exception_rate, 0.0);
        assert_eq!(empty.expiry_lag.count, 0);

        // Three grants asked, one approved and fulfilled; one exception asked.
        let fulfilled = org.submit_for(0).await;
        org.approve("alice@org.example", &fulfilled).await.unwrap();
        while org.runner.run_once().await.unwrap() > 0 {}
        assert_eq!(org.status(&fulfilled).await, RequestStatus::Fulfilled);
        org.submit_for(0).await;
        org.submit_for(0).await;
        let catalog = org.db.store().catalog().await.unwrap();
        let exception = org
            .requests
            .submit(NewRequest {
                requester: org.id_of("carol@org.example").await,
                kind: RequestKind::Exception,
                identity: catalog.identities[0].id,
                entitlement: Some(catalog.entitlements[0].id),
                justification: "the report needs it beyond its TTL until the migration".into(),
                ttl: None,
                end: Some(org.clock.now().plus(Duration::from_secs(14 * 86_400))),
                external_ref: None,
                new_owner: None,
            })
            .await
            .unwrap();
        assert!(
            exception.explanation.decision.allowed,
            "{:?}",
            exception.explanation.decision
        );

        let figures = metrics.read().await.unwrap();
        assert_eq!(figures.exception_rate, 0.25, "{figures:?}");
        let text = figures.to_prometheus();
        assert!(
            text.contains("writ_access_requests{kind=\"exception\",status=\"pending_approval\"} 1"),
            "{text}"
        );
        assert!(text.contains("writ_exception_rate 0.25"), "{text}");

        // Past its end the grant is overdue until its removal is read back.
        org.clock.advance(Duration::from_secs(8 * 3600 + 5));
        assert_eq!(metrics.read().await.unwrap().overdue_expiries, 1);
        org.executor.revoker().sweep_expired().await.unwrap();
        assert_eq!(metrics.read().await.unwrap().overdue_expiries, 1);
        while org.runner.run_once().await.unwrap() > 0 {}
        let after = metrics.read().await.unwrap();
        assert_eq!(after.overdue_expiries, 0);
        assert_eq!(after.expiry_lag.count, 1);
        assert!(
            (4.0..=6.0).contains(&after.expiry_lag.p99_secs),
            "the lag is end → read-back: {:?}",
            after.expiry_lag
        );
        assert!(
            after
                .to_prometheus()
                .contains("writ_expiry_lag_seconds_count 1"),
            "{}",
            after.to_prometheus()
        );
    }
}
