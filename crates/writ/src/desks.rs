//! `[servicedesk.jira]` and `[servicedesk.servicenow]` in `writ.toml`: where each desk is,
//! how writ authenticates to it, which ticket fields hold a request's parts, and which
//! transition (or state) a request's status moves the ticket to; `[servicedesk.generic]`, a
//! desk speaking the generic JSON form and where its outcome notes go; and `[[webhooks]]`, the
//! endpoints that hear of every change as signed CloudEvents. Secrets are named by file
//! (`{ file = "/run/secrets/jira-token" }`) or environment variable (`{ env = "JIRA_TOKEN" }`)
//! and never appear in the file, the logs or the database.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use writ_domain::{RequestStatus, Ttl};
use writ_server::{Desk, Webhooks};
use writ_servicedesk::events::{SigningKey, WebhookEndpoint};
use writ_servicedesk::generic::GenericSettings;
use writ_servicedesk::jira::JiraSettings;
use writ_servicedesk::servicenow::ServiceNowSettings;
use writ_servicedesk::{FieldMap, Secret};

/// How far a delivery's timestamp may be from now, unless configured.
const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(10 * 60);

/// `[servicedesk]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceDeskFile {
    jira: Option<JiraFile>,
    servicenow: Option<ServiceNowFile>,
    generic: Option<GenericFile>,
}

/// `[[webhooks]]`: one outbound endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookFile {
    name: String,
    url: String,
    /// A `whsec_<base64>` secret.
    secret: SecretSource,
    /// The CloudEvents `source`; `writ` when absent.
    source: Option<String>,
}

/// The configured outbound endpoints, their secrets read.
pub(crate) fn endpoints(files: Vec<WebhookFile>) -> anyhow::Result<Vec<WebhookEndpoint>> {
    let mut names = std::collections::HashSet::new();
    files
        .into_iter()
        .map(|file| {
            if !names.insert(file.name.clone()) {
                bail!("[[webhooks]] `{}` is configured twice", file.name);
            }
            let what = format!("[[webhooks]] `{}` secret", file.name);
            let secret = read(&file.secret).with_context(|| what.clone())?;
            let key = SigningKey::parse(&secret).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
            Ok(WebhookEndpoint {
                name: file.name,
                url: file.url,
                key,
                source: file.source.unwrap_or_else(|| "writ".into()),
            })
        })
        .collect()
}

/// Where a secret is read from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum SecretSource {
    /// A file holding it.
    File(PathBuf),
    /// An environment variable holding it.
    Env(String),
}

/// `[servicedesk.jira]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JiraFile {
    name: Option<String>,
    base_url: String,
    user: String,
    api_token: SecretSource,
    webhook_secret: SecretSource,
    max_skew: Option<Ttl>,
    #[serde(default)]
    count_approvals: bool,
    fields: FieldMap,
    #[serde(default)]
    transitions: HashMap<RequestStatus, String>,
}

/// `[servicedesk.servicenow]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceNowFile {
    name: Option<String>,
    base_url: String,
    table: String,
    user: String,
    password: SecretSource,
    webhook_secret: SecretSource,
    max_skew: Option<Ttl>,
    #[serde(default)]
    count_approvals: bool,
    fields: FieldMap,
    #[serde(default)]
    states: HashMap<RequestStatus, String>,
}

/// `[servicedesk.generic]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericFile {
    name: Option<String>,
    webhook_secret: SecretSource,
    max_skew: Option<Ttl>,
    #[serde(default)]
    count_approvals: bool,
    callback_url: Option<String>,
}

/// The configured desks, their secrets read.
pub(crate) fn webhooks(file: ServiceDeskFile) -> anyhow::Result<Webhooks> {
    let jira = file.jira.map(jira).transpose()?;
    let servicenow = file.servicenow.map(servicenow).transpose()?;
    let generic = file.generic.map(generic).transpose()?;
    // Tickets are keyed by desk name: two desks under one name would share ticket keys.
    let names = [
        ("jira", jira.as_ref().map(|d| &d.settings.name)),
        ("servicenow", servicenow.as_ref().map(|d| &d.settings.name)),
        ("generic", generic.as_ref().map(|d| &d.settings.name)),
    ];
    for (i, (desk, name)) in names.iter().enumerate() {
        for (other, other_name) in &names[i + 1..] {
            if let (Some(name), Some(other_name)) = (name, other_name)
                && name == other_name
            {
                bail!("[servicedesk] {desk} and {other} share the name `{name}`");
            }
        }
    }
    Ok(Webhooks {
        jira,
        servicenow,
        generic,
    })
}

fn generic(file: GenericFile) -> anyhow::Result<Arc<Desk<GenericSettings>>> {
    if let Some(url) = &file.callback_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        bail!("[servicedesk.generic] callback_url `{url}` is not an http(s) URL");
    }
    let settings = GenericSettings {
        name: file.name.unwrap_or_else(|| "generic".into()),
        webhook_secret: secret(&file.webhook_secret, "generic", "webhook_secret")?,
        max_skew: skew(file.max_skew),
        callback_url: file.callback_url,
    };
    Ok(Arc::new(Desk {
        settings,
        count_approvals: file.count_approvals,
    }))
}

fn jira(file: JiraFile) -> anyhow::Result<Arc<Desk<JiraSettings>>> {
    let secret = |source, what| secret(source, "jira", what);
    let settings = JiraSettings {
        name: file.name.unwrap_or_else(|| "jira".into()),
        api_token: secret(&file.api_token, "api_token")?,
        webhook_secret: secret(&file.webhook_secret, "webhook_secret")?,
        max_skew: skew(file.max_skew),
        base_url: file.base_url,
        user: file.user,
        fields: file.fields,
        transitions: file.transitions,
    };
    let count_approvals = file.count_approvals;
    Ok(Arc::new(Desk {
        settings,
        count_approvals,
    }))
}

