//! Statements collected to run in order in one transaction, compiled once per backend (see the
//! crate docs).

use crate::error::StoreError;
use crate::rows::{Arg, bind_args};

use super::Connection;

/// SQL statements and the values they bind, each numbering its own placeholders `$1`, `$2`, ….
#[derive(Default)]
pub(super) struct Statements {
    statements: Vec<(String, Vec<Arg>)>,
}

impl Statements {
    /// Adds `sql`, built from constants and numbered placeholders only, binding `args`.
    pub(super) fn push(&mut self, sql: impl Into<String>, args: Vec<Arg>) {
        self.statements.push((sql.into(), args));
    }

    /// Runs the statements in order; the first failure stops them.
    pub(super) async fn run(self, tx: &mut Connection) -> Result<(), StoreError> {
        for (sql, args) in self.statements {
            bind_args!(super::sql::query(sqlx::AssertSqlSafe(sql)), args)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}
