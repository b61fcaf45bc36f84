//! Test support for writ: a fresh store per test on SQLite (always) and PostgreSQL (when
//! `WRIT_TEST_POSTGRES_URL` is set), a manual clock, and `TestApp` (the HTTP server over a
//! fresh store and organisation). Dev-only: never a runtime dependency.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app;
pub mod catalog;
mod clock;
mod db;
mod tickets;

pub use app::{TestApp, catalog_yaml, test_signer};
pub use clock::ManualClock;
pub use db::{POSTGRES_URL_VAR, TestDb, postgres_admin_url};
pub use tickets::{REFUSAL, refuse_ticket};
