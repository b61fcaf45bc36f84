//! `writ serve` on a real socket: migrates a fresh store, answers health and readiness.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serves_health_and_readiness_on_a_fresh_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("writ.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_writ"))
        .args([
            "--database",
            &format!("sqlite://{}", db.display()),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let addr = first_line
        .trim()
        .rsplit("http://")
        .next()
        .unwrap_or_else(|| panic!("no address in {first_line:?}"))
        .to_string();

    let health = http_get(&addr, "/healthz");
    let ready = http_get(&addr, "/readyz");
    let version = http_get(&addr, "/version");
    child.kill().unwrap();
    child.wait().unwrap();

    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        ready.starts_with("HTTP/1.1 200") && ready.contains("ready"),
        "{ready}"
    );
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    assert!(db.exists(), "serve created and migrated the store");
}
