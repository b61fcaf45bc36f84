//! Writing back to a Jira issue: the transition first (found by name among the issue's
//! available transitions, `GET /rest/api/3/issue/{key}/transitions`, then `POST` its id), then
//! the comment (`POST /rest/api/3/issue/{key}/comment`, Atlassian Document Format). A retry
//! after a failed comment finds the transition no longer available and only comments.

use writ_core::outbox::{DeskError, TicketDesk, TicketNote};

use super::JiraSettings;
use super::inbound::document;
use crate::http::{client, refusal, unreachable};

/// A Jira site writ writes outcomes back to.
#[derive(Debug, Clone)]
pub struct JiraDesk {
    settings: JiraSettings,
    http: reqwest::Client,
}

impl JiraDesk {
    /// A desk over `settings`.
    pub fn new(settings: JiraSettings) -> Self {
        Self {
            settings,
            http: client(),
        }
    }

    fn issue_url(&self, key: &str, rest: &str) -> String {
        format!(
            "{}/rest/api/3/issue/{key}/{rest}",
            self.settings.base_url.trim_end_matches('/')
        )
    }

    fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.basic_auth(&self.settings.user, Some(self.settings.api_token.expose()))
    }

    /// Makes the transition named `name`, if the issue offers it now.
    async fn transition(&self, key: &str, name: &str) -> Result<(), DeskError> {
        let url = self.issue_url(key, "transitions");
        let response = self
            .authed(self.http.get(&url))
            .send()
            .await
            .map_err(|e| unreachable("jira", e))?;
        if !response.status().is_success() {
            return Err(refusal("jira (transitions)", response).await);
        }
        let offered: serde_json::Value = response
            .json()
            .await
            .map_err(|e| DeskError::Transient(format!("jira sent unreadable transitions: {e}")))?;
        let id = offered
            .get("transitions")
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
            .find(|t| {
                t.get("name")
                    .and_then(|n| n.as_str())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|t| t.get("id").and_then(|id| id.as_str()));
        let Some(id) = id else {
            tracing::info!(
                issue = key,
                transition = name,
                "transition not offered now; already made or not in this workflow"
            );
            return Ok(());
        };
        let response = self
            .authed(self.http.post(&url))
            .json(&serde_json::json!({ "transition": { "id": id } }))
            .send()
            .await
            .map_err(|e| unreachable("jira", e))?;
        if !response.status().is_success() {
            return Err(refusal("jira (transition)", response).await);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl TicketDesk for JiraDesk {
    async fn post(&self, note: &TicketNote) -> Result<(), DeskError> {
        let key = &note.ticket.key;
        if let Some(name) = note.status.and_then(|s| self.settings.transitions.get(&s)) {
            self.transition(key, name).await?;
        }
        let response = self
            .authed(self.http.post(self.issue_url(key, "comment")))
            .json(&serde_json::json!({ "body": document(&note.lines()) }))
            .send()
            .await
            .map_err(|e| unreachable("jira", e))?;
        if !response.status().is_success() {
            return Err(refusal("jira (comment)", response).await);
        }
        Ok(())
    }
}
