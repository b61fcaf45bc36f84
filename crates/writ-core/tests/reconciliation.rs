//! Reconciliation against a real PostgreSQL target, on both stores: access changed by hand in
//! psql appears as the finding it is, fixing it by hand resolves it on the next run, and
//! remediation and adoption close findings only through governed requests.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod org;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use org::{Org, PgTarget, psql};
use writ_connect::{ProcessEnv, Registry};
use writ_core::Clock;
use writ_core::findings::Findings;
use writ_core::reconcile::{ReconcileSettings, Reconciled, Reconciler, SystemSettings};
use writ_core::requests::{Decide, NewRequest, Roles};
use writ_domain::{
    ApprovalDecision, Finding, FindingKind, FindingStatus, RemediationMode, RequestKind,
    RequestNumber, RequestStatus, Ttl,
};
use writ_store::FindingQuery;
use writ_testkit::TestDb;

/// The organisation of `org`, with a second entitlement (`writers`) and accounts limited to
/// the roles starting with `<prefix>svc`, so other tests' roles on the cluster never show.
fn catalog(target: &PgTarget, user: &str) -> String {
    let p = &target.prefix;
    format!(
        r#"
principals:
  - {{external_id: alice, email: alice@org.example, name: Alice Owner, groups: [team]}}
  - {{external_id: carol, email: carol@org.example, name: Carol Teammate, groups: [team]}}
systems:
  - name: target
    connector: postgres
    owner: alice@org.example
    environment: development
    criticality: high
    config: {{host: 127.0.0.1, port: 5432, database: {db}, user: {user}, sslmode: disable, connect_timeout_secs: 2, role_prefix: {p}svc}}
entitlements:
  - {{system: target, key: {p}readers, name: Readers, risk: medium, default_ttl: 8h, max_ttl: 7d, owner: alice@org.example, allowed_identity_kinds: [service_account]}}
  - {{system: target, key: {p}writers, name: Writers, risk: medium, default_ttl: 8h, max_ttl: 7d, owner: alice@org.example, allowed_identity_kinds: [service_account]}}
identities:
  - {{name: {p}svc, kind: service_account, owner: alice@org.example, team: team, purpose: the service under test, environment: development}}
"#,
        db = target.database,
    )
}

struct Drift {
    org: Org,
    target: PgTarget,
}

impl Drift {
    async fn new(db: TestDb) -> Option<Self> {
        let target = PgTarget::new().await?;
        let p = &target.prefix;
        psql(
            &target.admin_url,
            None,
            &format!("DROP ROLE IF EXISTS {p}writers; CREATE ROLE {p}writers NOLOGIN"),
        );
        let org = Org::with_catalog(db, &catalog(&target, "postgres")).await;
        Some(Self { org, target })
    }

    fn sql(&self, sql: &str) -> String {
        psql(
            &self.target.admin_url,
            None,
            &sql.replace("{p}", &self.target.prefix),
        )
    }

    fn reconciler(&self, mode: RemediationMode) -> Reconciler {
        let settings = ReconcileSettings {
            systems: HashMap::from([(
                "target".to_string(),
                SystemSettings {
                    mode,
                    interval: None,
                },
            )]),
            ..ReconcileSettings::default()
        };
        Reconciler::new(
            self.org.db.store(),
            Arc::new(Registry::new(ProcessEnv)),
            self.org.clock.clone() as Arc<dyn Clock>,
            self.org.requests.clone(),
            settings,
        )
    }

    async fn reconcile(&self, mode: RemediationMode) -> Reconciled {
        self.org.clock.advance(Duration::from_secs(60));
        let catalog = self.org.db.store().catalog().await.unwrap();
        self.reconciler(mode)
            .reconcile(&catalog.systems[0], &|_| {})
            .await
            .unwrap()
    }

    async fn findings(&self) -> Vec<Finding> {
        self.org
            .db
            .store()
            .findings(FindingQuery {
                limit: 1000,
                ..FindingQuery::default()
            })
            .await
            .unwrap()
    }

    async fn outstanding(&self) -> Vec<Finding> {
        let mut open: Vec<Finding> = self
            .findings()
            .await
            .into_iter()
            .filter(|f| f.status != FindingStatus::Resolved)
            .collect();
        open.sort_by_key(|f| f.kind);
        open
    }

