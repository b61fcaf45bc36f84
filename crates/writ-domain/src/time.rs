//! Instants as whole microseconds since the Unix epoch: exact in storage, in hashes and in
//! comparisons on both backends.

use std::fmt;
use std::time::Duration;

use crate::error::ParseError;

/// An instant, in microseconds since 1970-01-01T00:00:00Z (UTC).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// Builds an instant from microseconds since the epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Reads the system clock. Use cases take time from an injected `Clock` instead.
    pub fn now_utc() -> Self {
        let now = time::OffsetDateTime::now_utc();
        Self((now.unix_timestamp_nanos() / 1_000) as i64)
    }

    /// This instant moved forward by `by` (saturating at the end of time).
    pub fn plus(self, by: Duration) -> Self {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(micros))
    }

    /// This instant moved back by `by` (saturating at the start of time).
    pub fn minus(self, by: Duration) -> Self {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        Self(self.0.saturating_sub(micros))
    }

    /// How long after `earlier` this instant is; zero when it is not after it.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_micros(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    /// Parses an RFC 3339 instant such as `2026-11-22T10:00:00Z`.
    pub fn parse_rfc3339(text: &str) -> Result<Self, ParseError> {
        let parsed =
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| ParseError::new("timestamp", text, e.to_string()))?;
        Ok(Self((parsed.unix_timestamp_nanos() / 1_000) as i64))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with microseconds, e.g. `2026-11-22T10:00:00.000001Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = i128::from(self.0) * 1_000;
        match time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }) {
            Some(text) => f.write_str(&text),
            None => write!(f, "@{}us", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_rfc3339() {
        let t = Timestamp::parse_rfc3339("2026-11-22T10:00:00.000001Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T10:00:00.000001Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Ok(t));
    }

    #[test]
    fn rejects_a_date_without_time() {
        assert!(Timestamp::parse_rfc3339("2026-11-22").is_err());
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let t = Timestamp::from_micros(10);
        assert_eq!(t.plus(Duration::from_micros(5)).as_micros(), 15);
        assert_eq!(t.since(Timestamp::from_micros(20)), Duration::ZERO);
    }
}
