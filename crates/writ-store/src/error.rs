//! The store's errors. Messages name what was wrong and never carry a password.

use writ_domain::JobId;

/// Everything that can go wrong opening or using a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL could not be understood.
    #[error("invalid database URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, with any password removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file exists but is not a SQLite database.
    #[error("`{path}` is not a SQLite database")]
    NotADatabase {
        /// The file.
        path: String,
    },
    /// The SQLite file could not be created or opened.
    #[error("cannot open SQLite database `{path}`: {reason}")]
    CannotOpen {
        /// The file.
        path: String,
        /// Why, in plain words.
        reason: String,
    },
    /// The PostgreSQL server could not be reached or refused the connection.
    #[error("cannot connect to PostgreSQL at `{target}`: {reason}")]
    Unreachable {
        /// `host:port/database`.
        target: String,
        /// Why, as the server or the network said it.
        reason: String,
    },
    /// The database was migrated by a newer writ; this binary must not touch it.
    #[error(
        "database schema version {found} is newer than this writ knows (up to {supported}); \
         upgrade writ before using this database"
    )]
    SchemaTooNew {
        /// The newest migration applied to the database.
        found: i64,
        /// The newest migration this binary knows.
        supported: i64,
    },
    /// The database has not been migrated to this binary's schema.
    #[error(
        "database schema version {found} lacks migration {required}, which this writ needs; run `writ migrate`"
    )]
    SchemaBehind {
        /// The newest migration applied (0 when none).
        found: i64,
        /// The first migration this binary needs that the database has not had.
        required: i64,
    },
    /// A thing that was asked for does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// A thing with the same unique key already exists.
    #[error("{what} already exists")]
    Conflict {
        /// What clashed.
        what: String,
    },
    /// A service-desk ticket already made a request: a delivery of it never makes another.
    #[error("ticket `{key}` of `{desk}` already made a request")]
    TicketTaken {
        /// The desk.
        desk: String,
        /// The ticket's key.
        key: String,
    },
    /// The worker's lease on a job expired and the job was claimed again or finished.
    #[error("lease on job {job} is no longer held")]
    LeaseLost {
        /// The job.
        job: JobId,
    },
    /// A stored row could not be read back into the domain.
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// Which row or column.
        what: String,
        /// What did not parse.
        reason: String,
    },
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Database(Box::new(err))
    }
}

impl StoreError {
    pub(crate) fn corrupt(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}