    /// Carol's grant of readers, approved by Alice and verified live.
    async fn granted(&self) {
        let request = self.org.submit_for(0).await;
        self.org
            .approve("alice@org.example", &request)
            .await
            .unwrap();
        self.run_jobs().await;
        assert_eq!(self.org.status(&request).await, RequestStatus::Fulfilled);
        assert!(self.target.is_member());
    }

    async fn run_jobs(&self) {
        while self.org.runner.run_once().await.unwrap() > 0 {}
    }

    fn findings_use_cases(&self) -> Findings {
        Findings::new(
            self.org.db.store(),
            self.org.requests.clone(),
            self.org.clock.clone() as Arc<dyn Clock>,
            Roles::default(),
        )
    }

    async fn request_status(&self, number: RequestNumber) -> RequestStatus {
        let (request, _) = self
            .org
            .db
            .store()
            .request_by_number(number)
            .await
            .unwrap()
            .unwrap();
        request.status
    }
}

impl Drop for Drift {
    fn drop(&mut self) {
        let p = &self.target.prefix;
        let _ = std::process::Command::new("psql")
            .args([
                &self.target.admin_url,
                "-tAc",
                &format!("DROP ROLE IF EXISTS {p}svc_rogue; DROP ROLE IF EXISTS {p}weak; REVOKE {p}writers FROM {p}svc; DROP ROLE IF EXISTS {p}writers"),
            ])
            .output();
    }
}

fn kinds(findings: &[Finding]) -> Vec<FindingKind> {
    findings.iter().map(|f| f.kind).collect()
}

#[tokio::test]
async fn changes_made_by_hand_appear_as_findings_and_fixing_them_by_hand_resolves_them() {
    for db in TestDb::each().await {
        let Some(drift) = Drift::new(db).await else {
            return;
        };
        drift.granted().await;
        let clean = drift.reconcile(RemediationMode::Report).await;
        assert!(clean.run.findings.is_empty(), "{:?}", clean.run);
        assert_eq!((clean.run.live_grants, clean.run.traced_grants), (1, 1));
        assert_eq!(clean.run.integrity(), 1.0);

        // A GRANT, a REVOKE and a CREATE ROLE, all by hand.
        drift.sql("GRANT {p}writers TO {p}svc");
        drift.sql("REVOKE {p}readers FROM {p}svc");
        drift.sql("CREATE ROLE {p}svc_rogue LOGIN");
        let first = drift.reconcile(RemediationMode::Report).await;
        let open = drift.outstanding().await;
        assert_eq!(
            kinds(&open),
            [
                FindingKind::UnapprovedAccess,
                FindingKind::MissingAccess,
                FindingKind::UnownedAccount
            ],
            "{open:#?}"
        );
        let p = &drift.target.prefix;
        let catalog = drift.org.db.store().catalog().await.unwrap();
        let identity = catalog.identities[0].id;
        assert_eq!(open[0].subject, format!("{p}svc/{p}writers"));
        assert_eq!(open[0].identity, Some(identity));
        assert_eq!(open[0].entitlement, Some(catalog.entitlements[1].id));
        assert_eq!(open[1].subject, format!("{p}svc/{p}readers"));
        assert!(
            open[1].evidence["grant"].is_string(),
            "{:?}",
            open[1].evidence
        );
        assert_eq!(open[2].subject, format!("{p}svc_rogue"));
        assert_eq!(open[2].identity, None);
        assert!(
            open.iter()
                .all(|f| f.count == 1 && f.status == FindingStatus::Open)
        );
        assert_eq!(first.run.opened, 3);
        assert_eq!((first.run.live_grants, first.run.traced_grants), (1, 0));
        assert_eq!(first.run.integrity(), 0.0);

        // Seen again: the same findings, counted twice, first seen kept.
        drift.reconcile(RemediationMode::Report).await;
        let again = drift.outstanding().await;
        assert_eq!(
            again.iter().map(|f| f.id).collect::<Vec<_>>(),
            open.iter().map(|f| f.id).collect::<Vec<_>>()
        );
        assert!(again.iter().all(|f| f.count == 2), "{again:#?}");
        assert!(
            again
                .iter()
                .zip(&open)
                .all(|(a, o)| a.first_seen == o.first_seen && a.last_seen > o.last_seen)
        );

        // Fixed by hand: every finding resolves on the next run.
        drift.sql("REVOKE {p}writers FROM {p}svc");
        drift.sql("GRANT {p}readers TO {p}svc");
        drift.sql("DROP ROLE {p}svc_rogue");
        let fixed = drift.reconcile(RemediationMode::Report).await;
        assert_eq!(fixed.run.resolved, 3);
        assert!(drift.outstanding().await.is_empty());
        assert_eq!(fixed.run.integrity(), 1.0);
        let actions = drift.org.audit_actions().await;
        for action in ["finding.opened", "reconciliation.finished"] {
            assert!(actions.contains(&action.to_string()), "{actions:?}");
        }
    }
}

