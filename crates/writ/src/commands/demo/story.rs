//! The demo's history, made through the same use cases as real traffic: requests in every
//! state (pending at each kind of approver, fulfilled, rejected, denied, cancelled), a
//! break-glass elevation with its post-use review open, an exception awaiting approval, a
//! recertification campaign under way over the access granted, and findings from a
//! reconciliation after someone changed a target behind writ's back.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use writ_connect::local::LocalConnector;
use writ_connect::{LiveGrant, ProcessEnv, Registry};
use writ_core::Clock;
use writ_core::campaigns::{Campaigns, NewCampaign};
use writ_core::execute::Executor;
use writ_core::reconcile::Reconciler;
use writ_core::requests::{Cancel, Decide, NewRequest, Requests};
use writ_core::runner::JobRunner;
use writ_domain::{
    AccountKey, ApprovalDecision, CampaignScope, Catalog, Request, RequestKind, RequestStatus,
    ReviewerRule, Ttl, UndecidedPolicy,
};
use writ_policy::PolicyEngine;
use writ_store::Store;

use crate::config::Config;

/// The use cases and the catalog the story is told with.
struct Teller {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    requests: Requests,
    runner: JobRunner,
    catalog: Catalog,
}

impl Teller {
    fn principal(&self, email: &str) -> anyhow::Result<writ_domain::PrincipalId> {
        self.catalog
            .principals
            .iter()
            .find(|p| p.email.to_string() == email)
            .map(|p| p.id)
            .with_context(|| format!("no principal `{email}` in the example catalog"))
    }

    /// Submits `kind` by `requester` for `identity` of `system:key`.
    async fn ask(
        &self,
        kind: RequestKind,
        requester: &str,
        identity: &str,
        entitlement: &str,
        ttl: Option<&str>,
        justification: &str,
    ) -> anyhow::Result<Request> {
        let (system, key) = entitlement
            .split_once(':')
            .context("entitlements are `system:key`")?;
        let system = self
            .catalog
            .systems
            .iter()
            .find(|s| s.name.to_string() == system)
            .with_context(|| format!("no system `{system}`"))?;
        let entitlement = self
            .catalog
            .entitlements
            .iter()
            .find(|e| e.system == system.id && e.key.to_string() == key)
            .with_context(|| format!("no entitlement `{entitlement}`"))?;
        let identity = self
            .catalog
            .identities
            .iter()
            .find(|i| i.name.to_string() == identity)
            .with_context(|| format!("no identity `{identity}`"))?;
        let submitted = self
            .requests
            .submit(NewRequest {
                requester: self.principal(requester)?,
                kind,
                identity: identity.id,
                entitlement: Some(entitlement.id),
                justification: justification.into(),
                ttl: ttl.map(Ttl::parse).transpose()?,
                end: (kind == RequestKind::Exception)
                    .then(|| self.clock.now().plus(Duration::from_secs(14 * 86_400))),
                external_ref: None,
                new_owner: None,
            })
            .await?;
        Ok(submitted.request)
    }

    /// `approver` decides on the request's current stage.
    async fn decide(
        &self,
        request: &Request,
        approver: &str,
        decision: ApprovalDecision,
        reason: &str,
    ) -> anyhow::Result<()> {
        let (current, stored) = self
            .store
            .request(request.id)
            .await?
            .context("the request just stored")?;
        anyhow::ensure!(
            current.status == RequestStatus::PendingApproval,
            "{} is {}: {}",
            current.number,
            current.status,
            stored.record["reasons"]
        );
        self.requests
            .decide(Decide {
                approver: self.principal(approver)?,
                request: request.id,
                decision,
                reason: Some(reason.into()),
                plan_hash: current.plan_hash.context("a pending request has a plan")?,
            })
            .await
            .with_context(|| format!("{approver} deciding on {}", request.number))?;
        Ok(())
    }

    async fn run_jobs(&self) -> anyhow::Result<()> {
        while self.runner.run_once().await? > 0 {}
        Ok(())
    }
}

