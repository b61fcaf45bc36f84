//! The declarative catalog file of `writ apply`: YAML read into a generic tree, then walked by
//! hand into typed specs whose every value went through its domain constructor once. Pure: it
//! takes the file's name and text and does no I/O.
//!
//! A bad file gets every problem at once, each naming the file, the path inside it
//! (`entitlements[3].max_ttl`) and what is wrong.
//!
//! Two steps, because a file may lean on the store:
//! - [`parse_catalog`] checks what the file alone decides: syntax, shape, values, secrets
//!   written in plain text, and natural keys declared twice.
//! - [`check_references`] checks that every system, principal and entitlement named is declared
//!   in the file or already stored ([`KnownKeys`]). `parse_catalog` does not run it with empty
//!   keys: principals normally come from the IdP, so a file that names owners it does not
//!   declare is ordinary, and only the caller knows what is stored.
//!
//! [`check_catalog`] runs both and reports all of their problems together, even when some items
//! were refused; it is what `writ apply` calls.

mod config;
mod references;
mod sections;
mod spec;
mod walk;

use std::fmt;

pub use references::{KnownKeys, check_references};
pub use spec::{
    ApprovalStageSpec, ApproverSpec, CatalogFile, EntitlementSpec, IdentitySpec, PrincipalSpec,
    SodRuleSpec, SystemSpec,
};

use serde_norway::Value;

use sections::{Sections, declared_keys, read_sections};
use walk::Report;

/// One problem in a catalog file, displayed as `file: path: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The file's name, as given to the parser.
    pub file: String,
    /// Where in the file, e.g. `entitlements[3].max_ttl`; empty for the file as a whole.
    pub path: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.path, self.message)
        }
    }
}

impl std::error::Error for FileError {}

/// Every problem found in a catalog file; never empty. Displayed one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogFileErrors(Vec<FileError>);

impl CatalogFileErrors {
    /// The problems as an error, or `None` when there are none.
    pub fn new(errors: Vec<FileError>) -> Option<Self> {
        (!errors.is_empty()).then_some(Self(errors))
    }

    /// The problems, in the order they were found.
    pub fn errors(&self) -> &[FileError] {
        &self.0
    }

    /// The problems, owned.
    pub fn into_errors(self) -> Vec<FileError> {
        self.0
    }
}

impl fmt::Display for CatalogFileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CatalogFileErrors {}

/// Parses and validates the catalog `text` of `file`, without resolving references (see
/// [`check_references`]).
pub fn parse_catalog(file: &str, text: &str) -> Result<CatalogFile, CatalogFileErrors> {
    let mut report = Report::new(file);
    let Some(root) = read_yaml(&mut report, text) else {
        return Err(fail(report));
    };
    let sections = read_sections(&mut report, &root);
    references::report_duplicates(&mut report, &sections.view());
    finish(report, sections)
}

/// Parses and validates the catalog `text` of `file` and resolves its references against the
/// file and `known`, reporting every problem of both steps together.
pub fn check_catalog(
    file: &str,
    text: &str,
    known: &KnownKeys,
) -> Result<CatalogFile, CatalogFileErrors> {
    let mut report = Report::new(file);
    let Some(root) = read_yaml(&mut report, text) else {
        return Err(fail(report));
    };
    let sections = read_sections(&mut report, &root);
    let view = sections.view();
    references::report_duplicates(&mut report, &view);
    // Keys of refused items count as known: their own errors are reported already, and
    // calling every reference to them unknown as well would bury those errors.
    let mut known = known.clone();
    known.extend(declared_keys(&root));
    references::report_unknown_references(&mut report, &view, &known);
    finish(report, sections)
}

/// The document as a generic tree, with `<<` merge keys applied; `None` after reporting a
/// syntax error with its position.
fn read_yaml(report: &mut Report, text: &str) -> Option<Value> {
    let parsed = serde_norway::from_str::<Value>(text).and_then(|mut root| {
        root.apply_merge()?;
        Ok(root)
    });
    match parsed {
        Ok(root) => Some(root),
        Err(err) => {
            report.error("", format!("invalid yaml: {err}"));
            None
        }
    }
}

/// The catalog when nothing was reported, else every problem.
fn finish(report: Report, sections: Sections) -> Result<CatalogFile, CatalogFileErrors> {
    let file = report.file().to_owned();
    let errors = report.into_errors();
    match (CatalogFileErrors::new(errors), sections.into_catalog(&file)) {
        (None, Some(catalog)) => Ok(catalog),
        (Some(errors), _) => Err(errors),
        (None, None) => Err(CatalogFileErrors(vec![FileError {
            file,
            path: String::new(),
            // Every refused item reports why; reaching this is a bug, not a user's mistake.
            message: "some items were refused without a reason; please report this".into(),
        }])),
    }
}

/// The errors of a report that has at least one.
fn fail(report: Report) -> CatalogFileErrors {
    CatalogFileErrors(report.into_errors())
}

#[cfg(test)]
mod tests;
