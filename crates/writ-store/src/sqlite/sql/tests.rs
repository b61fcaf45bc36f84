#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{Conn, Row as _, query, query_as, query_scalar};
use crate::error::StoreError;

fn conn() -> Conn {
    let conn = Conn::new(rusqlite::Connection::open_in_memory().unwrap());
    conn.raw()
        .execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, tag BLOB)")
        .unwrap();
    conn
}

#[tokio::test]
async fn placeholders_bind_the_value_their_number_names_however_often_and_in_whatever_order() {
    let mut conn = conn();
    let inserted = query("INSERT INTO t (name, id) VALUES ($2 || '-' || $2, $1)")
        .bind(7_i64)
        .bind("seven")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(inserted.rows_affected(), 1);
    let row: (i64, String) = query_as("SELECT id, name FROM t WHERE id = $1")
        .bind(7_i64)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(row, (7, "seven-seven".to_string()));
}

#[tokio::test]
async fn a_placeholder_without_a_value_is_an_error_naming_it() {
    let mut conn = conn();
    let err = query("INSERT INTO t (id, name) VALUES ($1, $2)")
        .bind(1_i64)
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("parameter 2"), "{err}");
    let count: i64 = query_scalar("SELECT COUNT(*) FROM t")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn rows_are_read_by_column_name_or_position_and_a_missing_column_is_an_error() {
    let mut conn = conn();
    for (id, name) in [(1_i64, "a"), (2, "b")] {
        query("INSERT INTO t (id, name, tag) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(Some(vec![id as u8]))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let rows = query("SELECT id, name, tag FROM t ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].try_get::<String, _>("name").unwrap(), "b");
    assert_eq!(rows[1].try_get::<i64, _>(0_usize).unwrap(), 2);
    assert_eq!(rows[0].try_get::<Vec<u8>, _>("tag").unwrap(), [1]);
    assert!(rows[0].try_get::<String, _>("missing").is_err());
    // A value of the wrong type is reported as corrupt, not converted.
    assert!(matches!(
        rows[0].try_get::<i64, _>("name"),
        Err(StoreError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn fetch_one_of_no_row_is_an_error_and_fetch_optional_is_none() {
    let mut conn = conn();
    let none: Option<(i64,)> = query_as("SELECT id FROM t WHERE id = $1")
        .bind(9_i64)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
    assert!(none.is_none());
    let err = query_scalar::<i64>("SELECT id FROM t WHERE id = $1")
        .bind(9_i64)
        .fetch_one(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no row"), "{err}");
}

#[tokio::test]
async fn an_update_returning_rows_runs_to_its_end_and_counts_what_it_changed() {
    let mut conn = conn();
    for id in 1..=3_i64 {
        query("INSERT INTO t (id, name) VALUES ($1, 'x')")
            .bind(id)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let done = query("UPDATE t SET name = 'y' RETURNING id")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 3);
    let left: i64 = query_scalar("SELECT COUNT(*) FROM t WHERE name = 'x'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
