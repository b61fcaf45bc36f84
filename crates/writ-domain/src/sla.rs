//! Approval SLAs: how long each stage of a pending request may wait for its approver, by
//! category. A stage that waits longer escalates; one with nobody left to escalate to expires.

use std::time::Duration;

use crate::kinds::Category;
use crate::time::Timestamp;

/// How long a stage may wait for a decision, per request category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaPolicy {
    /// Revocations and other ordinary changes.
    #[serde(with = "duration_text")]
    pub standard: Duration,
    /// Production or high-risk access.
    #[serde(with = "duration_text")]
    pub privileged: Duration,
    /// Low-risk access and the ordinary life of an identity.
    #[serde(with = "duration_text")]
    pub service_account: Duration,
    /// Break-glass (pre-approved; its post-use review uses this).
    #[serde(with = "duration_text")]
    pub emergency: Duration,
    /// Policy exceptions.
    #[serde(with = "duration_text")]
    pub exception: Duration,
}

impl Default for SlaPolicy {
    /// Privileged access is decided within a working day; routine access within three.
    fn default() -> Self {
        const HOUR: u64 = 3600;
        Self {
            standard: Duration::from_secs(72 * HOUR),
            privileged: Duration::from_secs(24 * HOUR),
            service_account: Duration::from_secs(72 * HOUR),
            emergency: Duration::from_secs(HOUR),
            exception: Duration::from_secs(48 * HOUR),
        }
    }
}

impl SlaPolicy {
    /// How long a stage of a request of `category` may wait.
    pub fn for_category(&self, category: Category) -> Duration {
        match category {
            Category::Standard => self.standard,
            Category::Privileged => self.privileged,
            Category::ServiceAccount => self.service_account,
            Category::Emergency => self.emergency,
            Category::Exception => self.exception,
        }
    }

    /// When a stage of a request of `category` that starts waiting at `from` is overdue.
    pub fn due(&self, category: Category, from: Timestamp) -> Timestamp {
        from.plus(self.for_category(category))
    }
}

/// Durations written as TTLs are (`90m`, `24h`, `3d`) in configuration.
mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use crate::ttl::Ttl;

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        match Ttl::from_secs(duration.as_secs()) {
            Ok(ttl) => serializer.collect_str(&ttl),
            Err(err) => Err(serde::ser::Error::custom(err)),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ttl::parse(&text)
            .map(Ttl::as_duration)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privileged_requests_are_due_sooner_than_routine_ones() {
        let sla = SlaPolicy::default();
        let now = Timestamp::from_micros(0);
        assert!(sla.due(Category::Privileged, now) < sla.due(Category::ServiceAccount, now));
        assert_eq!(
            sla.due(Category::Emergency, now),
            now.plus(Duration::from_secs(3600))
        );
    }

    #[test]
    fn configuration_writes_durations_like_ttls() {
        let sla: SlaPolicy = serde_json::from_str(r#"{"privileged":"4h"}"#).unwrap();
        assert_eq!(sla.privileged, Duration::from_secs(4 * 3600));
        assert_eq!(sla.standard, SlaPolicy::default().standard);
        let err = serde_json::from_str::<SlaPolicy>(r#"{"privileged":"soon"}"#).unwrap_err();
        assert!(err.to_string().contains("soon"), "{err}");
        assert!(serde_json::from_str::<SlaPolicy>(r#"{"urgent":"1h"}"#).is_err());
    }
}
