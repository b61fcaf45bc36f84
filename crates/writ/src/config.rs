//! Configuration, layered: defaults, then `writ.toml`, then `WRIT_*` environment variables,
//! then flags (clap merges the last two). Unknown keys are errors; secrets are never logged.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::cli::GlobalArgs;

/// The default store: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://writ.db";
/// The default listen address: loopback only, so a first run exposes nothing.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_CONFIG_FILE: &str = "writ.toml";

/// Environment variables writ reads; any other `WRIT_*` is reported as a likely typo.
const KNOWN_ENV: &[&str] = &[
    "WRIT_DATABASE_URL",
    "WRIT_DATABASE_URL_FILE",
    "WRIT_CONFIG",
    "WRIT_LOG",
    "WRIT_LOG_FORMAT",
    "WRIT_LISTEN",
    "WRIT_POLICY_DIR",
    "WRIT_SECRET_KEY_FILE",
    "WRIT_AUDIT_SIGNING_KEY_FILE",
    "WRIT_URL",
    "WRIT_TOKEN",
];
/// Prefixes of variables read by the test suite and benchmarks, not by writ itself.
const KNOWN_ENV_PREFIXES: &[&str] = &["WRIT_TEST_", "WRIT_BENCH_"];

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `writ.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    listen: Option<SocketAddr>,
    log_format: Option<LogFormat>,
    policy_dir: Option<PathBuf>,
    roles: Option<RolesConfig>,
    sla: Option<writ_domain::SlaPolicy>,
    secret_key_file: Option<PathBuf>,
    handover_grace: Option<writ_domain::Ttl>,
    audit_signing_key_file: Option<PathBuf>,
    checkpoints: Option<CheckpointsFile>,
    reconcile: Option<ReconcileConfig>,
    campaigns: Option<CampaignsFile>,
    oidc: Option<OidcFile>,
    servicedesk: Option<crate::desks::ServiceDeskFile>,
    webhooks: Option<Vec<crate::desks::WebhookFile>>,
}

/// `[campaigns]` in `writ.toml`: when reviewers are reminded, and how long an escalated item
/// has before it escalates again.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignsFile {
    remind_before: Option<writ_domain::Ttl>,
    escalation_grace: Option<writ_domain::Ttl>,
}

/// When campaign reviewers are reminded and escalated items fall due again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignSettings {
    /// How long before an item is due its reviewer is reminded.
    pub remind_before: std::time::Duration,
    /// How long an escalated item has before it escalates again.
    pub escalation_grace: std::time::Duration,
}

/// `[oidc]` in `writ.toml`: portal login with an OpenID Connect provider.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcFile {
    /// The issuer URL (its discovery document is under it).
    issuer: String,
    /// writ's client id at the provider.
    client_id: String,
    /// A file holding writ's client secret.
    client_secret_file: PathBuf,
    /// `https://writ.example/portal/login/callback`; an `https` URL makes cookies `Secure`.
    redirect_url: String,
}

/// `[checkpoints]` in `writ.toml`: how often `writ serve` signs the audit log's tree head.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointsFile {
    /// Sign once this many events were appended since the last checkpoint.
    every_events: Option<u64>,
    /// Sign at least this often while events are appended (e.g. `10m`).
    every: Option<writ_domain::Ttl>,
}

/// How often `writ serve` signs a checkpoint: after this many new events, or this long after
/// the last one when anything was appended.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointSchedule {
    /// Events.
    pub every_events: u64,
    /// Time.
    pub every: std::time::Duration,
}

/// `[reconcile]` in `writ.toml`: how often systems are reconciled, and per system
/// (`[reconcile.systems.NAME]`) its interval and remediation mode.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReconcileConfig {
    interval: Option<writ_domain::Ttl>,
    #[serde(default)]
    systems: std::collections::HashMap<String, SystemReconcileConfig>,
}

/// `[reconcile.systems.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemReconcileConfig {
    mode: Option<writ_domain::RemediationMode>,
    interval: Option<writ_domain::Ttl>,
}

