//! Constrained text: display names, connectors' native keys and e-mail addresses. Each is
//! checked once when built and trusted afterwards.

use crate::error::ParseError;

/// Defines a text newtype around `String` whose only way in is `$name::parse`: gives it
/// `as_str()`, `Display`, `AsRef<str>`, `FromStr`, `TryFrom<&str>`/`TryFrom<String>`,
/// `From<$name> for String`, and serde as a string that is validated on the way in.
macro_rules! text_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The text, as validated.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::error::ParseError;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::error::ParseError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

pub(crate) use text_newtype;

/// Refuses `text` when it is empty, longer than `max` characters or holds a control character;
/// the error quotes `given`, the input before any trimming.
pub(crate) fn check_plain_text(
    what: &'static str,
    given: &str,
    text: &str,
    max: usize,
) -> Result<(), ParseError> {
    let reason = if text.is_empty() {
        "must not be empty".to_owned()
    } else if text.chars().count() > max {
        format!("must be at most {max} characters")
    } else if text.chars().any(char::is_control) {
        "must not contain control characters".to_owned()
    } else {
        return Ok(());
    };
    Err(ParseError::new(what, given, reason))
}

text_newtype! {
    /// A display name of an identity, system, entitlement, rule or campaign: trimmed, 1 to 128
    /// characters, no control characters.
    Name
}

impl Name {
    /// The longest name, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Trims `text` and checks it is a usable name.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let trimmed = text.trim();
        check_plain_text("name", text, trimmed, Self::MAX_CHARS)?;
        Ok(Self(trimmed.to_owned()))
    }
}

text_newtype! {
    /// An entitlement's native id in its system (a role, group or scope name), kept exactly as
    /// the connector reports it: 1 to 255 characters, no control characters.
    EntitlementKey
}

impl EntitlementKey {
    /// The longest key, in characters.
    pub const MAX_CHARS: usize = 255;

    /// Checks `text` is a usable native key. It is not trimmed: the connector compares it
    /// byte for byte with live state.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        check_plain_text("entitlement key", text, text, Self::MAX_CHARS)?;
        Ok(Self(text.to_owned()))
    }
}

text_newtype! {
    /// An account's native id in its system (a login role, a DN, a user id), kept exactly as the
    /// connector reports it: 1 to 255 characters, no control characters.
    AccountKey
}

impl AccountKey {
    /// The longest key, in characters.
    pub const MAX_CHARS: usize = 255;

    /// Checks `text` is a usable native key. It is not trimmed: the connector compares it
    /// byte for byte with live state.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        check_plain_text("account key", text, text, Self::MAX_CHARS)?;
        Ok(Self(text.to_owned()))
    }
}

text_newtype! {
    /// An e-mail address, lowercased: one `@` between a non-empty local part and a non-empty
    /// domain, no whitespace. Deliverability is the IdP's business, not ours.
    Email
}

impl Email {
    /// The longest address, in characters (RFC 5321's path limit).
    pub const MAX_CHARS: usize = 254;

    /// Trims and lowercases `text` and checks it looks like an address.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let trimmed = text.trim();
        check_plain_text("email", text, trimmed, Self::MAX_CHARS)?;
        if trimmed.chars().any(char::is_whitespace) {
            return Err(ParseError::new(
                "email",
                text,
                "must not contain whitespace",
            ));
        }
        match trimmed.split_once('@') {
            Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
            {
                Ok(Self(trimmed.to_lowercase()))
            }
            _ => Err(ParseError::new(
                "email",
                text,
                "must be one `@` between a local part and a domain",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_trimmed() {
        assert_eq!(
            Name::parse("  billing exporter ").unwrap().as_str(),
            "billing exporter"
        );
    }

    #[test]
    fn name_refuses_blank_text() {
        assert!(Name::parse("").is_err());
        assert!(Name::parse("   ").is_err());
    }

    #[test]
    fn name_allows_128_characters_and_refuses_129() {
        assert!(Name::parse(&"é".repeat(128)).is_ok());
        let err = Name::parse(&"é".repeat(129)).unwrap_err();
        assert_eq!(err.reason, "must be at most 128 characters");
    }

    #[test]
    fn name_refuses_control_characters() {
        assert!(Name::parse("bad\nname").is_err());
        assert!(Name::parse("bad\u{7f}name").is_err());
    }

    #[test]
    fn keys_are_kept_exactly_as_given() {
        let key = AccountKey::parse(" cn=svc,ou=bots ").unwrap();
        assert_eq!(key.as_str(), " cn=svc,ou=bots ");
    }

    #[test]
    fn keys_refuse_nul_and_other_control_characters() {
        let err = EntitlementKey::parse("role\0admin").unwrap_err();
        assert_eq!(err.what, "entitlement key");
        assert!(AccountKey::parse("a\tb").is_err());
    }

    #[test]
    fn keys_allow_255_characters_and_refuse_256() {
        assert!(EntitlementKey::parse(&"k".repeat(255)).is_ok());
        assert!(EntitlementKey::parse(&"k".repeat(256)).is_err());
        assert!(AccountKey::parse("").is_err());
    }

    #[test]
    fn email_is_lowercased_and_trimmed() {
        let email = Email::parse(" Alice.Smith@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "alice.smith@example.com");
    }

    #[test]
    fn email_refuses_malformed_addresses() {
        for bad in [
            "alice",
            "@example.com",
            "alice@",
            "a@b@c",
            "al ice@example.com",
            "",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn serde_round_trips_as_a_plain_string() {
        let name = Name::parse("payments-db").unwrap();
        let json = serde_json::to_string(&name).unwrap();
        assert_eq!(json, "\"payments-db\"");
        assert_eq!(serde_json::from_str::<Name>(&json).unwrap(), name);
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<Name>("\"  \"").is_err());
        assert!(serde_json::from_str::<AccountKey>("\"a\\u0000b\"").is_err());
        let email: Email = serde_json::from_str("\"Bob@Example.com\"").unwrap();
        assert_eq!(email.as_str(), "bob@example.com");
    }
}