#[tokio::test]
async fn a_revoke_the_target_rejected_leaves_orphaned_access_until_it_is_removed() {
    for db in TestDb::each().await {
        let Some(drift) = Drift::new(db).await else {
            return;
        };
        drift.granted().await;
        // writ connects as a role that may not revoke: the target refuses the REVOKE.
        drift.sql("DROP ROLE IF EXISTS {p}weak; CREATE ROLE {p}weak LOGIN");
        let weak = format!("{}weak", drift.target.prefix);
        drift.org.apply(&catalog(&drift.target, &weak)).await;
        let catalog_now = drift.org.db.store().catalog().await.unwrap();
        let revoke = drift
            .org
            .requests
            .submit(NewRequest {
                requester: drift.org.id_of("alice@org.example").await,
                kind: RequestKind::Revoke,
                identity: catalog_now.identities[0].id,
                entitlement: Some(catalog_now.entitlements[0].id),
                justification: "no longer needed".into(),
                ttl: None,
                end: None,
                external_ref: None,
                new_owner: None,
            })
            .await
            .unwrap()
            .request;
        drift.run_jobs().await;
        assert_eq!(drift.org.status(&revoke).await, RequestStatus::Failed);
        assert!(drift.target.is_member(), "the target refused");
        drift.org.apply(&catalog(&drift.target, "postgres")).await;

        drift.reconcile(RemediationMode::Report).await;
        let open = drift.outstanding().await;
        assert_eq!(kinds(&open), [FindingKind::OrphanedAccess], "{open:#?}");
        assert_eq!(open[0].evidence["grant_status"], "failed");

        drift.sql("REVOKE {p}readers FROM {p}svc");
        let fixed = drift.reconcile(RemediationMode::Report).await;
        assert_eq!(fixed.run.resolved, 1);
        assert!(drift.outstanding().await.is_empty());
    }
}

#[tokio::test]
async fn missing_access_is_restored_through_a_grant_request_in_restore_missing_mode() {
    for db in TestDb::each().await {
        let Some(drift) = Drift::new(db).await else {
            return;
        };
        drift.granted().await;
        drift.sql("REVOKE {p}readers FROM {p}svc");
        // In report mode nothing is filed.
        let reported = drift.reconcile(RemediationMode::Report).await;
        assert!(reported.remediations.is_empty());

        let restoring = drift.reconcile(RemediationMode::RestoreMissing).await;
        assert_eq!(restoring.remediations.len(), 1);
        let number = restoring.remediations[0];
        let open = drift.outstanding().await;
        assert_eq!(kinds(&open), [FindingKind::MissingAccess]);
        assert_eq!(open[0].status, FindingStatus::Remediating);
        assert!(!drift.target.is_member(), "nothing touched the target");

        // The restore is an ordinary request: its owner approves, the runner executes it.
        let (request, _) = drift
            .org
            .db
            .store()
            .request_by_number(number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.kind, RequestKind::Grant);
        assert_eq!(request.status, RequestStatus::PendingApproval);
        drift
            .org
            .approve("alice@org.example", &request)
            .await
            .unwrap();
        drift.run_jobs().await;
        assert_eq!(drift.request_status(number).await, RequestStatus::Fulfilled);
        assert!(drift.target.is_member());

        let fixed = drift.reconcile(RemediationMode::RestoreMissing).await;
        assert_eq!(fixed.run.resolved, 1);
        assert!(fixed.remediations.is_empty());
        assert!(drift.outstanding().await.is_empty());
    }
}

