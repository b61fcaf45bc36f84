//! How long access lasts: a whole number of seconds, more than none and at most 366 days,
//! written the way people write it (`30m`, `8h`, `7d`, `2w`, `3600s`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::ParseError;

/// Units in the text form, largest first, with their length in seconds.
const UNITS: [(char, u64); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

/// A time-to-live: more than zero seconds and at most 366 days. "Forever" is not a TTL; it is
/// an exception request.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Ttl(u64);

impl Ttl {
    /// The longest TTL: 366 days, so a yearly grant fits even in a leap year.
    pub const MAX: Ttl = Ttl(366 * 86_400);

    /// A TTL of `secs` seconds, if it is in range.
    pub fn from_secs(secs: u64) -> Result<Self, ParseError> {
        Self::checked(secs, &format!("{secs}s"))
    }

    /// Parses the text form: a whole number followed by one unit of `s`, `m`, `h`, `d` or `w`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let invalid = |reason: &str| ParseError::new("ttl", text, reason);
        let Some(unit) = text.chars().last() else {
            return Err(invalid("must not be empty"));
        };
        let Some(&(_, unit_secs)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err(invalid("must end in a unit: `s`, `m`, `h`, `d` or `w`"));
        };
        let digits = &text[..text.len() - unit.len_utf8()];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "must be a whole number followed by a unit, e.g. `8h`",
            ));
        }
        let secs = digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_secs))
            .ok_or_else(|| invalid("must be at most 366 days"))?;
        Self::checked(secs, text)
    }

    /// The length in seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// The length as a standard duration.
    pub const fn as_duration(self) -> Duration {
        Duration::from_secs(self.0)
    }

    fn checked(secs: u64, text: &str) -> Result<Self, ParseError> {
        if secs == 0 {
            Err(ParseError::new("ttl", text, "must be longer than zero"))
        } else if secs > Self::MAX.0 {
            Err(ParseError::new("ttl", text, "must be at most 366 days"))
        } else {
            Ok(Self(secs))
        }
    }
}

impl fmt::Display for Ttl {
    /// The largest unit that divides the TTL exactly: `90m` rather than `5400s`, `2w` rather
    /// than `14d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `s` divides everything, so the search always ends in a unit.
        let (unit, secs) = UNITS
            .iter()
            .find(|(_, secs)| self.0.is_multiple_of(*secs))
            .copied()
            .unwrap_or(('s', 1));
        write!(f, "{}{unit}", self.0 / secs)
    }
}

impl FromStr for Ttl {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Ttl {
    type Error = ParseError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Ttl {
    type Error = ParseError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Ttl> for String {
    fn from(ttl: Ttl) -> String {
        ttl.to_string()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(Ttl::parse("3600s").unwrap().as_secs(), 3_600);
        assert_eq!(Ttl::parse("30m").unwrap().as_secs(), 1_800);
        assert_eq!(Ttl::parse("1h").unwrap().as_secs(), 3_600);
        assert_eq!(Ttl::parse("7d").unwrap().as_secs(), 604_800);
        assert_eq!(
            Ttl::parse("2w").unwrap().as_duration(),
            Duration::from_secs(1_209_600)
        );
    }

    #[test]
    fn displays_in_the_largest_exact_unit() {
        assert_eq!(Ttl::parse("3600s").unwrap().to_string(), "1h");
        assert_eq!(Ttl::parse("90m").unwrap().to_string(), "90m");
        assert_eq!(Ttl::parse("14d").unwrap().to_string(), "2w");
        assert_eq!(Ttl::parse("61s").unwrap().to_string(), "61s");
        assert_eq!(Ttl::MAX.to_string(), "366d");
    }

    #[test]
    fn refuses_zero() {
        assert_eq!(
            Ttl::parse("0h").unwrap_err().reason,
            "must be longer than zero"
        );
        assert!(Ttl::from_secs(0).is_err());
    }

    #[test]
    fn allows_366_days_and_refuses_a_second_more() {
        assert_eq!(Ttl::parse("366d"), Ok(Ttl::MAX));
        assert!(Ttl::parse("367d").is_err());
        assert!(Ttl::from_secs(Ttl::MAX.as_secs() + 1).is_err());
        assert!(Ttl::parse("99999999999999999999w").is_err());
    }

    #[test]
    fn refuses_text_that_is_not_a_number_and_a_unit() {
        for bad in [
            "", "h", "3600", "1.5h", "-1h", "+1h", " 1h", "1 h", "1H", "1y", "1hh", "1é",
        ] {
            assert!(Ttl::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn serde_uses_the_text_form_and_validates() {
        let ttl = Ttl::parse("8h").unwrap();
        assert_eq!(serde_json::to_string(&ttl).unwrap(), "\"8h\"");
        assert_eq!(serde_json::from_str::<Ttl>("\"480m\"").unwrap(), ttl);
        assert!(serde_json::from_str::<Ttl>("\"0s\"").is_err());
    }

    proptest! {
        #[test]
        fn display_round_trips(secs in 1..=Ttl::MAX.as_secs()) {
            let ttl = Ttl::from_secs(secs).unwrap();
            prop_assert_eq!(ttl.to_string().parse::<Ttl>(), Ok(ttl));
        }
    }
}
