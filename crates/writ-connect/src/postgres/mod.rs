//! The `postgres` connector: login roles and role membership of a real PostgreSQL cluster
//! (14 or later).
//!
//! - An **account** is a `LOGIN` role. `ensure_account` creates it with a random password that
//!   nobody is given (it is sent as a SCRAM verifier, so it appears in no log; see
//!   `password.rs`) and turns `LOGIN` back on if the role was disabled. `VALID UNTIL` is not
//!   set: the trait carries no end date yet.
//! - An **entitlement** is an existing `NOLOGIN` group role, named by its key. `grant` is
//!   `GRANT group TO account`, `revoke` is `REVOKE group FROM account`; both read the
//!   membership first, so the receipt says whether anything changed.
//! - **Which roles are accounts** (`list_accounts`, and the members `list_grants` reports):
//!   with `role_prefix` set, every role whose name starts with it, enabled or not (a disabled
//!   account stays listed with `enabled: false`); the prefix also bounds what writ may create,
//!   disable, grant to or revoke from, and group roles must not carry it. Without a prefix,
//!   every role that can log in, so an account disabled by writ drops out of the list (it is
//!   then indistinguishable from a group role): set a prefix to keep seeing it. Either way,
//!   the connection user and PostgreSQL's own `pg_*` roles are never accounts. Predefined
//!   roles such as `pg_read_all_data` do count as entitlements: membership in them is real
//!   access.
//! - **Errors**: connection failures, timeouts, `too many connections`, shutdowns and
//!   serialization failures are `Transient`; missing roles, missing rights (42501) and
//!   every other refusal are `Permanent` (see `failure.rs`).
//!
//! - A **credential** is the login role's password: `check_credential` logs in with it (and,
//!   where a login alone proves nothing, checks it otherwise), `rotate_credential` sets a new
//!   one as a SCRAM verifier (see `credential.rs`).
//!
//! Role names cannot be bound as parameters in DDL, so they are quoted (`ident.rs`); every
//! other value is bound.

mod client;
mod config;
mod credential;
mod failure;
mod ident;
mod password;
#[cfg(test)]
mod tests;

use std::fmt;

use async_trait::async_trait;
use futures_util::stream::{BoxStream, StreamExt};
use serde_json::json;
use writ_domain::{AccountKey, ConnectorKind, EntitlementKey};

use self::client::Client;
use self::config::PostgresConfig;
use self::ident::RoleName;
use crate::{Connector, ConnectorError, LiveAccount, LiveGrant, Receipt, Secret, SecretSource};

/// Manages login roles and role memberships of one PostgreSQL cluster.
pub struct PostgresConnector {
    client: Client,
}

impl fmt::Debug for PostgresConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not derived: the driver's options would print the password.
        let config = self.client.config();
        f.debug_struct("PostgresConnector")
            .field("target", &self.client.target())
            .field("user", &config.user)
            .field("role_prefix", &config.role_prefix)
            .finish_non_exhaustive()
    }
}

impl PostgresConnector {
    /// Builds the connector from a system's connector config (`host`, `port`, `database`,
    /// `user`, `password`, `sslmode`, `role_prefix`, `connect_timeout_secs`); connects lazily.
    pub fn from_config(
        config: &serde_json::Value,
        secrets: &dyn SecretSource,
    ) -> Result<Self, ConnectorError> {
        Ok(Self {
            client: Client::new(PostgresConfig::parse(config, secrets)?),
        })
    }

    /// The role for `account`, if writ may manage it: inside `role_prefix` when one is set,
    /// and neither writ's own connection user nor one of PostgreSQL's reserved `pg_` names.
    fn account_role(&self, account: &AccountKey) -> Result<RoleName, ConnectorError> {
        let role = RoleName::parse(account.as_str())?;
        let config = self.client.config();
        if let Some(prefix) = &config.role_prefix
            && !account.as_str().starts_with(prefix.as_str())
        {
            return Err(ConnectorError::Permanent(format!(
                "account `{account}` is outside this connector's `role_prefix` `{prefix}`"
            )));
        }
        if account.as_str() == config.user {
            return Err(ConnectorError::Permanent(format!(
                "account `{account}` is the role writ connects as; writ does not manage it"
            )));
        }
        if account.as_str().starts_with("pg_") {
            return Err(ConnectorError::Permanent(format!(
                "account `{account}`: names starting with `pg_` are reserved by PostgreSQL"
            )));
        }
        Ok(role)
    }