#[tokio::test]
async fn unapproved_access_is_revoked_through_a_revoke_request_in_revoke_unapproved_mode() {
    for db in TestDb::each().await {
        let Some(drift) = Drift::new(db).await else {
            return;
        };
        drift.granted().await;
        drift.sql("GRANT {p}writers TO {p}svc");
        let revoking = drift.reconcile(RemediationMode::RevokeUnapproved).await;
        assert_eq!(revoking.remediations.len(), 1);
        let number = revoking.remediations[0];
        assert_eq!(drift.request_status(number).await, RequestStatus::Approved);
        drift.run_jobs().await;
        assert_eq!(drift.request_status(number).await, RequestStatus::Fulfilled);
        assert_eq!(
            drift.sql("SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = '{p}writers' AND u.rolname = '{p}svc'"),
            "0"
        );
        assert!(drift.target.is_member(), "approved access stays");
        let fixed = drift.reconcile(RemediationMode::RevokeUnapproved).await;
        assert_eq!(fixed.run.resolved, 1);
        assert!(drift.outstanding().await.is_empty());

        // Granted by hand again while its revocation runs: the fulfilled revoke did not close
        // it, so the finding reopens with that note and is not filed again.
        drift.sql("GRANT {p}writers TO {p}svc");
        let again = drift.reconcile(RemediationMode::RevokeUnapproved).await;
        assert_eq!(again.remediations.len(), 1);
        drift.run_jobs().await;
        drift.sql("GRANT {p}writers TO {p}svc");
        let reopened = drift.reconcile(RemediationMode::RevokeUnapproved).await;
        assert!(reopened.remediations.is_empty(), "{reopened:?}");
        let open = drift.outstanding().await;
        assert_eq!(open[0].status, FindingStatus::Open);
        assert!(
            open[0]
                .resolution
                .as_deref()
                .unwrap_or("")
                .contains("ended `fulfilled`"),
            "{open:?}"
        );
        let later = drift.reconcile(RemediationMode::RevokeUnapproved).await;
        assert!(later.remediations.is_empty(), "filed at most once");
    }
}

