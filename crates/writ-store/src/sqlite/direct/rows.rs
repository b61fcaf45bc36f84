//! Rows read through rusqlite as the same tuples the sqlx queries read, so both convert
//! through the shared functions.

use rusqlite::{Connection, Row, ToSql};

use crate::error::StoreError;

pub(super) use super::super::sql::Tuple;

/// Runs `sql` with `args` bound to `$1`, `$2`, … and reads each row with `read`.
pub(super) fn fetch_with<T>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
    mut read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    super::super::sql::rows_of(&mut statement, sql, args, None, &mut read)
}

/// Runs `sql` with `args` bound to `$1`, `$2`, … and reads every row as a tuple.
pub(super) fn fetch<R: Tuple>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
) -> Result<Vec<R>, StoreError> {
    fetch_with(conn, sql, args, |row| Ok(R::read(row)?))
}

/// The first row, if any.
pub(super) fn fetch_optional<R: Tuple>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
) -> Result<Option<R>, StoreError> {
    Ok(fetch(conn, sql, args)?.into_iter().next())
}
