//! Writing back to a ServiceNow record: one Table API call, `PATCH
//! /api/now/table/{table}/{sys_id}` with `work_notes` (journal fields append) and, when
//! configured for the status, `state`, so the note and the state change land together.

use writ_core::outbox::{DeskError, TicketDesk, TicketNote};

use super::ServiceNowSettings;
use crate::http::{client, refusal, unreachable};

/// A ServiceNow instance writ writes outcomes back to.
#[derive(Debug, Clone)]
pub struct ServiceNowDesk {
    settings: ServiceNowSettings,
    http: reqwest::Client,
}

impl ServiceNowDesk {
    /// A desk over `settings`.
    pub fn new(settings: ServiceNowSettings) -> Self {
        Self {
            settings,
            http: client(),
        }
    }
}

#[async_trait::async_trait]
impl TicketDesk for ServiceNowDesk {
    async fn post(&self, note: &TicketNote) -> Result<(), DeskError> {
        let url = format!(
            "{}/api/now/table/{}/{}",
            self.settings.base_url.trim_end_matches('/'),
            self.settings.table,
            note.ticket.key
        );
        let mut body = serde_json::json!({ "work_notes": note.text() });
        if let Some(state) = note.status.and_then(|s| self.settings.states.get(&s)) {
            body["state"] = serde_json::Value::String(state.clone());
        }
        let response = self
            .http
            .patch(&url)
            .basic_auth(&self.settings.user, Some(self.settings.password.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| unreachable("servicenow", e))?;
        if !response.status().is_success() {
            return Err(refusal("servicenow", response).await);
        }
        Ok(())
    }
}
