//! Appends audit events forever, one per transaction, printing `committed <seq> <round> <n>`
//! after each commit returns. The crash-safety test kills it with SIGKILL at a random moment
//! and checks that every event it reported is in an intact chain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use writ_domain::Timestamp;
use writ_domain::audit::{Actor, NewAuditEvent};
use writ_store::OpenMode;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .expect("usage: audit-appender DATABASE_URL ROUND");
    let round: u64 = args
        .next()
        .expect("usage: audit-appender DATABASE_URL ROUND")
        .parse()
        .unwrap();
    let (store, _) = writ_store::open(&url, OpenMode::Migrate).await.unwrap();
    let mut stdout = std::io::stdout().lock();
    for n in 1.. {
        let event = NewAuditEvent::new(
            Timestamp::now_utc(),
            Actor::system("crash-test"),
            "test.appended",
        )
        .data(serde_json::json!({ "round": round, "n": n }));
        let sealed = store.append_audit(vec![event]).await.unwrap();
        writeln!(stdout, "committed {} {round} {n}", sealed[0].seq).unwrap();
        stdout.flush().unwrap();
    }
}
