//! The one delivery of a new secret: to the requester, once; its sealed copy is deleted in
//! the transaction that records the reveal, so writ keeps only the fingerprint.

use std::sync::Arc;

use writ_connect::Secret;
use writ_domain::audit::{Actor, NewAuditEvent, SubjectRef};
use writ_domain::{
    AccountKey, Fingerprint, PrincipalId, RequestKind, RequestNumber, RequestStatus,
};
use writ_store::{Store, StoreError};

use super::seal::Sealer;
use crate::Clock;
use crate::error::CoreError;

/// A revealed secret. Shown once: nothing in writ can show it again.
#[derive(Debug)]
pub struct Revealed {
    /// The secret (its `Debug` and `Display` print `***`).
    pub secret: Secret,
    /// Its fingerprint, as writ keeps it.
    pub fingerprint: Fingerprint,
    /// The system's name.
    pub system: String,
    /// The account there.
    pub account: AccountKey,
}

/// Reveals new secrets to their requesters.
#[derive(Clone)]
pub struct Reveal {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sealer: Option<Arc<Sealer>>,
}

impl Reveal {
    /// The use case; without `sealer` (no secret key configured) nothing can be revealed.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, sealer: Option<Arc<Sealer>>) -> Self {
        Self {
            store,
            clock,
            sealer,
        }
    }

    /// Reveals the new secret of rotate request `number` to `requester`, who must be the one
    /// who asked for it, and wipes it.
    #[tracing::instrument(skip_all, fields(request = %number))]
    pub async fn reveal(
        &self,
        requester: PrincipalId,
        number: RequestNumber,
    ) -> Result<Revealed, CoreError> {
        let sealer = self
            .sealer
            .as_ref()
            .ok_or_else(|| CoreError::Invalid(super::no_secret_key()))?;
        let (request, _) = self
            .store
            .request_by_number(number)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("request `{number}`")))?;
        if request.kind != RequestKind::Rotate {
            return Err(CoreError::Invalid(format!(
                "{number} is a `{}` request; only rotate requests issue secrets",
                request.kind
            )));
        }
        if request.requester != requester {
            return Err(CoreError::Forbidden(format!(
                "only the requester of {number} may reveal its new secret"
            )));
        }
        let revealed_already = || {
            CoreError::Invalid(format!(
                "the new secret of {number} was revealed already; writ keeps only its fingerprint \
                 (rotate again if it was lost)"
            ))
        };
        let Some(delivery) = self.store.credential_delivery(request.id).await? else {
            return Err(match request.status {
                RequestStatus::Fulfilled => revealed_already(),
                status => CoreError::Invalid(format!(
                    "{number} is {status}: it has no new secret to reveal"
                )),
            });
        };
        let secret = sealer.open(request.id, &delivery.sealed)?;
        let event = NewAuditEvent::new(
            self.clock.now(),
            Actor::principal(requester),
            "credential.revealed",
        )
        .subject(SubjectRef::new("request", request.id))
        .subject(SubjectRef::new("identity", delivery.identity))
        .data(serde_json::json!({
            "number": number.to_string(),
            "system": delivery.system,
            "account": delivery.account.as_str(),
            "fingerprint": delivery.fingerprint.as_str(),
        }));
        match self
            .store
            .take_delivery(request.id, delivery.sealed.id, event)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => return Err(revealed_already()),
            Err(e) => return Err(e.into()),
        }
        Ok(Revealed {
            secret,
            fingerprint: delivery.fingerprint,
            system: delivery.system,
            account: delivery.account,
        })
    }
}
