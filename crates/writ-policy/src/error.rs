//! The errors of loading a policy set. Decisions never fail: a request that cannot be
//! evaluated is refused, with the cause as its reason.

use std::fmt;
use std::path::PathBuf;

/// Why a policy set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The operator's policy directory could not be listed.
    #[error("cannot read policy directory `{path}`")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An operator's policy file could not be read.
    #[error("cannot read policy file `{path}`")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The policy set (or the shipped schema) is invalid; every problem found is listed.
    #[error("invalid policy set:\n{}", Problems(.0))]
    Invalid(Vec<Problem>),
}

impl PolicyError {
    /// The problems of an invalid set; empty for the other errors.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid(problems) => problems,
            Self::ReadDir { .. } | Self::ReadFile { .. } => &[],
        }
    }
}

/// One thing wrong with a policy set, at a position in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file: an operator file's path, or `shipped/<name>` for writ's own.
    pub file: String,
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Displays problems one per line, indented.
struct Problems<'a>(&'a [Problem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "  {problem}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_set_lists_every_problem_with_its_position() {
        let err = PolicyError::Invalid(vec![
            Problem {
                file: "a.cedar".into(),
                line: 3,
                column: 7,
                message: "unexpected token `}`".into(),
            },
            Problem {
                file: "b.cedar".into(),
                line: 1,
                column: 1,
                message: "policy has no `@id`".into(),
            },
        ]);
        assert_eq!(
            err.to_string(),
            "invalid policy set:\n  a.cedar:3:7: unexpected token `}`\n  b.cedar:1:1: policy has no `@id`"
        );
        assert_eq!(err.problems().len(), 2);
    }
}