/// `[roles]` in `writ.toml`: the identity provider's groups that carry writ's roles.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesConfig {
    admin_group: Option<String>,
    auditor_group: Option<String>,
    security_group: Option<String>,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The store's URL (may hold a password: never log it, use `writ_store::redact`).
    pub database_url: String,
    /// Where `writ serve` listens.
    pub listen: SocketAddr,
    /// How logs are written.
    pub log_format: LogFormat,
    /// Operator policies (`*.cedar`) added to, or overriding, the shipped ones.
    pub policy_dir: Option<PathBuf>,
    /// The groups that carry writ's roles.
    pub roles: writ_core::requests::Roles,
    /// How long each approval stage may wait, by request category.
    pub sla: writ_domain::SlaPolicy,
    /// The key that seals credentials until their one delivery (`writ credential
    /// generate-key`); rotation is refused without one.
    pub secret_key_file: Option<PathBuf>,
    /// How long a departed owner's identity waits for its new owner before it is suspended.
    pub handover_grace: std::time::Duration,
    /// The Ed25519 key that signs audit checkpoints (`writ keys generate`); without one,
    /// `writ serve` signs none.
    pub audit_signing_key_file: Option<PathBuf>,
    /// How often `writ serve` signs a checkpoint.
    pub checkpoints: CheckpointSchedule,
    /// How often each system is reconciled and what reconciliation may remediate.
    pub reconcile: writ_core::reconcile::ReconcileSettings,
    /// Campaign reminders and escalation.
    pub campaigns: CampaignSettings,
    /// Portal login with OpenID Connect, when `[oidc]` is configured.
    pub oidc: Option<writ_server::OidcSettings>,
    /// The service desks whose tickets come in and get outcomes written back
    /// (`[servicedesk.*]`).
    pub servicedesk: writ_server::Webhooks,
    /// The endpoints that hear of every change as signed CloudEvents (`[[webhooks]]`).
    pub event_endpoints: Vec<writ_servicedesk::events::WebhookEndpoint>,
    /// Things worth a warning once logging is up (e.g. an unknown `WRIT_*` variable).
    pub warnings: Vec<String>,
}

impl Config {
    /// Builds the effective configuration from the file, the environment and the flags.
    pub fn load(global: &GlobalArgs, listen_flag: Option<SocketAddr>) -> anyhow::Result<Self> {
        let file = match &global.config {
            Some(path) => read_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                read_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => FileConfig::default(),
        };
        let database_url = match (&global.database, &global.database_file) {
            (Some(url), _) => url.clone(),
            (None, Some(path)) => read_secret(path)?,
            (None, None) => match (&file.database_url, &file.database_url_file) {
                (Some(url), _) => url.clone(),
                (None, Some(path)) => read_secret(path)?,
                (None, None) => DEFAULT_DATABASE_URL.to_string(),
            },
        };
        let listen = match listen_flag.or(file.listen) {
            Some(addr) => addr,
            None => DEFAULT_LISTEN.parse().context("default listen address")?,
        };
        Ok(Self {
            database_url,
            listen,
            log_format: global.log_format.or(file.log_format).unwrap_or_default(),
            policy_dir: global.policy_dir.clone().or(file.policy_dir),
            roles: roles(file.roles.unwrap_or_default()),
            sla: file.sla.unwrap_or_default(),
            handover_grace: file
                .handover_grace
                .map_or(writ_core::requests::DEFAULT_HANDOVER_GRACE, |t| {
                    t.as_duration()
                }),
            reconcile: reconcile(file.reconcile.unwrap_or_default()),
            campaigns: campaigns(file.campaigns.unwrap_or_default()),
            secret_key_file: std::env::var_os("WRIT_SECRET_KEY_FILE")
                .map(PathBuf::from)
                .or(file.secret_key_file),
            audit_signing_key_file: std::env::var_os("WRIT_AUDIT_SIGNING_KEY_FILE")
                .map(PathBuf::from)
                .or(file.audit_signing_key_file),
            checkpoints: {
                let given = file.checkpoints.unwrap_or_default();
                CheckpointSchedule {
                    every_events: given.every_events.unwrap_or(10_000),
                    every: given
                        .every
                        .map_or(std::time::Duration::from_secs(600), |t| t.as_duration()),
                }
            },
            oidc: file.oidc.map(oidc).transpose()?,
            servicedesk: crate::desks::webhooks(file.servicedesk.unwrap_or_default())?,
            event_endpoints: crate::desks::endpoints(file.webhooks.unwrap_or_default())?,
            warnings: unknown_env_vars(std::env::vars().map(|(k, _)| k)),
        })
    }
}

