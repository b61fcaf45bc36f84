//! When a failed job runs again: exponential backoff with full jitter, capped, so a target
//! that comes back is not hit by every worker at the same instant.

use std::time::Duration;

/// The backoff schedule of a job queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay ceiling after the first failed attempt.
    pub base: Duration,
    /// No delay is longer than this.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(10 * 60),
        }
    }
}

impl Backoff {
    /// The longest delay after `attempt` failed attempts (1 for the first): `base * 2^(attempt-1)`,
    /// capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.base.saturating_mul(1 << doublings).min(self.cap)
    }

    /// A delay drawn uniformly from `[ceiling/2, ceiling]` with `unit` in `[0, 1)` as the random
    /// draw, so retries spread out but never come back sooner than half the schedule.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        ceiling.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }

    /// [`Backoff::delay`] with a fresh random draw.
    pub fn jittered(&self, attempt: u32) -> Duration {
        self.delay(attempt, fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_until_the_cap() {
        let backoff = Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        };
        let ceilings: Vec<u64> = (1..=8).map(|a| backoff.ceiling(a).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(backoff.ceiling(1_000), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_between_half_and_the_ceiling() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(3, 0.0), backoff.ceiling(3) / 2);
        assert_eq!(backoff.delay(3, 1.0), backoff.ceiling(3));
        for _ in 0..100 {
            let d = backoff.jittered(4);
            assert!(d >= backoff.ceiling(4) / 2 && d <= backoff.ceiling(4));
        }
    }
}
