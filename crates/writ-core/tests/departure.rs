//! An owner who leaves (deactivated by the identity provider): every identity they owned gets
//! a transfer, filed by writ, to their manager, who accepts by approving; the transfer makes
//! the manager the owner, read back from the store.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod world;

use std::sync::Arc;

use world::World;
use writ_connect::{ProcessEnv, Registry};
use writ_core::Clock;
use writ_core::execute::{Executed, Executor};
use writ_domain::audit::{Actor, NewAuditEvent};
use writ_domain::{PrincipalId, RequestKind, RequestStatus};

#[tokio::test]
async fn a_departed_owners_identities_are_handed_to_their_manager_who_accepts() {
    for db in writ_testkit::TestDb::each().await {
        let world = World::on(db).await;
        let store = world.db.store();
        let (ravi, maya) = (world.principal("ravi.shah"), world.principal("maya.okafor"));
        let owned: Vec<_> = world
            .catalog
            .identities
            .iter()
            .filter(|i| i.owner == ravi)
            .map(|i| i.id)
            .collect();
        assert!(owned.len() >= 2, "ravi owns several identities");
        assert!(
            world
                .requests
                .hand_over_departed()
                .await
                .unwrap()
                .is_empty()
        );

        // The identity provider deactivates Ravi.
        let mut catalog = world.catalog.clone();
        catalog
            .principals
            .iter_mut()
            .find(|p| p.id == ravi)
            .unwrap()
            .active = false;
        let now = world.clock.now();
        let event = NewAuditEvent::new(now, Actor::system("idp"), "principal.deactivated");
        store
            .apply_catalog(catalog, vec![event], now)
            .await
            .unwrap();

        let handovers = world.requests.hand_over_departed().await.unwrap();
        assert_eq!(handovers.len(), owned.len(), "{handovers:?}");
        for handover in &handovers {
            assert_eq!((handover.from, handover.to), (ravi, Some(maya)));
            assert!(handover.request.is_some(), "{handover:?}");
        }
        assert!(
            world
                .requests
                .hand_over_departed()
                .await
                .unwrap()
                .is_empty(),
            "one hand-over per identity"
        );

        let number = handovers[0].request.unwrap();
        let (transfer, _) = store.request_by_number(number).await.unwrap().unwrap();
        assert_eq!(transfer.kind, RequestKind::Transfer);
        assert_eq!(transfer.requester, PrincipalId::SYSTEM);
        assert_eq!(
            transfer.assignee,
            Some(maya),
            "the manager is asked to accept"
        );
        let stranger = world.approve("sam.torres", &transfer).await;
        assert!(
            stranger.is_err(),
            "only the new owner accepts: {stranger:?}"
        );
        world.approve("maya.okafor", &transfer).await.unwrap();
        assert_eq!(
            world.reload(&transfer).await.status,
            RequestStatus::Approved
        );

        let executor = Executor::new(
            store.clone(),
            Arc::new(Registry::new(ProcessEnv)),
            world.clock.clone() as Arc<dyn Clock>,
        );
        let executed = executor
            .execute(transfer.id, transfer.plan_hash.unwrap())
            .await
            .unwrap();
        assert_eq!(executed, Executed::Fulfilled);
        assert_eq!(
            world.reload(&transfer).await.status,
            RequestStatus::Fulfilled
        );
        let catalog = store.catalog().await.unwrap();
        let identity = catalog
            .identities
            .iter()
            .find(|i| i.id == handovers[0].identity.id)
            .unwrap();
        assert_eq!(identity.owner, maya);
        assert!(
            catalog
                .principals
                .iter()
                .all(|p| p.id != PrincipalId::SYSTEM),
            "writ itself is no part of the catalog"
        );
    }
}
