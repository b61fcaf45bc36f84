//! The comparison itself: live memberships (sorted) against governed grants (streamed in the
//! same byte order), one key at a time, so neither side is ever held whole. Each key is
//! traced (live, and covered by an active unexpired grant), a finding, or nothing at all; the
//! memberships of one account arrive together, which is when separation-of-duties rules are
//! checked on what the account holds live.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use futures_util::StreamExt;
use futures_util::stream::{BoxStream, Peekable};
use writ_domain::{
    EntitlementId, FindingKind, GrantStatus, IdentityId, PrincipalId, SodRule, SodScope, Timestamp,
    finding::access_subject,
};
use writ_store::{GovernedAccount, GovernedGrant, SeenFinding, StoreResult};

use super::sorted::{Pair, SortedLive};
use super::{ReconcileError, Sink};

/// What governed state says of one (account, entitlement) key.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GovernedKey {
    /// The grant that decides (the best of the key's grants).
    pub grant: GovernedGrant,
    /// Where that leaves the key.
    pub state: KeyState,
}

/// How governed state stands on a key, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum KeyState {
    /// An active grant whose end has not come: live access traces to an approval.
    Active,
    /// A grant being provisioned or revoked: the request path is at work.
    InFlight,
    /// Only grants that ended (revoked, failed, or past their end): live access is orphaned.
    Ended,
}

impl KeyState {
    fn of(grant: &GovernedGrant, now: Timestamp) -> Self {
        match grant.status {
            GrantStatus::Active if grant.expires_at.is_none_or(|end| end > now) => Self::Active,
            GrantStatus::Provisioning | GrantStatus::Revoking => Self::InFlight,
            GrantStatus::Active | GrantStatus::Revoked | GrantStatus::Failed => Self::Ended,
        }
    }
}

/// Governed grants, one key at a time.
pub(super) struct GovernedKeys<'a> {
    rows: Peekable<BoxStream<'a, StoreResult<GovernedGrant>>>,
    now: Timestamp,
}

impl<'a> GovernedKeys<'a> {
    pub(super) fn new(rows: BoxStream<'a, StoreResult<GovernedGrant>>, now: Timestamp) -> Self {
        Self {
            rows: rows.peekable(),
            now,
        }
    }

    /// The next key, its grants folded into the one that decides.
    pub(super) async fn next(&mut self) -> Result<Option<GovernedKey>, ReconcileError> {
        let Some(first) = self.rows.next().await.transpose()? else {
            return Ok(None);
        };
        let mut best = GovernedKey {
            state: KeyState::of(&first, self.now),
            grant: first,
        };
        loop {
            let same = match std::pin::Pin::new(&mut self.rows).peek().await {
                Some(Ok(next)) => {
                    next.account == best.grant.account
                        && next.entitlement_key == best.grant.entitlement_key
                }
                Some(Err(_)) => true,
                None => false,
            };
            if !same {
                return Ok(Some(best));
            }
            let Some(next) = self.rows.next().await.transpose()? else {
                return Ok(Some(best));
            };
            let state = KeyState::of(&next, self.now);
            if state < best.state {
                best = GovernedKey { grant: next, state };
            }
        }
    }
}

/// Governed accounts, looked up in increasing key order.
pub(super) struct AccountCursor<'a> {
    rows: Peekable<BoxStream<'a, StoreResult<GovernedAccount>>>,
}

impl<'a> AccountCursor<'a> {
    pub(super) fn new(rows: BoxStream<'a, StoreResult<GovernedAccount>>) -> Self {
        Self {
            rows: rows.peekable(),
        }
    }

    /// The governed account `key`, if any; keys must be asked in increasing order.
    pub(super) async fn find(
        &mut self,
        key: &str,
    ) -> Result<Option<GovernedAccount>, ReconcileError> {
        loop {
            let order = match std::pin::Pin::new(&mut self.rows).peek().await {
                None => return Ok(None),
                Some(Ok(next)) => next.account.as_str().cmp(key),
                Some(Err(_)) => Ordering::Less,
            };
            match order {
                Ordering::Less => {
                    self.rows.next().await.transpose()?;
                }
                Ordering::Equal => {
                    return Ok(self.rows.next().await.transpose()?);
                }
                Ordering::Greater => return Ok(None),
            }
        }
    }
}

