//! Rows as the shared queries read them: whole rows addressed by column name or position
//! (sqlx's `Row`), and tuples read column by column.

use std::sync::Arc;

use rusqlite::types::{FromSql, Value, ValueRef};

use crate::error::StoreError;

/// A row read whole, its columns addressed by position or name (sqlx's `Row`).
pub(crate) struct SqlRow {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl SqlRow {
    /// Reads `row`, sharing the column names read for the statement's first row.
    pub(super) fn read(
        row: &rusqlite::Row<'_>,
        names: &mut Option<Arc<[String]>>,
    ) -> Result<Self, StoreError> {
        let statement = row.as_ref();
        let count = statement.column_count();
        let names = Arc::clone(names.get_or_insert_with(|| {
            statement
                .column_names()
                .into_iter()
                .map(str::to_string)
                .collect()
        }));
        let values = (0..count)
            .map(|i| row.get::<_, Value>(i))
            .collect::<rusqlite::Result<_>>()?;
        Ok(Self { names, values })
    }
}

/// A column's position or name.
pub(crate) trait ColumnIndex {
    fn position(&self, names: &[String]) -> Option<usize>;
}

impl ColumnIndex for usize {
    fn position(&self, names: &[String]) -> Option<usize> {
        (*self < names.len()).then_some(*self)
    }
}

impl ColumnIndex for &str {
    fn position(&self, names: &[String]) -> Option<usize> {
        names.iter().position(|name| name == self)
    }
}

/// Reads a column of a [`SqlRow`], as `sqlx::Row` does.
pub(crate) trait Row {
    fn try_get<T: FromSql, I: ColumnIndex + std::fmt::Debug>(
        &self,
        index: I,
    ) -> Result<T, StoreError>;
}

impl Row for SqlRow {
    fn try_get<T: FromSql, I: ColumnIndex + std::fmt::Debug>(
        &self,
        index: I,
    ) -> Result<T, StoreError> {
        let value = index
            .position(&self.names)
            .and_then(|at| self.values.get(at))
            .ok_or_else(|| StoreError::Database(format!("no column {index:?}").into()))?;
        T::column_result(ValueRef::from(value))
            .map_err(|err| StoreError::corrupt(format!("column {index:?}"), err))
    }
}

/// A tuple of column values, read in order.
pub(crate) trait Tuple: Sized {
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! tuple {
    ($($t:ident $i:tt),+) => {
        impl<$($t: FromSql),+> Tuple for ($($t,)+) {
            fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $t>($i)?,)+))
            }
        }
    };
}

tuple!(A 0);
tuple!(A 0, B 1);
tuple!(A 0, B 1, C 2);
tuple!(A 0, B 1, C 2, D 3);
tuple!(A 0, B 1, C 2, D 3, E 4);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);
