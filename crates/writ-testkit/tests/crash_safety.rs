//! A writer killed with SIGKILL at a random moment loses nothing it reported as committed and
//! leaves an intact audit chain, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use writ_store::OpenMode;
use writ_testkit::TestDb;

const ROUNDS: u64 = 5;

/// One committed event as the child reported it: `(seq, round, n)`.
type Reported = (u64, u64, u64);

fn parse(line: &str) -> Reported {
    let mut parts = line
        .split_whitespace()
        .skip(1)
        .map(|p| p.parse::<u64>().unwrap());
    (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    )
}

/// Starts the appender, kills it at a random moment after its first commit, and returns every
/// commit it reported.
fn run_and_kill(url: &str, round: u64) -> Vec<Reported> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_audit-appender"))
        .args([url, &round.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(parse(&line)).is_err() {
                break;
            }
        }
    });
    let first = lines_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the appender committed nothing within 60 s");
    // The point of the test: a kill at an unpredictable moment, mid-transaction or not.
    std::thread::sleep(Duration::from_micros(fastrand::u64(0..300_000)));
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    std::iter::once(first).chain(lines_rx.try_iter()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_writers_lose_no_committed_event() {
    for db in TestDb::each().await {
        let url = db.url().to_string();
        let mut reported = Vec::new();
        for round in 0..ROUNDS {
            let url = url.clone();
            reported.extend(
                tokio::task::spawn_blocking(move || run_and_kill(&url, round))
                    .await
                    .unwrap(),
            );
        }

        let (store, _) = writ_store::open(&url, OpenMode::Existing).await.unwrap();
        let chain = writ_core::audit::verify_chain(&store).await.unwrap();
        let events = store.audit_page(0, u32::MAX).await.unwrap();
        assert_eq!(chain.events, events.len() as u64);
        assert!(
            reported.len() as u64 >= ROUNDS,
            "each round committed at least once"
        );
        for (seq, round, n) in reported {
            let event = events
                .get(seq as usize - 1)
                .unwrap_or_else(|| panic!("{}: reported event {seq} is gone", db.backend()));
            assert_eq!(event.seq, seq);
            let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
            assert_eq!(
                data,
                serde_json::json!({ "round": round, "n": n }),
                "{}: event {seq} is not what was committed",
                db.backend()
            );
        }
    }
}
