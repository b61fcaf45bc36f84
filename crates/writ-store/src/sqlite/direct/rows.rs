//! Rows read through rusqlite as the same tuples the sqlx queries read, so both convert
//! through the shared functions.

use rusqlite::types::FromSql;
use rusqlite::{Connection, Row, ToSql};

use crate::error::StoreError;

/// A tuple of column values, read in order.
pub(super) trait Tuple: Sized {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! tuple {
    ($($t:ident $i:tt),+) => {
        impl<$($t: FromSql),+> Tuple for ($($t,)+) {
            fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $t>($i)?,)+))
            }
        }
    };
}

tuple!(A 0);
tuple!(A 0, B 1, C 2, D 3, E 4);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);

/// Runs `sql` with `args` bound to `$1`, `$2`, … and reads each row with `read`.
pub(super) fn fetch_with<T>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
    mut read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    for (n, arg) in args.iter().enumerate() {
        // The shared SQL numbers its placeholders `$n`, which SQLite takes as names.
        let name = format!("${}", n + 1);
        let index = statement
            .parameter_index(&name)?
            .ok_or_else(|| StoreError::Database(format!("no {name} in `{sql}`").into()))?;
        statement.raw_bind_parameter(index, arg)?;
    }
    let mut rows = statement.raw_query();
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(read(row)?);
    }
    Ok(found)
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