    /// The group role for `entitlement`: any role by key, except one carrying the account
    /// prefix (that is an account, and memberships in accounts are not entitlements).
    fn group_role(&self, entitlement: &EntitlementKey) -> Result<RoleName, ConnectorError> {
        let role = RoleName::parse(entitlement.as_str())?;
        if let Some(prefix) = &self.client.config().role_prefix
            && entitlement.as_str().starts_with(prefix.as_str())
        {
            return Err(ConnectorError::Permanent(format!(
                "entitlement `{entitlement}` carries the account prefix `{prefix}`: it is an \
                 account, not a group role"
            )));
        }
        Ok(role)
    }

    fn receipt(&self, operation: &str, changed: bool, mut detail: serde_json::Value) -> Receipt {
        detail["target"] = json!(self.client.target());
        Receipt {
            operation: operation.to_owned(),
            changed,
            detail,
        }
    }
}

#[async_trait]
impl Connector for PostgresConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Postgres
    }

    #[tracing::instrument(skip_all, fields(target = %self.client.target()))]
    async fn check(&self) -> Result<(), ConnectorError> {
        let privileges = self.client.privileges("check").await?;
        let user = &self.client.config().user;
        if !privileges.superuser && !privileges.create_role {
            return Err(ConnectorError::Permanent(format!(
                "check on `{}`: role `{user}` has neither CREATEROLE nor SUPERUSER; writ needs \
                 CREATEROLE to create login roles and grant group roles",
                self.client.target()
            )));
        }
        if !privileges.signal_backend {
            return Err(ConnectorError::Permanent(format!(
                "check on `{}`: role `{user}` cannot end other roles' sessions; grant it \
                 `pg_signal_backend` so disabling an account also ends its sessions",
                self.client.target()
            )));
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(target = %self.client.target()))]
    async fn list_accounts(&self) -> Result<Vec<LiveAccount>, ConnectorError> {
        self.client
            .accounts("list accounts")
            .await?
            .into_iter()
            .map(|(name, enabled)| {
                Ok(LiveAccount {
                    key: account_key(&name)?,
                    enabled,
                })
            })
            .collect()
    }

    fn list_grants(&self) -> BoxStream<'_, Result<LiveGrant, ConnectorError>> {
        self.client
            .memberships("list grants")
            .map(|row| {
                let (member, group) = row?;
                Ok(LiveGrant {
                    account: account_key(&member)?,
                    entitlement: EntitlementKey::parse(&group).map_err(|e| {
                        ConnectorError::Permanent(format!(
                            "group role {group:?} is not a usable entitlement key: {e}"
                        ))
                    })?,
                })
            })
            .boxed()
    }

    #[tracing::instrument(skip_all, fields(target = %self.client.target(), %account))]
    async fn ensure_account(&self, account: &AccountKey) -> Result<Receipt, ConnectorError> {
        let action = format!("ensure account `{account}`");
        let role = self.account_role(account)?;
        let mut conn = self.client.acquire(&action).await?;
        let existing = match self.client.role(&mut conn, &action, &role).await? {
            Some(existing) => existing,
            None => {
                let verifier = password::random_password_verifier();
                if self
                    .client
                    .create_login_role(&mut conn, &action, &role, &verifier)
                    .await?
                {
                    return Ok(self.receipt(
                        "ensure_account",
                        true,
                        json!({"account": account, "created": true}),
                    ));
                }
                // Created by someone else between our read and our write: treat as existing.
                self.client
                    .role(&mut conn, &action, &role)
                    .await?
                    .ok_or_else(|| {
                        ConnectorError::Transient(format!(
                            "{action}: the role was created and dropped concurrently"
                        ))
                    })?
            }
        };
        if existing.can_login {
            return Ok(self.receipt(
                "ensure_account",
                false,
                json!({"account": account, "created": false}),
            ));
        }
        if existing.has_members {
            return Err(ConnectorError::Permanent(format!(
                "{action}: `{account}` is a group role with members, not a disabled account"
            )));
        }
        self.client
            .set_login(&mut conn, &action, &role, true)
            .await?;
        Ok(self.receipt(
            "ensure_account",
            true,
            json!({"account": account, "created": false, "enabled": true}),
        ))
    }

    #[tracing::instrument(skip_all, fields(target = %self.client.target(), %account))]
    async fn disable_account(&self, account: &AccountKey) -> Result<Receipt, ConnectorError> {
        let action = format!("disable account `{account}`");
        let role = self.account_role(account)?;
        let mut conn = self.client.acquire(&action).await?;
        let Some(existing) = self.client.role(&mut conn, &action, &role).await? else {
            // An account that does not exist cannot be used: the goal already holds.
            return Ok(self.receipt(
                "disable_account",
                false,
                json!({"account": account, "absent": true}),
            ));
        };
        if existing.can_login {
            self.client
                .set_login(&mut conn, &action, &role, false)
                .await?;
        }
        // After NOLOGIN, so no new session can start while the old ones are ended.
        let ended = self
            .client
            .terminate_sessions(&mut conn, &action, &role)
            .await?;
        Ok(self.receipt(
            "disable_account",
            existing.can_login || ended > 0,
            json!({"account": account, "nologin_set": existing.can_login, "sessions_ended": ended}),
        ))
    }

    #[tracing::instrument(skip_all, fields(target = %self.client.target(), %account, %entitlement))]
    async fn grant(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<Receipt, ConnectorError> {
        let action = format!("grant `{entitlement}` to `{account}`");
        let member = self.account_role(account)?;
        let group = self.group_role(entitlement)?;
        let mut conn = self.client.acquire(&action).await?;
        if self
            .client
            .role(&mut conn, &action, &member)
            .await?
            .is_none()
        {
            return Err(ConnectorError::Permanent(format!(
                "{action}: account `{account}` does not exist on `{}`",
                self.client.target()
            )));
        }
        match self.client.role(&mut conn, &action, &group).await? {
            None => {
                return Err(ConnectorError::Permanent(format!(
                    "{action}: group role `{entitlement}` does not exist on `{}`",
                    self.client.target()
                )));
            }
            Some(row) if row.can_login => {
                return Err(ConnectorError::Permanent(format!(
                    "{action}: `{entitlement}` is a login role, not a group role"
                )));
            }
            Some(_) => {}
        }
        let detail = json!({"account": account, "entitlement": entitlement});
        if self
            .client
            .is_member(&mut conn, &action, member.as_str(), group.as_str())
            .await?
        {
            return Ok(self.receipt("grant", false, detail));
        }
        self.client
            .grant(&mut conn, &action, &member, &group)
            .await?;
        Ok(self.receipt("grant", true, detail))
    }

    #[tracing::instrument(skip_all, fields(target = %self.client.target(), %account, %entitlement))]
    async fn revoke(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<Receipt, ConnectorError> {
        let action = format!("revoke `{entitlement}` from `{account}`");
        let member = self.account_role(account)?;
        let group = RoleName::parse(entitlement.as_str())?;
        let mut conn = self.client.acquire(&action).await?;
        let detail = json!({"account": account, "entitlement": entitlement});
        // A missing account or group holds no membership: the revocation already holds.
        if !self
            .client
            .is_member(&mut conn, &action, member.as_str(), group.as_str())
            .await?
        {
            return Ok(self.receipt("revoke", false, detail));
        }
        self.client
            .revoke(&mut conn, &action, &member, &group)
            .await?;
        // PostgreSQL 16 revokes only what the current role granted, with a mere warning
        // otherwise: read back rather than trust it.
        if self
            .client
            .is_member(&mut conn, &action, member.as_str(), group.as_str())
            .await?
        {
            let grantors = self
                .client
                .grantors(&mut conn, &action, member.as_str(), group.as_str())
                .await?;
            return Err(ConnectorError::Permanent(format!(
                "{action}: the membership is still there; it was granted by `{}`, and writ's \
                 role `{}` cannot revoke a membership another role granted",
                grantors.join("`, `"),
                self.client.config().user
            )));
        }
        Ok(self.receipt("revoke", true, detail))
    }

    #[tracing::instrument(skip_all, fields(target = %self.client.target(), %account, %entitlement))]
    async fn holds(
        &self,
        account: &AccountKey,
        entitlement: &EntitlementKey,
    ) -> Result<bool, ConnectorError> {
        let action = format!("read back `{entitlement}` of `{account}`");
        let member = RoleName::parse(account.as_str())?;
        let group = RoleName::parse(entitlement.as_str())?;
        self.client
            .holds(&action, member.as_str(), group.as_str())
            .await
    }

    #[tracing::instrument(skip_all, fields(target = %self.client.target(), %account))]
    async fn check_credential(
        &self,
        account: &AccountKey,
        secret: &Secret,
    ) -> Result<bool, ConnectorError> {
        self.verify_credential(account, secret).await
    }

    #[tracing::instrument(skip_all, fields(target = %self.client.target(), %account))]
    async fn rotate_credential(
        &self,
        account: &AccountKey,
        new: &Secret,
    ) -> Result<Receipt, ConnectorError> {
        self.set_credential(account, new).await
    }
}

/// A role name as an account key; a name the key refuses (a control character) is reported,
/// not skipped, so no role can hide from writ behind an odd name.
fn account_key(name: &str) -> Result<AccountKey, ConnectorError> {
    AccountKey::parse(name).map_err(|e| {
        ConnectorError::Permanent(format!("role {name:?} is not a usable account key: {e}"))
    })
}
