//! Statements collected to run in order in one transaction, compiled once per backend (see the
//! crate docs). On SQLite they go to the connection's thread together, as one `;`-separated
//! query, instead of one round trip each (`ONE_TRIP`): each round trip is two thread wake-ups,
//! the larger part of a small write's cost. PostgreSQL runs them one by one.

use crate::error::StoreError;
use crate::rows::{Arg, bind_args};

use super::Connection;

/// Placeholders per combined query, well under SQLite's limit of 32,766.
const MAX_ARGS: usize = 10_000;

/// Combined queries of up to this many statements (an append of a few events) are prepared
/// once and cached; larger ones (bulk appends) are one-offs and would only crowd the cache.
const CACHED_UP_TO: usize = 8;

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
        if !super::ONE_TRIP {
            for (sql, args) in self.statements {
                bound(sql, args, 1).execute(&mut *tx).await?;
            }
            return Ok(());
        }
        let mut sql = String::new();
        let mut args = Vec::new();
        let mut combined = 0;
        for (statement, mut own) in self.statements {
            if !args.is_empty() && args.len() + own.len() > MAX_ARGS {
                let full = bound(
                    std::mem::take(&mut sql),
                    std::mem::take(&mut args),
                    combined,
                );
                full.execute(&mut *tx).await?;
                combined = 0;
            }
            if !sql.is_empty() {
                sql.push_str(";\n");
            }
            sql.push_str(&renumbered(&statement, args.len()));
            args.append(&mut own);
            combined += 1;
        }
        if !sql.is_empty() {
            bound(sql, args, combined).execute(&mut *tx).await?;
        }
        Ok(())
    }
}

/// The query `sql` of `statements` statements, with `args` bound.
fn bound<'q>(
    sql: String,
    args: Vec<Arg>,
    statements: usize,
) -> sqlx::query::Query<'q, super::Db, <super::Db as sqlx::Database>::Arguments> {
    bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql)), args).persistent(statements <= CACHED_UP_TO)
}

/// `sql` with every placeholder `$n` shifted to `$(n + offset)`: SQLite numbers the
/// placeholders of one query across all its statements.
fn renumbered(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::renumbered;

    #[test]
    fn placeholders_shift_past_the_statements_before() {
        assert_eq!(
            renumbered("INSERT INTO t (a, b) VALUES ($1, $12)", 10),
            "INSERT INTO t (a, b) VALUES ($11, $22)"
        );
        assert_eq!(renumbered("SELECT $1, $1", 0), "SELECT $1, $1");
        assert_eq!(renumbered("SELECT '$' || $2", 3), "SELECT '$' || $5");
    }
}
