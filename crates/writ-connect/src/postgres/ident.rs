//! Quoting for the two places PostgreSQL cannot take a bound parameter: role names in DDL
//! (`CREATE ROLE`, `GRANT`, `REVOKE`, `ALTER ROLE`) and the password literal of `CREATE ROLE`.
//! Everything else is bound as `$n`.

use crate::ConnectorError;

/// The longest name PostgreSQL keeps (`NAMEDATALEN - 1`); longer names are silently truncated,
/// so writ would manage a different role than the one it was asked for.
pub(super) const MAX_NAME_BYTES: usize = 63;

/// Quotes `name` as an SQL identifier: wraps it in `"` and doubles every embedded `"`.
///
/// Refuses an empty name, a NUL byte (PostgreSQL cannot store it) and a name longer than
/// [`MAX_NAME_BYTES`] (PostgreSQL would truncate it).
pub(super) fn quote_ident(name: &str) -> Result<String, ConnectorError> {
    if name.is_empty() {
        return Err(ConnectorError::Permanent(
            "a role name must not be empty".to_owned(),
        ));
    }
    if name.contains('\0') {
        return Err(ConnectorError::Permanent(format!(
            "role name {name:?} contains a NUL byte, which PostgreSQL cannot store"
        )));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(ConnectorError::Permanent(format!(
            "role name `{name}` is {} bytes long; PostgreSQL keeps at most {MAX_NAME_BYTES} \
             and would silently truncate it",
            name.len()
        )));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// Quotes `text` as an SQL string literal: wraps it in `'` and doubles every embedded `'`.
///
/// A backslash makes it an `E'…'` literal with the backslashes doubled, which reads the same
/// whatever `standard_conforming_strings` is set to. Refuses a NUL byte.
pub(super) fn quote_literal(text: &str) -> Result<String, ConnectorError> {
    if text.contains('\0') {
        return Err(ConnectorError::Permanent(
            "a string literal must not contain a NUL byte".to_owned(),
        ));
    }
    let doubled = text.replace('\'', "''");
    Ok(if doubled.contains('\\') {
        format!("E'{}'", doubled.replace('\\', "\\\\"))
    } else {
        format!("'{doubled}'")
    })
}

/// A role name PostgreSQL will store exactly as given: checked once, quoted on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RoleName {
    name: String,
    quoted: String,
}

impl RoleName {
    /// Checks `name` can be quoted without loss (see [`quote_ident`]).
    pub(super) fn parse(name: &str) -> Result<Self, ConnectorError> {
        Ok(Self {
            quoted: quote_ident(name)?,
            name: name.to_owned(),
        })
    }

    /// The name, for binding as a parameter and for messages.
    pub(super) fn as_str(&self) -> &str {
        &self.name
    }

    /// The name as a quoted identifier, for DDL.
    pub(super) fn quoted(&self) -> &str {
        &self.quoted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_ident_wraps_and_doubles_double_quotes() {
        assert_eq!(quote_ident("svc").unwrap(), "\"svc\"");
        assert_eq!(
            quote_ident("x\"; DROP ROLE postgres; --é").unwrap(),
            "\"x\"\"; DROP ROLE postgres; --é\""
        );
        assert_eq!(quote_ident("\"").unwrap(), "\"\"\"\"");
    }

    #[test]
    fn quote_ident_refuses_empty_nul_and_names_postgres_would_truncate() {
        for bad in ["", "a\0b"] {
            assert!(!quote_ident(bad).unwrap_err().is_transient());
        }
        assert!(quote_ident(&"a".repeat(63)).is_ok());
        let err = quote_ident(&"a".repeat(64)).unwrap_err();
        assert!(err.to_string().contains("truncate"), "{err}");
        // 31 two-byte characters are 62 bytes; one more is 64: bytes count, not characters.
        assert!(quote_ident(&"é".repeat(31)).is_ok());
        assert!(quote_ident(&"é".repeat(32)).is_err());
    }

    #[test]
    fn quote_literal_doubles_single_quotes_and_escapes_backslashes() {
        assert_eq!(quote_literal("abc").unwrap(), "'abc'");
        assert_eq!(quote_literal("it's").unwrap(), "'it''s'");
        assert_eq!(quote_literal("a\\'b").unwrap(), "E'a\\\\''b'");
        assert!(quote_literal("a\0").is_err());
    }

    #[test]
    fn role_name_keeps_the_name_and_its_quoted_form() {
        let role = RoleName::parse("a\"b").unwrap();
        assert_eq!(role.as_str(), "a\"b");
        assert_eq!(role.quoted(), "\"a\"\"b\"");
    }
}