/// Makes the demo's requests and findings.
pub async fn tell(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    policy: Arc<PolicyEngine>,
) -> anyhow::Result<()> {
    let requests = Requests::new(store.clone(), policy, clock.clone(), config.roles.clone())
        .with_sla(config.sla);
    let registry = Arc::new(Registry::new(ProcessEnv));
    let executor = Executor::new(store.clone(), registry.clone(), clock.clone());
    let runner = JobRunner::new(store.clone(), executor, clock.clone(), "demo");
    let teller = Teller {
        catalog: store.catalog().await?,
        store: store.clone(),
        clock: clock.clone(),
        requests: requests.clone(),
        runner,
    };
    use ApprovalDecision::{Approve, Deny};
    use RequestKind::{BreakGlass, Exception, Grant};
    const RAVI: &str = "ravi.shah@acmepay.example";
    const MAYA: &str = "maya.okafor@acmepay.example";
    const SAM: &str = "sam.torres@acmepay.example";
    const LENA: &str = "lena.fischer@acmepay.example";
    const JO: &str = "jo.becker@acmepay.example";

    // Fulfilled: approved by the identity's owner, executed and read back on the target.
    let fulfilled = teller
        .ask(
            Grant,
            RAVI,
            "payments-reconciler",
            "ci-pipelines:artifacts-read",
            Some("30d"),
            "the reconciler attaches nightly build reports to its run log",
        )
        .await?;
    teller
        .decide(&fulfilled, MAYA, Approve, "needed for the nightly report")
        .await?;
    teller
        .decide(&fulfilled, SAM, Approve, "low risk, read-only")
        .await?;
    let fulfilled = teller
        .ask(
            Grant,
            LENA,
            "demo-agent",
            "demo-local:editor",
            Some("8h"),
            "the demo agent writes its sample output",
        )
        .await?;
    teller
        .decide(&fulfilled, JO, Approve, "fine for the demo")
        .await?;
    // Pending at the identity's owner (Maya), then security.
    teller
        .ask(
            Grant,
            RAVI,
            "card-vault",
            "payments-db:writer",
            Some("7d"),
            "card-vault writes tokenised card references during the PCI migration",
        )
        .await?;
    // Pending at security (Sam): the owner approved already.
    let at_security = teller
        .ask(
            Grant,
            MAYA,
            "payments-api",
            "payments-db:writer",
            Some("30d"),
            "payments-api records refunds in the ledger",
        )
        .await?;
    teller
        .decide(&at_security, RAVI, Approve, "owner: yes, refunds need it")
        .await?;
    // Rejected by policy: a migrator role is for CI tokens only.
    teller
        .ask(
            Grant,
            RAVI,
            "payments-api",
            "payments-db:migrator",
            Some("1h"),
            "run a schema change from the API",
        )
        .await?;
    // Denied by the owner.
    let denied = teller
        .ask(
            Grant,
            RAVI,
            "partner-settlement-api-key",
            "aws-payments-prod:role/payments-readonly",
            Some("30d"),
            "the partner's settlement job reads S3 inventories",
        )
        .await?;
    teller
        .decide(
            &denied,
            MAYA,
            Deny,
            "a partner API key must not hold an AWS role; use the settlement workload",
        )
        .await?;
    // Cancelled by its requester.
    let cancelled = teller
        .ask(
            Grant,
            RAVI,
            "fraud-scoring-agent",
            "ci-pipelines:artifacts-read",
            Some("7d"),
            "the agent reads model evaluation reports",
        )
        .await?;
    requests
        .cancel(Cancel {
            by: teller.principal(RAVI)?,
            request: cancelled.id,
            reason: Some("asked for the wrong identity".into()),
        })
        .await?;
    // Break-glass: granted at once, its post-use review open with the owner.
    let emergency = teller
        .ask(
            BreakGlass,
            MAYA,
            "incident-responder",
            "payments-db:dba",
            Some("1h"),
            "INC-4711: ledger replication stuck, on-call needs DBA",
        )
        .await?;
    anyhow::ensure!(
        emergency.status == RequestStatus::Approved,
        "the break-glass request was not granted at once: {}",
        emergency.status
    );
    // An exception, waiting for its three approvers.
    teller
        .ask(
            Exception,
            JO,
            "payments-reconciler",
            "payments-db:auditor",
            None,
            "the reconciler needs the audit views until the evidence export moves (EXC-12)",
        )
        .await?;
    teller.run_jobs().await?;

    // A quarterly review of the access just granted, each grant with its identity's owner.
    let campaigns = Campaigns::new(
        store.clone(),
        requests.clone(),
        clock.clone(),
        config.roles.clone(),
    );
    let jo = teller.principal(JO)?;
    let review = campaigns
        .create(NewCampaign {
            created_by: jo,
            name: "Quarterly access review".into(),
            scope: CampaignScope::default(),
            reviewers: ReviewerRule::IdentityOwner,
            undecided: UndecidedPolicy::Revoke,
            deadline: clock.now().plus(Duration::from_secs(14 * 86_400)),
            every_days: Some(90),
        })
        .await
        .context("cannot create the demo's campaign")?;
    campaigns
        .launch(jo, review.id)
        .await
        .context("cannot launch the demo's campaign")?;

    // Someone adds a DBA account on the database by hand; the reconciliation finds it.
    let system = teller
        .catalog
        .systems
        .iter()
        .find(|s| s.name.to_string() == "payments-db")
        .context("no `payments-db`")?
        .clone();
    let target = LocalConnector::from_config(&system.config)
        .map_err(|e| anyhow::anyhow!("the payments-db target: {e}"))?;
    let rogue = AccountKey::parse("tmp_dba_hotfix")?;
    target
        .populate(
            vec![rogue.clone()],
            vec![LiveGrant {
                account: rogue,
                entitlement: "dba".parse()?,
            }],
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot change the payments-db target: {e}"))?;
    let reconciler = Reconciler::new(store, registry, clock, requests, config.reconcile.clone());
    reconciler
        .reconcile(&system, &|_| {})
        .await
        .context("cannot reconcile payments-db")?;
    Ok(())
}
