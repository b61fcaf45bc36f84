//! writ's policy decisions, and the only crate that names Cedar: the schema and shipped
//! policies, the operator's overrides, validation at load, and the submit and approver
//! decisions with their reasons in plain words. Pure: no I/O but reading the operator's policy
//! directory, no async, no storage or web framework; depends on writ-domain alone among writ's
//! crates.
//!
//! Counting and looking up (separation-of-duties overlaps, distinct approvers, eligibility for a
//! stage) is done in Rust and passed to Cedar as facts; Cedar decides. Each decision evaluates
//! only its slice of the set: the policies of its action that are global or scoped to its
//! request's system. An allowed decision yields a permit ([`SubmitPermit`], [`ApprovalPermit`])
//! that only this crate can make, so a use case that takes one cannot run unauthorized.
//!
//! # Policy files
//!
//! [`PolicyEngine::load`] reads the shipped policies ([`shipped_sources`]) and the operator's
//! `*.cedar` files, validates them together against [`SCHEMA`] in strict mode, and refuses an
//! invalid set with every problem at its file, line and column. In every file:
//! - each policy carries `@id("…")`: 1 to 100 lowercase letters, digits, `_`, `-` or `.`,
//!   unique in the set (Cedar itself ignores `@id`; writ makes it the policy id);
//! - each `forbid` carries `@reason("…")`, the words a refused requester reads, with
//!   placeholders such as `{ttl}` filled from the request (see [`Placeholder`]); a placeholder
//!   must have a value for every action the policy applies to;
//! - templates (`?principal`, `?resource`) are not supported.
//!
//! **Override rule**: an operator policy whose `@id` equals a shipped policy's replaces that
//! policy entirely (effect, scope, condition and reason) and keeps its place in the order; to
//! switch a shipped rule off, override it with one that never applies (`when { false }`).
//! Other operator policies come after the shipped ones, in file-name order. Two operator
//! policies with one id refuse the set. [`PolicyInfo::overrides_shipped`] shows what was
//! replaced.
//!
//! A request with no satisfied forbid and at least one satisfied permit is allowed; a refusal
//! lists every satisfied forbid's reason, or [`DEFAULT_DENY`] when no permit applies. A policy
//! that fails to evaluate refuses the request ([`EVALUATION_ERROR`]).

#![forbid(unsafe_code)]

mod action;
mod approve;
pub mod bench;
mod decision;
mod engine;
mod entities;
mod error;
mod facts;
mod load;
mod reason;
mod source;
mod stages;
mod submit;
mod values;

#[cfg(test)]
mod testing;

pub use action::Action;
pub use approve::ApproveInput;
pub use decision::{
    ApprovalPermit, DEFAULT_DENY, Decision, DecisionRecord, EVALUATION_ERROR, Permit,
    PolicySetHash, REQUEST_SHAPE, Reason, SubmitPermit,
};
pub use engine::{PolicyEffect, PolicyEngine, PolicyInfo};
pub use error::{PolicyError, Problem};
pub use facts::{EntitlementFacts, IdentityFacts, PrincipalFacts, RequestFacts, SodConflict};
pub use reason::Placeholder;
pub use source::{PolicySource, SCHEMA, read_policy_dir, shipped_sources};
pub use stages::{
    StageDefaults, escalation_ladder, has_security_stage, required_stages, stage_rule_matches,
};
pub use submit::SubmitInput;