/// What one comparison found, besides the findings it hands on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Tally {
    /// Distinct live memberships.
    pub live: u64,
    /// Those covered by an active, unexpired grant (or one the request path is working on).
    pub traced: u64,
}

/// The catalog of the system being reconciled, as the comparison needs it.
pub(super) struct Catalog {
    /// Entitlement ids by native key.
    pub entitlements: HashMap<String, EntitlementId>,
    /// The SoD rules with at least two members in this system.
    pub sod_rules: Vec<SodRule>,
}

impl Catalog {
    fn in_sod_rule(&self, id: EntitlementId) -> bool {
        self.sod_rules
            .iter()
            .any(|r| r.entitlements.as_slice().contains(&id))
    }
}

/// The live holdings of one account, gathered while its memberships pass.
struct AccountHoldings {
    key: String,
    account: Option<GovernedAccount>,
    sod_relevant: Vec<EntitlementId>,
}

/// Compares live memberships with governed grants, handing every gap to `emit`.
pub(super) async fn compare_grants(
    live: &mut SortedLive,
    governed: &mut GovernedKeys<'_>,
    accounts: &mut AccountCursor<'_>,
    catalog: &Catalog,
    sink: &mut Sink<'_>,
) -> Result<Tally, ReconcileError> {
    let mut tally = Tally::default();
    let mut next_live = live.next_pair()?;
    let mut next_governed = governed.next().await?;
    let mut holdings: Option<AccountHoldings> = None;
    let mut owners: HashMap<PrincipalId, (BTreeSet<EntitlementId>, BTreeSet<IdentityId>)> =
        HashMap::new();
    loop {
        let order = match (&next_live, &next_governed) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((account, entitlement)), Some(key)) => (account.as_str(), entitlement.as_str())
                .cmp(&(
                    key.grant.account.as_str(),
                    key.grant.entitlement_key.as_str(),
                )),
        };
        match order {
            Ordering::Greater => {
                if let Some(key) = next_governed.take()
                    && key.state == KeyState::Active
                {
                    sink.push(missing(&key)).await?;
                }
                next_governed = governed.next().await?;
            }
            Ordering::Less | Ordering::Equal => {
                let Some(pair) = next_live.take() else { break };
                tally.live += 1;
                let key = if order == Ordering::Equal {
                    next_governed.take()
                } else {
                    None
                };
                let changed = holdings.as_ref().is_none_or(|h| h.key != pair.0);
                if changed {
                    if let Some(done) = holdings.take() {
                        check_identity_sod(&done, catalog, &mut owners, sink).await?;
                    }
                    holdings = Some(AccountHoldings {
                        account: accounts.find(&pair.0).await?,
                        key: pair.0.clone(),
                        sod_relevant: Vec::new(),
                    });
                }
                let entitlement = catalog.entitlements.get(&pair.1).copied();
                if let (Some(h), Some(id)) = (holdings.as_mut(), entitlement)
                    && catalog.in_sod_rule(id)
                {
                    h.sod_relevant.push(id);
                }
                let identity = holdings
                    .as_ref()
                    .and_then(|h| h.account.as_ref())
                    .map(|a| a.identity);
                match key.as_ref().map(|k| k.state) {
                    Some(KeyState::Active | KeyState::InFlight) => tally.traced += 1,
                    Some(KeyState::Ended) => {
                        if let Some(key) = &key {
                            sink.push(orphaned(key)).await?;
                        }
                    }
                    None => sink.push(unapproved(&pair, identity, entitlement)).await?,
                }
                if order == Ordering::Equal {
                    next_governed = governed.next().await?;
                }
                next_live = live.next_pair()?;
            }
        }
    }
    if let Some(done) = holdings.take() {
        check_identity_sod(&done, catalog, &mut owners, sink).await?;
    }
    for (owner, (held, identities)) in owners {
        let held: Vec<EntitlementId> = held.into_iter().collect();
        for rule in catalog
            .sod_rules
            .iter()
            .filter(|r| r.scope == SodScope::Owner)
        {
            if let Some(breach) = rule.breach(&held) {
                sink.push(SeenFinding {
                    kind: FindingKind::SodViolation,
                    subject: format!("{}/owner:{owner}", rule.id),
                    identity: None,
                    account_key: None,
                    entitlement: None,
                    entitlement_key: None,
                    sod_rule: Some(rule.id),
                    evidence: serde_json::json!({
                        "rule": rule.name.as_str(),
                        "scope": "owner",
                        "owner": owner.to_string(),
                        "held": breach.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "identities": identities.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    }),
                }).await?;
            }
        }
    }
    Ok(tally)
}

