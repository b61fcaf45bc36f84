//! Test support for writ: a fresh store per test on SQLite (always) and PostgreSQL (when
//! `WRIT_TEST_POSTGRES_URL` is set), and a manual clock. Dev-only: never a runtime dependency.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod catalog;
mod clock;
mod db;

pub use clock::ManualClock;
pub use db::{POSTGRES_URL_VAR, TestDb, postgres_admin_url};
