//! Evidence an auditor verifies offline: a fulfilled request's bundle verifies with the public
//! key alone and fails when any byte changes; it still verifies through a newer checkpoint
//! after thousands of later events; `audit verify` catches an altered or removed event even
//! with the database's guard disabled, and two checkpoints of different histories.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod org;

use std::sync::Arc;

use org::{Org, local_target, psql};
use writ_core::evidence::{Bundles, Checkpointer, verify_log};
use writ_core::{Clock, CoreError};
use writ_domain::audit::{Actor, NewAuditEvent};
use writ_domain::bundle::{BundleError, EvidenceBundle};
use writ_domain::checkpoint::NoteSigner;
use writ_domain::{Request, RequestStatus};
use writ_store::StoredCheckpoint;
use writ_testkit::TestDb;

struct Audited {
    org: Org,
    signer: Arc<NoteSigner>,
    checkpointer: Checkpointer,
    bundles: Bundles,
    _target: tempfile::TempDir,
}

impl Audited {
    async fn new(db: TestDb) -> Self {
        let (dir, _connector, config) = local_target("e_", true).await;
        let org = Org::new(db, "e_", &config, "development").await;
        let signer = Arc::new(NoteSigner::from_seed("audit.example.org/writ", [3; 32]).unwrap());
        let checkpointer = Checkpointer::new(
            org.db.store(),
            signer.clone(),
            org.clock.clone() as Arc<dyn Clock>,
        );
        Self {
            bundles: Bundles::new(org.db.store(), Some(checkpointer.clone())),
            org,
            signer,
            checkpointer,
            _target: dir,
        }
    }

    /// Carol's grant, approved by Alice and executed on the local target.
    async fn fulfilled(&self) -> Request {
        let request = self.org.submit_for(0).await;
        self.org
            .approve("alice@org.example", &request)
            .await
            .unwrap();
        while self.org.runner.run_once().await.unwrap() > 0 {}
        assert_eq!(self.org.status(&request).await, RequestStatus::Fulfilled);
        request
    }

    async fn append_unrelated(&self, count: usize) {
        let store = self.org.db.store();
        for batch in 0..count.div_ceil(100) {
            let events = (0..100.min(count - batch * 100))
                .map(|i| {
                    NewAuditEvent::new(self.org.clock.now(), Actor::system("test"), "test.noise")
                        .data(serde_json::json!({ "i": batch * 100 + i }))
                })
                .collect();
            store.append_audit(events).await.unwrap();
        }
    }

