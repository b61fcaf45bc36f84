//! An account's credential on PostgreSQL: its login role's password.
//!
//! **Checking** a password means logging in with it. That alone proves nothing where
//! `pg_hba.conf` lets the role in without a password (`trust`, `peer`, a client certificate),
//! so a login that succeeds is confirmed one of two ways:
//!
//! - when writ's user can read `pg_authid` (a superuser), the password is checked against the
//!   role's SCRAM-SHA-256 verifier, exactly as the server checks a SCRAM login;
//! - otherwise writ logs in once more with a random password nobody holds: if that works too,
//!   the server does not check this role's password from here, and the check is refused as a
//!   permanent error rather than answered `true`.
//!
//! **Rotating** sends `ALTER ROLE … PASSWORD` with a SCRAM verifier computed here, so the new
//! password appears in no server log. Sessions already open stay open: a rotation changes
//! what logs in next, and applications reconnect with the new password.

use serde_json::json;
use writ_domain::AccountKey;

use super::PostgresConnector;
use super::client::StoredPassword;
use super::password::{password_verifier, verifier_matches};
use crate::{ConnectorError, Receipt, Secret};

impl PostgresConnector {
    /// Whether `secret` logs in as `account`'s role, proven as the module docs say.
    pub(super) async fn verify_credential(
        &self,
        account: &AccountKey,
        secret: &Secret,
    ) -> Result<bool, ConnectorError> {
        let action = format!("check the credential of `{account}`");
        let role = self.account_role(account)?;
        if !self.client.log_in(&action, &role, secret).await? {
            return Ok(false);
        }
        match self.client.stored_verifier(&action, &role).await? {
            StoredPassword::Verifier(verifier) => {
                if let Some(matches) = verifier_matches(verifier.expose(), secret) {
                    return Ok(matches);
                }
            }
            // It logged in, yet the role has no password: the server did not check one.
            StoredPassword::None => return Ok(false),
            StoredPassword::Unreadable => {}
        }
        let nobodys = Secret::new(format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        ));
        if self.client.log_in(&action, &role, &nobodys).await? {
            return Err(ConnectorError::Permanent(format!(
                "{action}: `{}` lets `{account}` log in without checking its password (trust, \
                 peer or certificate authentication in pg_hba.conf), and writ's role `{}` may \
                 not read pg_authid to check it otherwise; require scram-sha-256 for this role \
                 or connect writ as a superuser",
                self.client.target(),
                self.client.config().user
            )));
        }
        Ok(true)
    }

    /// Sets `new` as the password of `account`'s role, which must exist and be able to log in.
    pub(super) async fn set_credential(
        &self,
        account: &AccountKey,
        new: &Secret,
    ) -> Result<Receipt, ConnectorError> {
        let action = format!("rotate the credential of `{account}`");
        let role = self.account_role(account)?;
        let mut conn = self.client.acquire(&action).await?;
        match self.client.role(&mut conn, &action, &role).await? {
            None => {
                return Err(ConnectorError::Permanent(format!(
                    "{action}: account `{account}` does not exist on `{}`",
                    self.client.target()
                )));
            }
            Some(existing) if !existing.can_login => {
                return Err(ConnectorError::Permanent(format!(
                    "{action}: account `{account}` is disabled (NOLOGIN) on `{}`",
                    self.client.target()
                )));
            }
            Some(_) => {}
        }
        let verifier = password_verifier(new);
        self.client
            .set_password(&mut conn, &action, &role, &verifier)
            .await?;
        Ok(self.receipt(
            "rotate_credential",
            true,
            json!({"account": account, "sent_as": "scram-sha-256 verifier"}),
        ))
    }
}