fn roles(config: RolesConfig) -> writ_core::requests::Roles {
    let defaults = writ_core::requests::Roles::default();
    writ_core::requests::Roles {
        admin_group: config.admin_group.unwrap_or(defaults.admin_group),
        auditor_group: config.auditor_group.unwrap_or(defaults.auditor_group),
        security_group: config.security_group.unwrap_or(defaults.security_group),
    }
}

/// `[oidc]` with its client secret read from its file.
fn oidc(file: OidcFile) -> anyhow::Result<writ_server::OidcSettings> {
    Ok(writ_server::OidcSettings {
        client_secret: read_secret(&file.client_secret_file)
            .context("[oidc] client_secret_file")?,
        issuer: file.issuer,
        client_id: file.client_id,
        redirect_url: file.redirect_url,
    })
}

fn campaigns(config: CampaignsFile) -> CampaignSettings {
    let duration =
        |ttl: Option<writ_domain::Ttl>, default| ttl.map_or(default, |t| t.as_duration());
    CampaignSettings {
        remind_before: duration(
            config.remind_before,
            writ_core::campaigns::DEFAULT_REMIND_BEFORE,
        ),
        escalation_grace: duration(
            config.escalation_grace,
            writ_core::campaigns::DEFAULT_ESCALATION_GRACE,
        ),
    }
}

fn reconcile(config: ReconcileConfig) -> writ_core::reconcile::ReconcileSettings {
    let defaults = writ_core::reconcile::ReconcileSettings::default();
    writ_core::reconcile::ReconcileSettings {
        interval: config
            .interval
            .map_or(defaults.interval, |t| t.as_duration()),
        systems: config
            .systems
            .into_iter()
            .map(|(name, system)| {
                (
                    name,
                    writ_core::reconcile::SystemSettings {
                        mode: system.mode.unwrap_or_default(),
                        interval: system.interval.map(|t| t.as_duration()),
                    },
                )
            })
            .collect(),
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config `{}`", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config `{}`", path.display()))
}

/// Reads a secret from a file, trimming the trailing newline editors add.
pub(crate) fn read_secret(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let secret = text.trim_end_matches(['\n', '\r']).to_string();
    if secret.is_empty() {
        bail!("`{}` is empty", path.display());
    }
    Ok(secret)
}

fn unknown_env_vars(names: impl Iterator<Item = String>) -> Vec<String> {
    names
        .filter(|name| name.starts_with("WRIT_"))
        .filter(|name| !KNOWN_ENV.contains(&name.as_str()))
        .filter(|name| !KNOWN_ENV_PREFIXES.iter().any(|p| name.starts_with(p)))
        .map(|name| format!("unknown environment variable `{name}` is ignored"))
        .collect()
}

impl Config {
    /// How the portal is set up: OIDC login if configured, and `Secure` cookies when writ is
    /// reached over TLS (the OIDC redirect URL is `https`).
    pub fn portal(&self) -> writ_server::PortalConfig {
        writ_server::PortalConfig {
            secure_cookies: self
                .oidc
                .as_ref()
                .is_some_and(|o| o.redirect_url.starts_with("https://")),
            demo: None,
            oidc: self.oidc.clone().map(writ_server::Oidc::new),
        }
    }

    /// The sealer over the configured secret key, if one is configured; a key file that is
    /// unreadable, malformed or readable by others is an error.
    pub fn sealer(&self) -> anyhow::Result<Option<std::sync::Arc<writ_core::rotate::Sealer>>> {
        let Some(path) = &self.secret_key_file else {
            return Ok(None);
        };
        let key = writ_core::rotate::SecretKey::from_file(path)
            .with_context(|| format!("secret key `{}`", path.display()))?;
        Ok(Some(std::sync::Arc::new(writ_core::rotate::Sealer::new(
            &key,
        ))))
    }

    /// The checkpoint signer over the configured audit signing key, if one is configured.
    pub fn checkpoint_signer(
        &self,
    ) -> anyhow::Result<Option<std::sync::Arc<writ_domain::checkpoint::NoteSigner>>> {
        let Some(path) = &self.audit_signing_key_file else {
            return Ok(None);
        };
        Ok(Some(std::sync::Arc::new(writ_core::evidence::read_signer(
            path,
        )?)))
    }

