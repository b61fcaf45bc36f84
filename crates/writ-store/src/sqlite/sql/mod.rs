//! The part of sqlx's query API that the shared queries run on a connection, implemented with
//! rusqlite on the calling thread: the SQLite writer and the store's own read connections.
//!
//! sqlx runs every SQLite statement on the connection's own thread and hands the result back;
//! those two thread wake-ups per statement, not SQLite, were most of a write's cost
//! (docs/performance.md). The shared queries stay written once: they call `super::sql`, which
//! is sqlx itself on PostgreSQL and this module on SQLite. It binds the same `$n` placeholders
//! and reads rows as the same tuples, synchronously: every future it returns is ready.

use std::borrow::Cow;
use std::future::{Ready, ready};

use rusqlite::types::{FromSql, ToSql};
use sqlx::AssertSqlSafe;

use crate::error::StoreError;

mod rows;

pub(crate) use rows::{Row, SqlRow, Tuple};

/// Prepared statements kept per connection (a lifecycle uses a few dozen distinct ones).
pub(in crate::sqlite) const CACHED_STATEMENTS: usize = 256;

/// A SQLite connection the shared queries run on.
pub(in crate::sqlite) struct Conn(rusqlite::Connection);

impl Conn {
    pub(in crate::sqlite) fn new(conn: rusqlite::Connection) -> Self {
        conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
        Self(conn)
    }

    pub(in crate::sqlite) fn raw(&self) -> &rusqlite::Connection {
        &self.0
    }

    pub(in crate::sqlite) fn into_raw(self) -> rusqlite::Connection {
        self.0
    }
}

/// SQL text: a constant, or text built from constants that the caller vouches for.
pub(crate) trait SqlText {
    fn into_text(self) -> Cow<'static, str>;
}

impl SqlText for &'static str {
    fn into_text(self) -> Cow<'static, str> {
        Cow::Borrowed(self)
    }
}

impl SqlText for AssertSqlSafe<String> {
    fn into_text(self) -> Cow<'static, str> {
        Cow::Owned(self.0)
    }
}

impl SqlText for AssertSqlSafe<&str> {
    fn into_text(self) -> Cow<'static, str> {
        Cow::Owned(self.0.to_string())
    }
}

/// A statement and the values bound to its `$1`, `$2`, ….
pub(crate) struct Query<'q> {
    sql: Cow<'static, str>,
    args: Vec<Box<dyn ToSql + Send + 'q>>,
}

/// A statement whose rows are each read as an `O` (a tuple, or the first column's value).
pub(crate) struct QueryAs<'q, O> {
    query: Query<'q>,
    read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<O>,
}

pub(crate) fn query<'q>(sql: impl SqlText) -> Query<'q> {
    Query {
        sql: sql.into_text(),
        args: Vec::new(),
    }
}

pub(crate) fn query_as<'q, O: Tuple>(sql: impl SqlText) -> QueryAs<'q, O> {
    QueryAs {
        query: query(sql),
        read: O::read,
    }
}

pub(crate) fn query_scalar<'q, O: FromSql>(sql: impl SqlText) -> QueryAs<'q, O> {
    QueryAs {
        query: query(sql),
        read: first_column,
    }
}

fn first_column<O: FromSql>(row: &rusqlite::Row<'_>) -> rusqlite::Result<O> {
    row.get(0)
}

/// Where a statement runs: a connection in hand, or one lent by the store's readers.
pub(crate) trait Executor {
    fn run<T>(self, work: impl FnOnce(&Conn) -> Result<T, StoreError>) -> Result<T, StoreError>;
}

impl Executor for &mut Conn {
    fn run<T>(self, work: impl FnOnce(&Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        work(self)
    }
}

impl Executor for &super::readers::Readers {
    fn run<T>(self, work: impl FnOnce(&Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        work(&*self.checkout()?)
    }
}

/// What a statement changed.
#[derive(Debug)]
pub(crate) struct Done {
    rows_affected: u64,
}

impl Done {
    pub(crate) fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

impl<'q> Query<'q> {
    pub(crate) fn bind<T: ToSql + Send + 'q>(mut self, value: T) -> Self {
        self.args.push(Box::new(value));
        self
    }

