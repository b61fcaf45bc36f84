//! Where policy text comes from: the schema and policies shipped inside writ, and the
//! operator's `*.cedar` files.

use std::path::Path;

use crate::error::PolicyError;

/// writ's Cedar schema.
pub const SCHEMA: &str = include_str!("../policies/schema.cedarschema");

/// The file name shown for the schema in errors.
pub(crate) const SCHEMA_FILE: &str = "shipped/schema.cedarschema";

/// The shipped policy files: (file name, text), in load order.
const SHIPPED: [(&str, &str); 7] = [
    (
        "requester.cedar",
        include_str!("../policies/default/requester.cedar"),
    ),
    (
        "access.cedar",
        include_str!("../policies/default/access.cedar"),
    ),
    ("sod.cedar", include_str!("../policies/default/sod.cedar")),
    (
        "break_glass.cedar",
        include_str!("../policies/default/break_glass.cedar"),
    ),
    (
        "exception.cedar",
        include_str!("../policies/default/exception.cedar"),
    ),
    (
        "identity.cedar",
        include_str!("../policies/default/identity.cedar"),
    ),
    (
        "approve.cedar",
        include_str!("../policies/default/approve.cedar"),
    ),
];

/// One file of Cedar policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    /// The name shown in errors: the file's path for an operator file, `shipped/<file>` for
    /// writ's own.
    pub name: String,
    /// The policies.
    pub text: String,
}

impl PolicySource {
    /// A source named `name` holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// The policies shipped with writ.
pub fn shipped_sources() -> Vec<PolicySource> {
    SHIPPED
        .iter()
        .map(|(file, text)| PolicySource::new(format!("shipped/{file}"), *text))
        .collect()
}

/// The `*.cedar` files directly inside `dir`, sorted by file name; other files and
/// subdirectories are ignored.
pub fn read_policy_dir(dir: &Path) -> Result<Vec<PolicySource>, PolicyError> {
    let read_dir = |source| PolicyError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir)? {
        let path = entry.map_err(read_dir)?.path();
        if path.extension().is_some_and(|ext| ext == "cedar") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| match std::fs::read_to_string(&path) {
            Ok(text) => Ok(PolicySource::new(path.display().to_string(), text)),
            Err(source) => Err(PolicyError::ReadFile { path, source }),
        })
        .collect()
}