    /// The shipped policies plus the operator's, validated; an invalid set is an error that
    /// names every problem's file and position.
    pub fn policy_engine(&self) -> anyhow::Result<writ_policy::PolicyEngine> {
        load_policies(self.policy_dir.as_deref())
    }
}

/// Loads and validates the policy set with the operator's directory `dir`, if any. Each
/// problem goes to stderr on its own line (file:line:column: message) before the error.
pub fn load_policies(dir: Option<&Path>) -> anyhow::Result<writ_policy::PolicyEngine> {
    writ_policy::PolicyEngine::load(dir).map_err(|err| {
        let problems = err.problems();
        for problem in problems {
            eprintln!("{problem}");
        }
        match problems.len() {
            0 => anyhow::anyhow!("{err}"),
            n => anyhow::anyhow!("invalid policy set: {n} problem(s); nothing was loaded"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_reads_its_client_secret_from_a_file_and_never_shows_it() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("oidc");
        std::fs::write(&secret, "s3cret-value\n").unwrap();
        let file: FileConfig = toml::from_str(&format!(
            "[oidc]\nissuer = 'https://idp.example'\nclient_id = 'writ'\nclient_secret_file = '{}'\nredirect_url = 'https://writ.example/portal/login/callback'",
            secret.display()
        ))
        .unwrap();
        let settings = oidc(file.oidc.unwrap()).unwrap();
        assert_eq!(settings.client_secret, "s3cret-value");
        assert!(!format!("{settings:?}").contains("s3cret"));
        let err = toml::from_str::<FileConfig>(
            "[oidc]\nissuer = 'x'\nclient_id = 'w'\nclient_secret = 'inline'\nredirect_url = 'x'",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("client_secret"),
            "secrets only by file: {err}"
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let err = toml::from_str::<FileConfig>("databse_url = 'sqlite://x.db'").unwrap_err();
        assert!(err.to_string().contains("databse_url"), "{err}");
    }

    #[test]
    fn approval_slas_are_read_per_category_with_defaults_for_the_rest() {
        let file: FileConfig = toml::from_str("[sla]\nprivileged = '4h'").unwrap();
        let sla = file.sla.unwrap();
        assert_eq!(sla.privileged, std::time::Duration::from_secs(4 * 3600));
        assert_eq!(sla.standard, writ_domain::SlaPolicy::default().standard);
        let err = toml::from_str::<FileConfig>("[sla]\nprivileged = 'soon'").unwrap_err();
        assert!(err.to_string().contains("soon"), "{err}");
    }

    #[test]
    fn reconciliation_is_configured_per_system_with_report_by_default() {
        let file: FileConfig = toml::from_str(
            "[reconcile]\ninterval = '30m'\n[reconcile.systems.ledger]\nmode = 'restore_missing'\ninterval = '5m'",
        )
        .unwrap();
        let settings = reconcile(file.reconcile.unwrap());
        let name = |n: &str| writ_domain::Name::parse(n).unwrap();
        assert_eq!(
            settings.mode(&name("ledger")),
            writ_domain::RemediationMode::RestoreMissing
        );
        assert_eq!(
            settings.interval(&name("ledger")),
            std::time::Duration::from_secs(300)
        );
        assert_eq!(
            settings.mode(&name("files")),
            writ_domain::RemediationMode::Report
        );
        assert_eq!(
            settings.interval(&name("files")),
            std::time::Duration::from_secs(1800)
        );
        let err = toml::from_str::<FileConfig>("[reconcile.systems.x]\nmode = 'fix'").unwrap_err();
        assert!(err.to_string().contains("fix"), "{err}");
    }

    #[test]
    fn reports_misspelt_environment_variables_only() {
        let names = [
            "WRIT_DATABSE_URL",
            "WRIT_DATABASE_URL",
            "WRIT_TEST_POSTGRES_URL",
            "HOME",
        ];
        let warnings = unknown_env_vars(names.iter().map(|s| s.to_string()));
        assert_eq!(
            warnings,
            ["unknown environment variable `WRIT_DATABSE_URL` is ignored"]
        );
    }
}
