//! A typed client for writ's HTTP API (`/api/v1`), over the wire types of `writ-api`: one
//! method per operation, every failure a [`ClientError`] that keeps the server's error code.
//! Knows HTTP and JSON only; no domain logic, nothing of the server.

mod campaigns;
mod error;

use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use writ_api::{
    AcceptFindingBody, AdoptFindingBody, AuditPage, AuditQuery, CancelBody, CheckpointList,
    DecideBody, DecidedView, EntitlementPage, EntitlementQuery, ErrorBody, ExplanationView,
    FindingPage, FindingQuery, FindingView, GrantPage, GrantQuery, IdentityDetail, IdentityPage,
    IdentityQuery, NewRequestBody, NotificationPage, NotificationQuery, RequestDetail, RequestPage,
    RequestQuery, RequestView, RevealedView, SubmittedView, SystemPage, SystemQuery, TicketPage,
    TicketQuery,
};

pub use error::ClientError;

/// A client of one writ server, acting with one bearer token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never printed.
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the server at `base` (`http://127.0.0.1:8080`) acting with `token`.
    pub fn new(base: &str, token: impl Into<String>) -> Result<Self, ClientError> {
        let base = Url::parse(base).map_err(|e| ClientError::InvalidUrl {
            url: base.to_string(),
            reason: e.to_string(),
        })?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(ClientError::InvalidUrl {
                url: base.to_string(),
                reason: "must be an http:// or https:// URL".into(),
            });
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("writ-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::Transport)?;
        Ok(Self {
            http,
            base,
            token: token.into(),
        })
    }

    /// The systems, by name.
    pub async fn systems(&self, query: &SystemQuery) -> Result<SystemPage, ClientError> {
        self.get(&["systems"], query).await
    }

    /// The entitlements.
    pub async fn entitlements(
        &self,
        query: &EntitlementQuery,
    ) -> Result<EntitlementPage, ClientError> {
        self.get(&["entitlements"], query).await
    }

    /// The identities, by name.
    pub async fn identities(&self, query: &IdentityQuery) -> Result<IdentityPage, ClientError> {
        self.get(&["identities"], query).await
    }

    /// One identity (by id or name) with its owner, accounts and grants.
    pub async fn identity(&self, key: &str) -> Result<IdentityDetail, ClientError> {
        self.get(&["identities", key], &()).await
    }

    /// The requests, newest first.
    pub async fn requests(&self, query: &RequestQuery) -> Result<RequestPage, ClientError> {
        self.get(&["requests"], query).await
    }

    /// One request (`REQ-…`) with its decision and approvals.
    pub async fn request(&self, number: &str) -> Result<RequestDetail, ClientError> {
        self.get(&["requests", number], &()).await
    }

    /// Submits a request as the token's principal.
    pub async fn create_request(
        &self,
        body: &NewRequestBody,
    ) -> Result<SubmittedView, ClientError> {
        self.send(Method::POST, &["requests"], body).await
    }

    /// What policy would decide of a request, without storing it.
    pub async fn explain(&self, body: &NewRequestBody) -> Result<ExplanationView, ClientError> {
        self.send(Method::POST, &["requests", "explain"], body)
            .await
    }

    /// Approves the current stage of a request, bound to the plan hash the approver saw.
    pub async fn approve(
        &self,
        number: &str,
        body: &DecideBody,
    ) -> Result<DecidedView, ClientError> {
        self.send(Method::POST, &["requests", number, "approve"], body)
            .await
    }

    /// Denies a request (a reason is required).
    pub async fn deny(&self, number: &str, body: &DecideBody) -> Result<DecidedView, ClientError> {
        self.send(Method::POST, &["requests", number, "deny"], body)
            .await
    }

    /// Cancels a request nothing has started on.
    pub async fn cancel(
        &self,
        number: &str,
        body: &CancelBody,
    ) -> Result<RequestView, ClientError> {
        self.send(Method::POST, &["requests", number, "cancel"], body)
            .await
    }

    /// The grants, newest first.
    pub async fn grants(&self, query: &GrantQuery) -> Result<GrantPage, ClientError> {
        self.get(&["grants"], query).await
    }

    /// Findings of reconciliation, in id order.
    pub async fn findings(&self, query: &FindingQuery) -> Result<FindingPage, ClientError> {
        self.get(&["findings"], query).await
    }

    /// Accepts an open finding until a date, as the caller (an admin or the system's owner).
    pub async fn accept_finding(
        &self,
        id: &str,
        body: &AcceptFindingBody,
    ) -> Result<FindingView, ClientError> {
        self.send(Method::POST, &["findings", id, "accept"], body)
            .await
    }

    /// Files a retroactive grant request by the caller for a finding's live access.
    pub async fn adopt_finding(
        &self,
        id: &str,
        body: &AdoptFindingBody,
    ) -> Result<SubmittedView, ClientError> {
        self.send(Method::POST, &["findings", id, "adopt"], body)
            .await
    }

    /// Reveals the new secret of a fulfilled rotate request, once.
    pub async fn reveal(&self, number: &str) -> Result<RevealedView, ClientError> {
        self.send(
            Method::POST,
            &["requests", number, "credential"],
            &serde_json::json!({}),
        )
        .await
    }

    /// The audit log, oldest first (administrators and auditors).
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, ClientError> {
        self.get(&["audit"], query).await
    }

    /// Service-desk tickets writ received, refused ones included, in the order received.
    /// Administrators and auditors only.
    pub async fn tickets(&self, query: &TicketQuery) -> Result<TicketPage, ClientError> {
        self.get(&["tickets"], query).await
    }

    /// A request's evidence bundle, as the exact bytes to keep (and verify offline with
    /// `writ evidence verify`). Administrators and auditors only.
    pub async fn evidence(&self, number: &str) -> Result<Vec<u8>, ClientError> {
        self.get_bytes(&["requests", number, "evidence"]).await
    }

    /// A campaign's evidence, as the exact bytes to keep (and verify offline with
    /// `writ evidence verify`). Administrators and auditors only.
    pub async fn campaign_evidence(&self, id: &str) -> Result<Vec<u8>, ClientError> {
        self.get_bytes(&["campaigns", id, "evidence"]).await
    }

    async fn get_bytes(&self, segments: &[&str]) -> Result<Vec<u8>, ClientError> {
        let request = self.http.get(self.url(segments)?).bearer_auth(&self.token);
        answer_bytes(request.send().await.map_err(ClientError::Transport)?).await
    }

    /// A page of the caller's notifications, newest first.
    pub async fn notifications(
        &self,
        query: &NotificationQuery,
    ) -> Result<NotificationPage, ClientError> {
        self.get(&["notifications"], query).await
    }

    /// The signed checkpoints of the audit log. Administrators and auditors only.
    pub async fn checkpoints(&self) -> Result<CheckpointList, ClientError> {
        self.get(&["audit", "checkpoints"], &()).await
    }

    /// `/api/v1/<segments…>`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Result<Url, ClientError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::InvalidUrl {
                url: self.base.to_string(),
                reason: "cannot hold a path".into(),
            })?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        Ok(url)
    }

    async fn get<Q: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &Q,
    ) -> Result<T, ClientError> {
        let request = self
            .http
            .get(self.url(segments)?)
            .bearer_auth(&self.token)
            .query(query);
        answer(request.send().await.map_err(ClientError::Transport)?).await
    }

    async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: &B,
    ) -> Result<T, ClientError> {
        let request = self
            .http
            .request(method, self.url(segments)?)
            .bearer_auth(&self.token)
            .json(body);
        answer(request.send().await.map_err(ClientError::Transport)?).await
    }
}

/// The body of a 2xx as `T`, or the server's error.
async fn answer<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
    let status = response.status();
    let bytes = answer_bytes(response).await?;
    serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
        status: status.as_u16(),
        reason: e.to_string(),
    })
}

/// A success's body as it came, or the API's error.
async fn answer_bytes(response: reqwest::Response) -> Result<Vec<u8>, ClientError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(ClientError::Transport)?;
    if status.is_success() {
        return Ok(bytes.to_vec());
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Err(ClientError::Api {
            status: status.as_u16(),
            error: body.error,
        }),
        Err(_) => Err(ClientError::Decode {
            status: status.as_u16(),
            reason: format!(
                "the server answered {status} without writ's error shape: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ),
        }),
    }
}