/// Checks identity-scoped rules on one account's live holdings, and adds them to its owner's.
async fn check_identity_sod(
    holdings: &AccountHoldings,
    catalog: &Catalog,
    owners: &mut HashMap<PrincipalId, (BTreeSet<EntitlementId>, BTreeSet<IdentityId>)>,
    sink: &mut Sink<'_>,
) -> Result<(), ReconcileError> {
    let Some(account) = &holdings.account else {
        return Ok(());
    };
    if holdings.sod_relevant.is_empty() {
        return Ok(());
    }
    for rule in catalog
        .sod_rules
        .iter()
        .filter(|r| r.scope == SodScope::Identity)
    {
        if let Some(breach) = rule.breach(&holdings.sod_relevant) {
            sink.push(SeenFinding {
                kind: FindingKind::SodViolation,
                subject: format!("{}/identity:{}", rule.id, account.identity),
                identity: Some(account.identity),
                account_key: Some(holdings.key.clone()),
                entitlement: None,
                entitlement_key: None,
                sod_rule: Some(rule.id),
                evidence: serde_json::json!({
                    "rule": rule.name.as_str(),
                    "scope": "identity",
                    "held": breach.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }),
            })
            .await?;
        }
    }
    let (held, identities) = owners.entry(account.owner).or_default();
    held.extend(holdings.sod_relevant.iter().copied());
    identities.insert(account.identity);
    Ok(())
}

fn unapproved(
    (account, entitlement): &Pair,
    identity: Option<IdentityId>,
    catalog_entitlement: Option<EntitlementId>,
) -> SeenFinding {
    SeenFinding {
        kind: FindingKind::UnapprovedAccess,
        subject: access_subject(account, entitlement),
        identity,
        account_key: Some(account.clone()),
        entitlement: catalog_entitlement,
        entitlement_key: Some(entitlement.clone()),
        sod_rule: None,
        evidence: serde_json::json!({ "live": true, "grant": null }),
    }
}

fn orphaned(key: &GovernedKey) -> SeenFinding {
    access_finding(FindingKind::OrphanedAccess, key, true)
}

fn missing(key: &GovernedKey) -> SeenFinding {
    access_finding(FindingKind::MissingAccess, key, false)
}

fn access_finding(kind: FindingKind, key: &GovernedKey, live: bool) -> SeenFinding {
    let grant = &key.grant;
    SeenFinding {
        kind,
        subject: access_subject(&grant.account, &grant.entitlement_key),
        identity: Some(grant.identity),
        account_key: Some(grant.account.clone()),
        entitlement: Some(grant.entitlement),
        entitlement_key: Some(grant.entitlement_key.clone()),
        sod_rule: None,
        evidence: serde_json::json!({
            "live": live,
            "grant": grant.grant.to_string(),
            "grant_status": grant.status.as_str(),
            "request": grant.request.to_string(),
            "expires_at": grant.expires_at.map(|t| t.to_string()),
        }),
    }
}

/// Compares the target's accounts (sorted) with governed accounts: every live account mapped
/// to no identity is unowned. Returns how many live accounts there were.
pub(super) async fn compare_accounts(
    live: &[writ_connect::LiveAccount],
    accounts: &mut AccountCursor<'_>,
    sink: &mut Sink<'_>,
) -> Result<u64, ReconcileError> {
    for account in live {
        if accounts.find(account.key.as_str()).await?.is_none() {
            sink.push(SeenFinding {
                kind: FindingKind::UnownedAccount,
                subject: account.key.to_string(),
                identity: None,
                account_key: Some(account.key.to_string()),
                entitlement: None,
                entitlement_key: None,
                sod_rule: None,
                evidence: serde_json::json!({ "live": true, "enabled": account.enabled }),
            })
            .await?;
        }
    }
    Ok(live.len() as u64)
}
