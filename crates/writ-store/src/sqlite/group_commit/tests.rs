#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions as _, SqliteConnection};

use super::GroupCommit;
use crate::sqlite::{open_writer, sql};

/// A database file in the temporary directory, removed (with its WAL) on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!("writ-group-commit-{}.db", uuid::Uuid::now_v7())))
    }

    fn options(&self, busy: Duration) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(&self.0)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(busy)
    }

    async fn connect(&self, busy: Duration) -> SqliteConnection {
        self.options(busy).connect().await.unwrap()
    }

    /// A group writer over a fresh schema.
    async fn writer(&self) -> GroupCommit {
        let mut conn = self.connect(Duration::from_secs(5)).await;
        sqlx::raw_sql(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY); \
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent(id)); \
             CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE);",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        GroupCommit::new(open_writer(&self.0).unwrap(), Duration::from_secs(5))
    }

    /// The values in `t`, read on a connection of its own (as another process would).
    async fn values(&self) -> Vec<String> {
        let mut conn = self.connect(Duration::from_secs(5)).await;
        sqlx::query_scalar("SELECT v FROM t ORDER BY v")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn insert(writer: &GroupCommit, v: &str) -> crate::StoreResult<()> {
    let mut tx = writer.begin().await?;
    sql::query("INSERT INTO t (v) VALUES ($1)")
        .bind(v)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_are_all_durable_when_they_return() {
    let db = Scratch::new();
    let writer = std::sync::Arc::new(db.writer().await);
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let writer = writer.clone();
            tokio::spawn(async move { insert(&writer, &format!("v{i:02}")).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let expected: Vec<String> = (0..64).map(|i| format!("v{i:02}")).collect();
    assert_eq!(db.values().await, expected);
}

/// Lets the spawned writers run until they wait for the connection the caller holds, so they
/// queue ahead of the flush its commit schedules and share its batch. On a current-thread
/// runtime the order is certain.
async fn let_others_queue() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_write_leaves_the_rest_of_its_batch_alone_and_later_writes_wait_for_its_commit() {
    let db = std::sync::Arc::new(Scratch::new());
    let writer = std::sync::Arc::new(db.writer().await);
    let mut first = writer.begin().await.unwrap();
    let failing = tokio::spawn({
        let writer = writer.clone();
        async move {
            let mut tx = writer.begin().await?;
            sql::query("INSERT INTO t (v) VALUES ('b-partial')")
                .execute(&mut *tx)
                .await?;
            // Clashes with the first write's value: this logical write fails half-way.
            sql::query("INSERT INTO t (v) VALUES ('a')")
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
    });
    let last = tokio::spawn({
        let (writer, db) = (writer.clone(), db.clone());
        async move {
            let mut tx = writer.begin().await?;
            // Queued behind the failure, it did not join the batch the failure closed: it
            // started once that batch was committed, so it (and a retry) reads what is in it.
            let seen = db.values().await;
            sql::query("INSERT INTO t (v) VALUES ('c')")
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map(|()| seen)
        }
    });
    let_others_queue().await;
    sql::query("INSERT INTO t (v) VALUES ('a')")
        .execute(&mut *first)
        .await
        .unwrap();
    first.commit().await.unwrap();
    assert!(failing.await.unwrap().is_err());
    assert_eq!(last.await.unwrap().unwrap(), ["a"]);
    assert_eq!(db.values().await, ["a", "c"]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_failed_commit_fails_every_write_of_its_batch_and_keeps_none() {
    let db = Scratch::new();
    let writer = std::sync::Arc::new(db.writer().await);
    let mut first = writer.begin().await.unwrap();
    let breaking = tokio::spawn({
        let writer = writer.clone();
        async move {
            let mut tx = writer.begin().await?;
            // A foreign key checked only at the outer COMMIT: the savepoint releases fine and
            // the whole batch's commit fails.
            sql::query("PRAGMA defer_foreign_keys = ON")
                .execute(&mut *tx)
                .await?;
            sql::query("INSERT INTO child (id, parent) VALUES (1, 42)")
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
    });
    let last = tokio::spawn({
        let writer = writer.clone();
        async move { insert(&writer, "c").await }
    });
    let_others_queue().await;
    sql::query("INSERT INTO t (v) VALUES ('a')")
        .execute(&mut *first)
        .await
        .unwrap();
    let err = first.commit().await.unwrap_err();
    assert!(err.to_string().contains("not committed"), "{err}");
    assert!(breaking.await.unwrap().is_err());
    assert!(last.await.unwrap().is_err());
    assert!(db.values().await.is_empty());
    // The writer carries on with the next batch.
    insert(&writer, "d").await.unwrap();
    assert_eq!(db.values().await, ["d"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_writer_holds_no_lock_so_another_connection_can_write() {
    let db = Scratch::new();
    let writer = db.writer().await;
    insert(&writer, "a").await.unwrap();

    // Right after a commit returns, the write lock is free: no waiting allowed.
    let mut other = db.connect(Duration::ZERO).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::query("INSERT INTO t (v) VALUES ('other')")
        .execute(&mut other)
        .await
        .unwrap();
    // Meanwhile the group writer waits for the lock (busy timeout) rather than failing.
    let waiting = insert(&writer, "b");
    let commit_other = async {
        sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    };
    let (written, ()) = tokio::join!(waiting, commit_other);
    written.unwrap();

    // A write dropped without commit leaves no lock behind either (its rollback is queued).
    {
        let mut tx = writer.begin().await.unwrap();
        sql::query("INSERT INTO t (v) VALUES ('dropped')")
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let mut patient = db.connect(Duration::from_secs(5)).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut patient)
        .await
        .unwrap();
    sqlx::query("COMMIT").execute(&mut patient).await.unwrap();
    assert_eq!(db.values().await, ["a", "b", "other"]);
}