    /// Runs `sql` on the store with its append-only guard off, as an intruder with database
    /// access would.
    fn tamper(&self, sql: &str) {
        let db = &self.org.db;
        match db.backend() {
            "sqlite" => {
                let path = db.url().trim_start_matches("sqlite://");
                let script = format!(
                    "DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS audit_events_no_delete; {sql}"
                );
                let out = std::process::Command::new("sqlite3")
                    .args([path, &script])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            _ => {
                psql(
                    db.url(),
                    None,
                    &format!("ALTER TABLE audit_events DISABLE TRIGGER USER; {sql}"),
                );
            }
        }
    }
}

#[tokio::test]
async fn a_bundle_verifies_offline_and_fails_when_any_byte_changes() {
    for db in TestDb::each().await {
        let world = Audited::new(db).await;
        let request = world.fulfilled().await;
        let bundle = world.bundles.export(request.number).await.unwrap();
        let bytes = bundle.to_canonical_bytes();
        let verifier = world.signer.verifier();

        let summary = EvidenceBundle::verify(&bytes, &verifier).unwrap();
        let carol = world.org.id_of("carol@org.example").await;
        let alice = world.org.id_of("alice@org.example").await;
        assert_eq!(summary.request, request.number.to_string());
        assert_eq!(summary.requester, format!("principal:{carol}"));
        assert!(
            summary.decision.starts_with("allowed by policies"),
            "{summary}"
        );
        assert_eq!(summary.approvals.len(), 1, "{summary}");
        assert!(summary.approvals[0].contains(&alice.to_string()));
        assert!(summary.approvals[0].contains("(plan "), "{summary}");
        assert!(summary.verified_at.is_some(), "{summary}");
        assert!(
            summary.executed.iter().any(|e| e.starts_with("read_back")),
            "receipts and read-backs are evidence: {summary}"
        );

        // Every single byte matters. (Once: the bytes are the same on either store.)
        if world.org.db.backend() == "sqlite" {
            for i in 0..bytes.len() {
                let mut changed = bytes.clone();
                changed[i] ^= 0x01;
                assert!(
                    EvidenceBundle::verify(&changed, &verifier).is_err(),
                    "byte {i} changed and the bundle still verified"
                );
            }
        }
        let stranger = NoteSigner::from_seed("audit.example.org/writ", [4; 32]).unwrap();
        assert!(matches!(
            EvidenceBundle::verify(&bytes, &stranger.verifier()),
            Err(BundleError::Checkpoint(_))
        ));
    }
}

#[tokio::test]
async fn a_bundle_verifies_through_a_newer_checkpoint_after_thousands_of_events() {
    for db in TestDb::each().await {
        let world = Audited::new(db).await;
        let request = world.fulfilled().await;
        let first = world.checkpointer.checkpoint().await.unwrap();
        world.append_unrelated(3000).await;
        let newer = world.checkpointer.checkpoint().await.unwrap();
        assert!(newer.size >= first.size + 3000);

        // A later event about the request (its grant expiring) needs the newer checkpoint.
        world
            .org
            .clock
            .advance(std::time::Duration::from_secs(8 * 3600 + 1));
        world.org.executor.revoker().sweep_expired().await.unwrap();
        while world.org.runner.run_once().await.unwrap() > 0 {}
        let bundle = world.bundles.export(request.number).await.unwrap();
        let summary =
            EvidenceBundle::verify(&bundle.to_canonical_bytes(), &world.signer.verifier()).unwrap();
        assert!(summary.checkpoint_size > newer.size, "{summary}");
        assert!(
            summary.ended.is_some(),
            "the grant's end is in the bundle: {summary}"
        );

        let log = verify_log(&world.org.db.store(), Some(&world.signer.verifier()))
            .await
            .unwrap();
        assert_eq!(log.checkpoints, 3);
    }
}

#[tokio::test]
async fn audit_verify_catches_an_altered_or_removed_event_behind_a_checkpoint() {
    for db in TestDb::each().await {
        let world = Audited::new(db).await;
        world.fulfilled().await;
        world.append_unrelated(300).await;
        let checkpoint = world.checkpointer.checkpoint().await.unwrap();
        let store = world.org.db.store();
        let verifier = world.signer.verifier();
        verify_log(&store, Some(&verifier)).await.unwrap();

        // The newest events vanish: the chain alone cannot tell, the checkpoint can.
        world.tamper(&format!(
            "DELETE FROM audit_subjects WHERE seq > {n}; DELETE FROM audit_events WHERE seq > {n};",
            n = checkpoint.size - 5
        ));
        let removed = verify_log(&store, Some(&verifier)).await.unwrap_err();
        assert!(
            matches!(&removed, CoreError::CheckpointMismatch(m) if m.contains("were removed")),
            "{removed}"
        );

        // An event's data is changed in place.
        world.tamper("UPDATE audit_events SET data = '{\"i\":-1}' WHERE seq = 3;");
        let altered = verify_log(&store, Some(&verifier)).await.unwrap_err();
        assert!(matches!(&altered, CoreError::ChainBroken(_)), "{altered}");
        assert!(
            altered.to_string().contains('3'),
            "names the event: {altered}"
        );
    }
}

#[tokio::test]
async fn checkpoints_of_different_histories_are_not_consistent() {
    for db in TestDb::each().await {
        let world = Audited::new(db).await;
        world.fulfilled().await;
        let honest = world.checkpointer.checkpoint().await.unwrap();
        world.append_unrelated(40).await;
        let store = world.org.db.store();
        // A checkpoint signed with the right key over another history of the same length.
        let size = honest.size + 40;
        let forged_root = writ_domain::merkle::leaf_hash(b"a different history");
        store
            .add_checkpoint(StoredCheckpoint {
                size,
                root: forged_root,
                note: world.signer.sign(size, forged_root),
                created_at: world.org.clock.now(),
            })
            .await
            .unwrap();
        let err = verify_log(&store, Some(&world.signer.verifier()))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, CoreError::CheckpointMismatch(m) if m.contains("not consistent")),
            "{err}"
        );
    }
}
