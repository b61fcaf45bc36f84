//! Running a rotate request on its target: check the current credential, keep the new secret
//! sealed, change the target, prove the new secret works and the old one does not.

use std::sync::Arc;

use writ_connect::{ConnectorError, Receipt, Secret};
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{
    Credential, CredentialId, CredentialStatus, Fingerprint, PlanHash, RequestId, RequestStatus,
    Timestamp,
};
use writ_store::{Evidence, EvidenceKind, RotationEnd, RotationStart, RotationTarget, Store};

use super::seal::{Sealer, random};
use crate::Clock;
use crate::error::CoreError;
use crate::execute::{Connectors, ExecuteError, Executed};

/// The bytes of randomness in an issued secret (256 bits).
const SECRET_BYTES: usize = 32;

/// Rotates credentials through connectors (the executor hands it `rotate` requests).
#[derive(Clone)]
pub struct Rotator {
    store: Arc<dyn Store>,
    connectors: Arc<dyn Connectors>,
    clock: Arc<dyn Clock>,
    sealer: Option<Arc<Sealer>>,
}

impl Rotator {
    /// A rotator over these ports; without a sealer every rotation fails, saying why.
    pub fn new(
        store: Arc<dyn Store>,
        connectors: Arc<dyn Connectors>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            connectors,
            clock,
            sealer: None,
        }
    }

    /// The same rotator, sealing with `sealer`.
    pub fn with_sealer(mut self, sealer: Arc<Sealer>) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// Carries out an approved rotate request under the plan it was approved with. Safe to
    /// run again after any failure: the new secret is kept before the target changes, and a
    /// retry that finds the target already on it only verifies.
    #[tracing::instrument(skip_all, fields(request = %request_id))]
    pub async fn execute_rotation(
        &self,
        request_id: RequestId,
        plan_hash: PlanHash,
    ) -> Result<Executed, ExecuteError> {
        let sealer = self
            .sealer
            .clone()
            .ok_or_else(|| ConnectorError::Permanent(super::no_secret_key()))?;
        let started = self
            .event(request_id, "request.executing")
            .data_field("plan_hash", plan_hash.to_string());
        let target = match self
            .store
            .begin_rotation(request_id, plan_hash, started)
            .await?
        {
            RotationStart::Started(target) | RotationStart::Resumed(target) => target,
            RotationStart::Finished(status) => return Ok(Executed::Replay(status)),
            RotationStart::PlanChanged => return Ok(Executed::PlanChanged),
        };
        let connector = self.connectors.for_system(&target.system)?;
        let account = &target.account.key;
        let where_ = format!("`{account}` on `{}`", target.system.name);
        let current = target
            .current
            .as_ref()
            .map(|sealed| sealer.open(request_id, sealed))
            .transpose()?;
        let new = match &target.pending {
            Some(pending) => sealer.open(request_id, pending)?,
            None => {
                let fresh = new_secret()?;
                let sealed = sealer.seal(request_id, &fresh)?;
                let kept = self
                    .store
                    .stage_rotation_secret(request_id, sealed, self.clock.now())
                    .await?;
                sealer.open(request_id, &kept)?
            }
        };

        let mut receipts: Vec<Receipt> = Vec::new();
        // A retry may find the change made already (the attempt stopped after it).
        let already = target.pending.is_some() && connector.check_credential(account, &new).await?;
        if !already {
            match &current {
                Some(current) => {
                    if !connector.check_credential(account, current).await? {
                        return Err(ConnectorError::Permanent(format!(
                            "the current credential handed over for {where_} does not match the \
                             live system; nothing was changed"
                        ))
                        .into());
                    }
                }
                None => receipts.push(connector.ensure_account(account).await?),
            }
            receipts.push(connector.rotate_credential(account, &new).await?);
        }

        let new_works = connector.check_credential(account, &new).await?;
        let old_works = match &current {
            Some(current) => Some(connector.check_credential(account, current).await?),
            None => None,
        };
        let verified_at = self.clock.now();
        if !new_works {
            return Err(ConnectorError::Transient(format!(
                "read-back: the new credential of {where_} does not work yet"
            ))
            .into());
        }
        if old_works == Some(true) {
            return Err(ConnectorError::Transient(format!(
                "read-back: the previous credential of {where_} still works"
            ))
            .into());
        }
        let credential = credential(&target, &new, verified_at);
        let mut evidence: Vec<Evidence> = receipts
            .iter()
            .map(|r| Evidence {
                kind: EvidenceKind::Receipt,
                data: serde_json::to_value(r).unwrap_or_default(),
                at: verified_at,
            })
            .collect();
        evidence.push(Evidence {
            kind: EvidenceKind::ReadBack,
            data: serde_json::json!({
                "system": target.system.name.as_str(),
                "account": account.as_str(),
                "new_credential_works": true,
                "previous_credential_works": old_works,
                "fingerprint": credential.fingerprint.as_str(),
            }),
            at: verified_at,
        });
        let fulfilled = self
            .event(request_id, "request.fulfilled")
            .subject(SubjectRef::new("credential", credential.id))
            .data(serde_json::json!({
                "number": target.number.to_string(),
                "verified_at": verified_at.to_string(),
                "system": target.system.name.as_str(),
                "account": account.as_str(),
                "fingerprint": credential.fingerprint.as_str(),
                "version": credential.version,
                "first_issue": current.is_none(),
            }));
        self.store
            .finish_rotation(
                request_id,
                RotationEnd::Rotated { credential },
                evidence,
                fulfilled,
            )
            .await?;
        Ok(Executed::Fulfilled)
    }

    /// Ends a rotate request that cannot be carried out: `failed`, every secret held for it
    /// wiped, the error kept as evidence.
    pub async fn fail_rotation(&self, request_id: RequestId, error: &str) -> Result<(), CoreError> {
        let Some((request, _)) = self.store.request(request_id).await? else {
            return Err(CoreError::not_found(format!("request {request_id}")));
        };
        if !matches!(
            request.status,
            RequestStatus::Approved | RequestStatus::Executing
        ) {
            return Ok(());
        }
        let now = self.clock.now();
        let event = self
            .event(request_id, "request.failed")
            .subject(SubjectRef::new("identity", request.identity))
            .data(serde_json::json!({ "number": request.number.to_string(), "error": error }));
        let evidence = vec![Evidence {
            kind: EvidenceKind::Error,
            data: serde_json::json!({ "error": error }),
            at: now,
        }];
        self.store
            .finish_rotation(
                request_id,
                RotationEnd::Failed {
                    error: error.to_string(),
                },
                evidence,
                event,
            )
            .await?;
        Ok(())
    }

    fn event(&self, request: RequestId, action: &str) -> NewAuditEvent {
        NewAuditEvent::new(self.clock.now(), Actor::system("executor"), action)
            .subject(SubjectRef::new("request", request))
    }
}

/// A fresh secret: 256 random bits from the operating system, as 64 hex digits (ASCII, so
/// every target takes it as is).
fn new_secret() -> Result<Secret, CoreError> {
    let mut bytes = zeroize::Zeroizing::new([0u8; SECRET_BYTES]);
    random(bytes.as_mut_slice())?;
    Ok(Secret::new(hex::encode(bytes.as_slice())))
}

/// The credential the rotation issued, recorded by fingerprint.
fn credential(target: &RotationTarget, secret: &Secret, issued_at: Timestamp) -> Credential {
    Credential {
        id: CredentialId::new(),
        account: target.account.id,
        fingerprint: Fingerprint::of_secret(secret.expose().as_bytes()),
        version: target.active.as_ref().map_or(1, |a| a.version + 1),
        issued_at,
        expires_at: None,
        status: CredentialStatus::Active,
    }
}