    /// Runs the statement to its end.
    pub(crate) fn execute(self, conn: impl Executor) -> Ready<Result<Done, StoreError>> {
        ready(conn.run(|conn| {
            self.rows(conn, None, |_| Ok(()))?;
            Ok(Done {
                rows_affected: conn.0.changes(),
            })
        }))
    }

    pub(crate) fn fetch_all(self, conn: impl Executor) -> Ready<Result<Vec<SqlRow>, StoreError>> {
        let mut names = None;
        ready(self.run_on(conn, None, |row| SqlRow::read(row, &mut names)))
    }

    pub(crate) fn fetch_optional(
        self,
        conn: impl Executor,
    ) -> Ready<Result<Option<SqlRow>, StoreError>> {
        ready(
            self.run_on(conn, Some(1), |row| SqlRow::read(row, &mut None))
                .map(first),
        )
    }

    /// [`Query::rows`] where `conn` says.
    fn run_on<T>(
        self,
        conn: impl Executor,
        limit: Option<usize>,
        read: impl FnMut(&rusqlite::Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        conn.run(|conn| self.rows(conn, limit, read))
    }

    /// Binds the arguments, steps through the rows (up to `limit`, then the statement is
    /// reset) and reads each with `read`.
    fn rows<T>(
        self,
        conn: &Conn,
        limit: Option<usize>,
        mut read: impl FnMut(&rusqlite::Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let args: Vec<&dyn ToSql> = self.args.iter().map(|arg| &**arg as &dyn ToSql).collect();
        let mut statement = conn.0.prepare_cached(&self.sql)?;
        rows_of(&mut statement, &self.sql, &args, limit, &mut read)
    }
}

impl<'q, O> QueryAs<'q, O> {
    pub(crate) fn bind<T: ToSql + Send + 'q>(mut self, value: T) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub(crate) fn fetch_all(self, conn: impl Executor) -> Ready<Result<Vec<O>, StoreError>> {
        let read = self.read;
        ready(self.query.run_on(conn, None, |row| Ok(read(row)?)))
    }

    pub(crate) fn fetch_optional(
        self,
        conn: impl Executor,
    ) -> Ready<Result<Option<O>, StoreError>> {
        let read = self.read;
        ready(
            self.query
                .run_on(conn, Some(1), |row| Ok(read(row)?))
                .map(first),
        )
    }

    pub(crate) fn fetch_one(self, conn: impl Executor) -> Ready<Result<O, StoreError>> {
        let (read, sql) = (self.read, self.query.sql.clone());
        let rows = self.query.run_on(conn, Some(1), |row| Ok(read(row)?));
        ready(rows.and_then(|rows| one(rows, &sql)))
    }
}

fn first<T>(rows: Vec<T>) -> Option<T> {
    rows.into_iter().next()
}

fn one<T>(rows: Vec<T>, sql: &str) -> Result<T, StoreError> {
    first(rows).ok_or_else(|| StoreError::Database(format!("no row returned by `{sql}`").into()))
}

/// Binds `args` to `statement`'s parameters and reads its rows (up to `limit`) with `read`.
///
/// The shared SQL numbers its placeholders `$n` (PostgreSQL's style), which SQLite takes as
/// names: each parameter is bound to the argument its number names, as sqlx does, so a
/// placeholder may appear more than once.
fn rows_of<T>(
    statement: &mut rusqlite::Statement<'_>,
    sql: &str,
    args: &[&dyn ToSql],
    limit: Option<usize>,
    read: &mut impl FnMut(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix(['$', '?']))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(index);
        let arg = number
            .checked_sub(1)
            .and_then(|at| args.get(at))
            .ok_or_else(|| {
                StoreError::Database(
                    format!("no value bound to parameter {number} of `{sql}`").into(),
                )
            })?;
        statement.raw_bind_parameter(index, arg)?;
    }
    let mut rows = statement.raw_query();
    let mut found = Vec::new();
    while limit.is_none_or(|limit| found.len() < limit) {
        let Some(row) = rows.next()? else { break };
        found.push(read(row)?);
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
