//! writ's use cases, over the [`writ_store::Store`] port: what happens, in what order, and
//! what gets recorded. Time comes from an injected [`Clock`]. No HTTP, no SQL here.

pub mod audit;
pub mod campaigns;
pub mod catalog;
pub mod clock;
pub mod error;
pub mod evidence;
pub mod execute;
pub mod findings;
pub mod intake;
pub mod keys;
pub mod metrics;
pub mod outbox;
pub mod reconcile;
pub mod requests;
pub mod retry;
pub mod revoke;
pub mod rotate;
pub mod runner;
pub mod tokens;

pub use clock::{Clock, SystemClock};
pub use error::CoreError;
