//! What a failed call to PostgreSQL means for the job runner: retry (`Transient`) or give up
//! (`Permanent`), decided by the error's SQLSTATE where the server sent one.

use crate::ConnectorError;

/// Whether a retry can help with this SQLSTATE: connection exceptions (`08`), insufficient
/// resources such as `too many connections` (`53`), operator intervention such as a shutdown
/// or a cluster still starting (`57P`), a statement or lock timeout (`57014`, `55P03`),
/// transaction rollbacks such as serialization failures and deadlocks (`40`), and I/O errors
/// (`58030`). Everything else (syntax or access rule violations `42`, including
/// `insufficient_privilege` 42501; invalid authorization `28`; a missing database `3D000`) is a
/// fault that waiting will not fix.
pub(super) fn is_transient_sqlstate(code: &str) -> bool {
    ["08", "53", "57P", "40"]
        .iter()
        .any(|class| code.starts_with(class))
        || matches!(code, "57014" | "55P03" | "58030")
}

/// The SQLSTATE of a database error, if the server sent one.
pub(super) fn sqlstate(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) => db.code().map(|code| code.into_owned()),
        _ => None,
    }
}

/// Turns a driver error during `action` on `target` (`host:port/database`) into a connector
/// error. The message never holds a secret: the driver's errors carry none, and statements
/// (which may carry a password verifier) are never part of them.
pub(super) fn classify(action: &str, target: &str, err: sqlx::Error) -> ConnectorError {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|code| code.into_owned()).unwrap_or_default();
            let message = db.message();
            if is_transient_sqlstate(&code) {
                ConnectorError::Transient(format!(
                    "{action} on `{target}`: {message} (sqlstate {code})"
                ))
            } else if code == "42501" {
                ConnectorError::Permanent(format!(
                    "{action} on `{target}`: writ's user lacks the privilege: {message} \
                     (sqlstate {code})"
                ))
            } else {
                ConnectorError::Permanent(format!(
                    "{action} on `{target}`: {message} (sqlstate {code})"
                ))
            }
        }
        // Refused, reset or timed-out connections; the pool retries a refused connection until
        // its acquire timeout, then reports `PoolTimedOut`.
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => {
            ConnectorError::Transient(format!("{action}: `{target}` is unreachable: {err}"))
        }
        // TLS set-up failures are nearly always configuration (`sslmode`, certificates);
        // decoding and protocol errors are a mismatch a retry will not cure.
        other => ConnectorError::Permanent(format!("{action} on `{target}`: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_resource_shutdown_and_serialization_failures_are_transient() {
        for code in [
            "08006", "08001", "53300", "53100", "57P01", "57P03", "40001", "40P01", "57014",
            "55P03",
        ] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn privilege_definition_and_authorization_errors_are_permanent() {
        for code in [
            "42501", "42704", "42710", "42601", "28P01", "28000", "3D000", "0LP01",
        ] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn unreachable_targets_are_transient_and_named() {
        let err = classify("check", "db:5432/app", sqlx::Error::PoolTimedOut);
        assert!(err.is_transient());
        assert!(
            err.to_string().contains("`db:5432/app` is unreachable"),
            "{err}"
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(classify("grant", "db:5432/app", sqlx::Error::Io(refused)).is_transient());
    }

    #[test]
    fn configuration_errors_are_permanent() {
        let err = classify(
            "check",
            "db:5432/app",
            sqlx::Error::Configuration("bad".into()),
        );
        assert!(!err.is_transient());
    }
}