fn servicenow(file: ServiceNowFile) -> anyhow::Result<Arc<Desk<ServiceNowSettings>>> {
    let secret = |source, what| secret(source, "servicenow", what);
    let settings = ServiceNowSettings {
        name: file.name.unwrap_or_else(|| "servicenow".into()),
        password: secret(&file.password, "password")?,
        webhook_secret: secret(&file.webhook_secret, "webhook_secret")?,
        max_skew: skew(file.max_skew),
        base_url: file.base_url,
        table: file.table,
        user: file.user,
        fields: file.fields,
        states: file.states,
    };
    let count_approvals = file.count_approvals;
    Ok(Arc::new(Desk {
        settings,
        count_approvals,
    }))
}

fn skew(configured: Option<Ttl>) -> Duration {
    configured.map_or(DEFAULT_MAX_SKEW, |t| t.as_duration())
}

fn secret(source: &SecretSource, desk: &str, what: &str) -> anyhow::Result<Secret> {
    read(source).with_context(|| format!("[servicedesk.{desk}] {what}"))
}

fn read(source: &SecretSource) -> anyhow::Result<Secret> {
    let secret = match source {
        SecretSource::File(path) => crate::config::read_secret(path)?,
        SecretSource::Env(name) => std::env::var(name)
            .with_context(|| format!("environment variable `{name}` is not set"))?,
    };
    if secret.is_empty() {
        bail!("the secret is empty");
    }
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jira_desk_reads_its_mapping_and_its_secrets_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "api-token\n").unwrap();
        let text = format!(
            r#"
[jira]
base_url = "https://example.atlassian.net"
user = "writ-bot@example.com"
api_token = {{ file = "{token}" }}
webhook_secret = {{ file = "{token}" }}
max_skew = "5m"
fields = {{ entitlement = "customfield_10050", identity = "customfield_10051", ttl = "customfield_10052" }}
transitions = {{ fulfilled = "Done", rejected = "Won't Do" }}
"#,
            token = token.display()
        );
        let file: ServiceDeskFile = toml::from_str(&text).unwrap();
        let webhooks = webhooks(file).unwrap();
        let jira = &webhooks.jira.unwrap().settings;
        assert_eq!(jira.name, "jira");
        assert_eq!(jira.api_token.expose(), "api-token");
        assert_eq!(jira.max_skew, Duration::from_secs(300));
        assert_eq!(jira.transitions[&RequestStatus::Rejected], "Won't Do");
        assert!(
            !format!("{jira:?}").contains("api-token"),
            "secrets never show"
        );
    }

    #[test]
    fn a_generic_desk_is_configured_apart_and_may_not_reuse_a_desk_name() {
        let text = r#"
[generic]
name = "helpdesk"
webhook_secret = { env = "PATH" }
count_approvals = true
callback_url = "https://helpdesk.example/writ"
"#;
        let file: ServiceDeskFile = toml::from_str(text).unwrap();
        let generic = webhooks(file).unwrap().generic.unwrap();
        assert_eq!(generic.settings.name, "helpdesk");
        assert!(generic.count_approvals);
        assert_eq!(generic.settings.max_skew, DEFAULT_MAX_SKEW);

        let clash = r#"
[generic]
name = "servicenow"
webhook_secret = { env = "PATH" }
[servicenow]
base_url = "https://example.service-now.com"
table = "sc_req_item"
user = "writ"
password = { env = "PATH" }
webhook_secret = { env = "PATH" }
fields = { entitlement = "u_entitlement", identity = "u_identity" }
"#;
        let file: ServiceDeskFile = toml::from_str(clash).unwrap();
        let err = format!("{:#}", webhooks(file).unwrap_err());
        assert!(err.contains("share the name `servicenow`"), "{err}");

        let bad = "[generic]\nwebhook_secret = { env = \"PATH\" }\ncallback_url = \"ftp://x\"\n";
        let file: ServiceDeskFile = toml::from_str(bad).unwrap();
        let err = format!("{:#}", webhooks(file).unwrap_err());
        assert!(err.contains("not an http(s) URL"), "{err}");
    }

    #[test]
    fn a_webhook_secret_must_be_a_whsec_key() {
        let file = |secret: &str| WebhookFile {
            name: "siem".into(),
            url: "https://siem.example/hooks".into(),
            secret: SecretSource::Env(secret.into()),
            source: None,
        };
        let err = format!(
            "{:#}",
            endpoints(vec![file("WRIT_TEST_UNSET_WHSEC")]).unwrap_err()
        );
        assert!(err.contains("[[webhooks]] `siem` secret"), "{err}");
        assert!(err.contains("WRIT_TEST_UNSET_WHSEC"), "{err}");
    }

    #[test]
    fn an_unknown_key_or_missing_secret_is_an_error() {
        let unknown = "[jira]\nbase_url = \"x\"\nusr = \"typo\"\n";
        assert!(toml::from_str::<ServiceDeskFile>(unknown).is_err());
        let text = r#"
[servicenow]
base_url = "https://example.service-now.com"
table = "sc_req_item"
user = "writ"
password = { env = "WRIT_TEST_UNSET_SERVICENOW_PASSWORD" }
webhook_secret = { env = "WRIT_TEST_UNSET_SERVICENOW_PASSWORD" }
fields = { entitlement = "u_entitlement", identity = "u_identity" }
"#;
        let file: ServiceDeskFile = toml::from_str(text).unwrap();
        let err = format!("{:#}", webhooks(file).unwrap_err());
        assert!(err.contains("WRIT_TEST_UNSET_SERVICENOW_PASSWORD"), "{err}");
    }
}
