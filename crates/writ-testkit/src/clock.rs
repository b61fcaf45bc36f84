//! A clock that moves only when the test moves it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use writ_core::Clock;
use writ_domain::Timestamp;

/// A [`Clock`] set and advanced by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn at(at: Timestamp) -> Self {
        Self(AtomicI64::new(at.as_micros()))
    }

    /// A clock stopped at 2026-01-01T00:00:00Z.
    pub fn new() -> Self {
        Self::at(Timestamp::from_micros(1_767_225_600_000_000))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap();
        self.0.fetch_add(micros, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.as_micros(), Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_micros(self.0.load(Ordering::SeqCst))
    }
}