#[tokio::test]
async fn adopted_access_becomes_governed_when_approved_and_is_revoked_when_denied() {
    for db in TestDb::each().await {
        let Some(drift) = Drift::new(db).await else {
            return;
        };
        drift.granted().await;
        let findings = drift.findings_use_cases();
        let carol = drift.org.id_of("carol@org.example").await;
        let alice = drift.org.id_of("alice@org.example").await;

        // Approved: the live access traces to an approval from then on.
        drift.sql("GRANT {p}writers TO {p}svc");
        drift.reconcile(RemediationMode::Report).await;
        let finding = drift.outstanding().await.remove(0);
        let adopted = findings
            .adopt(
                finding.id,
                carol,
                "the batch job has always needed it",
                Some(Ttl::parse("8h").unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(adopted.request.status, RequestStatus::PendingApproval);
        drift
            .org
            .approve("alice@org.example", &adopted.request)
            .await
            .unwrap();
        drift.run_jobs().await;
        assert_eq!(
            drift.org.status(&adopted.request).await,
            RequestStatus::Fulfilled
        );
        let governed = drift.reconcile(RemediationMode::Report).await;
        assert_eq!(governed.run.resolved, 1);
        assert_eq!(
            (governed.run.live_grants, governed.run.traced_grants),
            (2, 2)
        );
        assert!(drift.outstanding().await.is_empty());

        // Denied: writ files the revocation, and the access goes.
        let reader = drift
            .org
            .requests
            .submit(NewRequest {
                requester: alice,
                kind: RequestKind::Revoke,
                identity: finding.identity.unwrap(),
                entitlement: finding.entitlement,
                justification: "start again".into(),
                ttl: None,
                end: None,
                external_ref: None,
                new_owner: None,
            })
            .await
            .unwrap();
        drift.run_jobs().await;
        assert_eq!(
            drift.org.status(&reader.request).await,
            RequestStatus::Fulfilled
        );
        drift.sql("GRANT {p}writers TO {p}svc");
        drift.reconcile(RemediationMode::Report).await;
        let finding = drift.outstanding().await.remove(0);
        let adopted = findings
            .adopt(finding.id, carol, "it may need it", None)
            .await
            .unwrap();
        drift
            .org
            .requests
            .decide(Decide {
                approver: alice,
                request: adopted.request.id,
                decision: ApprovalDecision::Deny,
                reason: Some("it should never have had write access".into()),
                plan_hash: adopted.request.plan_hash.unwrap(),
            })
            .await
            .unwrap();
        let settled = drift.reconcile(RemediationMode::Report).await;
        assert_eq!(settled.remediations.len(), 1, "a revoke is filed");
        let revoke = settled.remediations[0];
        drift.run_jobs().await;
        assert_eq!(drift.request_status(revoke).await, RequestStatus::Fulfilled);
        let fixed = drift.reconcile(RemediationMode::Report).await;
        assert_eq!(fixed.run.resolved, 1);
        assert!(drift.outstanding().await.is_empty());
        assert!(
            drift.target.is_member(),
            "the approved readers grant is untouched"
        );
    }
}

#[tokio::test]
async fn an_accepted_finding_stays_accepted_until_its_end_and_only_an_admin_or_owner_accepts() {
    for db in TestDb::each().await {
        let Some(drift) = Drift::new(db).await else {
            return;
        };
        drift.granted().await;
        drift.sql("GRANT {p}writers TO {p}svc");
        drift.reconcile(RemediationMode::Report).await;
        let finding = drift.outstanding().await.remove(0);
        let findings = drift.findings_use_cases();
        let until = drift.org.clock.now().plus(Duration::from_secs(3600));
        let carol = drift.org.id_of("carol@org.example").await;
        let refused = findings
            .accept(finding.id, carol, "fine", until)
            .await
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("only an admin or the system's owner"),
            "{refused}"
        );
        let alice = drift.org.id_of("alice@org.example").await;
        let accepted = findings
            .accept(finding.id, alice, "migration in progress", until)
            .await
            .unwrap();
        assert_eq!(accepted.status, FindingStatus::Accepted);
        drift.reconcile(RemediationMode::RevokeUnapproved).await;
        let still = drift.outstanding().await.remove(0);
        assert_eq!(
            still.status,
            FindingStatus::Accepted,
            "accepted: not remediated"
        );
        drift.org.clock.advance(Duration::from_secs(3600));
        let reopened = drift.reconcile(RemediationMode::Report).await;
        assert!(reopened.remediations.is_empty());
        assert_eq!(drift.outstanding().await[0].status, FindingStatus::Open);
    }
}

/// Two identities of one owner on a `local` target, with an identity-scoped and an
/// owner-scoped SoD rule.
fn sod_catalog(config: &str) -> String {
    format!(
        r#"
principals:
  - {{external_id: alice, email: alice@org.example, name: Alice Owner, groups: [team]}}
  - {{external_id: carol, email: carol@org.example, name: Carol Teammate, groups: [team]}}
systems:
  - {{name: files, connector: local, owner: alice@org.example, environment: development, criticality: low, config: {config}}}
entitlements:
  - {{system: files, key: pay, name: Pay, risk: low, default_ttl: 8h, max_ttl: 7d, owner: alice@org.example}}
  - {{system: files, key: approve, name: Approve, risk: low, default_ttl: 8h, max_ttl: 7d, owner: alice@org.example}}
  - {{system: files, key: audit, name: Audit, risk: low, default_ttl: 8h, max_ttl: 7d, owner: alice@org.example}}
sod_rules:
  - {{name: pay-or-approve, entitlements: ["files:pay", "files:approve"], scope: identity, severity: high}}
  - {{name: pay-or-audit, entitlements: ["files:pay", "files:audit"], scope: owner, severity: medium}}
identities:
  - {{name: svc-a, kind: service_account, owner: alice@org.example, team: team, purpose: pays, environment: development}}
  - {{name: svc-b, kind: service_account, owner: alice@org.example, team: team, purpose: audits, environment: development}}
"#
    )
}

#[tokio::test]
async fn live_holdings_that_break_an_sod_rule_are_sod_violations_by_identity_and_by_owner() {
    use writ_connect::Connector;
    for db in TestDb::each().await {
        let (_dir, target, config) = org::local_target("unused", false).await;
        for key in ["pay", "approve", "audit"] {
            target
                .declare_entitlement(&key.parse().unwrap())
                .await
                .unwrap();
        }
        let org = Org::with_catalog(db, &sod_catalog(&config)).await;
        let catalog = org.db.store().catalog().await.unwrap();
        let key = |name: &str| {
            catalog
                .entitlements
                .iter()
                .position(|e| e.key.as_str() == name)
                .unwrap()
        };
        // svc-a is granted `pay`, svc-b `approve`, through requests.
        for (identity, entitlement) in [(0, key("pay")), (1, key("approve"))] {
            let request = org
                .requests
                .submit(NewRequest {
                    requester: org.id_of("carol@org.example").await,
                    kind: RequestKind::Grant,
                    identity: catalog.identities[identity].id,
                    entitlement: Some(catalog.entitlements[entitlement].id),
                    justification: "needed".into(),
                    ttl: Some(Ttl::parse("8h").unwrap()),
                    end: None,
                    external_ref: None,
                    new_owner: None,
                })
                .await
                .unwrap()
                .request;
            org.approve("alice@org.example", &request).await.unwrap();
        }
        while org.runner.run_once().await.unwrap() > 0 {}
        // By hand on the target: svc-a also approves, svc-b also audits.
        target
            .grant(&"svc-a".parse().unwrap(), &"approve".parse().unwrap())
            .await
            .unwrap();
        target
            .grant(&"svc-b".parse().unwrap(), &"audit".parse().unwrap())
            .await
            .unwrap();
        let reconciler = Reconciler::new(
            org.db.store(),
            Arc::new(Registry::new(ProcessEnv)),
            org.clock.clone() as Arc<dyn Clock>,
            org.requests.clone(),
            ReconcileSettings::default(),
        );
        let run = reconciler
            .reconcile(&catalog.systems[0], &|_| {})
            .await
            .unwrap()
            .run;
        assert_eq!(run.findings.get(&FindingKind::UnapprovedAccess), Some(&2));
        assert_eq!(
            run.findings.get(&FindingKind::SodViolation),
            Some(&2),
            "{run:?}"
        );
        let sod: Vec<Finding> = org
            .db
            .store()
            .findings(FindingQuery {
                kind: Some(FindingKind::SodViolation),
                limit: 10,
                ..FindingQuery::default()
            })
            .await
            .unwrap();
        let by_identity = sod.iter().find(|f| f.identity.is_some()).unwrap();
        assert_eq!(by_identity.identity, Some(catalog.identities[0].id));
        assert_eq!(by_identity.evidence["rule"], "pay-or-approve");
        let by_owner = sod.iter().find(|f| f.identity.is_none()).unwrap();
        assert_eq!(by_owner.evidence["rule"], "pay-or-audit");
        assert_eq!(by_owner.evidence["scope"], "owner");
    }
}

#[tokio::test]
async fn a_reconcile_system_job_reconciles_its_system_through_the_runner() {
    use writ_domain::audit::{Actor, NewAuditEvent};
    use writ_domain::job::{JobPayload, NewJob};
    for db in TestDb::each().await {
        let (_dir, _target, config) = org::local_target("job_", true).await;
        let org = Org::new(db, "job_", &config, "development").await;
        let store = org.db.store();
        let catalog = store.catalog().await.unwrap();
        let reconciler = Reconciler::new(
            store.clone(),
            Arc::new(Registry::new(ProcessEnv)),
            org.clock.clone() as Arc<dyn Clock>,
            org.requests.clone(),
            ReconcileSettings::default(),
        );
        let runner = writ_core::runner::JobRunner::new(
            store.clone(),
            org.executor.clone(),
            org.clock.clone() as Arc<dyn Clock>,
            "reconcile-worker",
        )
        .with_reconciler(reconciler);
        let now = org.clock.now();
        store
            .enqueue_job(
                NewJob::new(
                    JobPayload::ReconcileSystem {
                        system_id: catalog.systems[0].id,
                    },
                    now,
                ),
                NewAuditEvent::new(now, Actor::system("test"), "reconciliation.queued"),
            )
            .await
            .unwrap();
        assert_eq!(runner.run_once().await.unwrap(), 1);
        let runs = store.latest_reconciliations().await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].system, catalog.systems[0].id);
        assert_eq!(runs[0].live_grants, 0);
    }
}
