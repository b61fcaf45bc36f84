//! `writ demo` as a child process on a free port, and what it printed.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A running `writ demo`, stopped when dropped.
pub struct Demo {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The one-time login links by role (`requester`, `approver`, …).
    pub links: HashMap<String, String>,
    /// The admin API token.
    pub token: String,
    /// Everything it printed.
    pub banner: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    /// Starts `writ demo --listen 127.0.0.1:0` and reads its banner.
    pub fn start() -> Self {
        Self::start_with(None, "127.0.0.1:0")
    }

    /// Starts `writ demo` on `listen` with the configuration file `config`, if any, and reads
    /// its banner.
    pub fn start_with(config: Option<&std::path::Path>, listen: &str) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_writ"));
        match config {
            Some(path) => command.env("WRIT_CONFIG", path),
            None => command.env_remove("WRIT_CONFIG"),
        };
        let mut child = command
            .args(["demo", "--listen", listen])
            .env_remove("WRIT_LISTEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        loop {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "demo ended early:\n{banner}"
            );
            banner.push_str(&line);
            if line.starts_with("Ctrl-C") {
                break;
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let base = banner
            .lines()
            .find_map(|l| l.trim().strip_prefix("portal"))
            .map(|rest| rest.trim().trim_end_matches("/portal").to_string())
            .unwrap();
        let mut links = HashMap::new();
        for line in banner.lines() {
            if let Some(at) = line.find("http")
                && line.contains("/portal/login/demo?code=")
            {
                let role = line[..at]
                    .split_whitespace()
                    .take_while(|w| !w.contains('@'))
                    .collect::<Vec<_>>()
                    .join(" ");
                links.insert(role, line[at..].trim().to_string());
            }
        }
        let token = banner
            .split("WRIT_TOKEN=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .to_string();
        Demo {
            child,
            addr: base.trim_start_matches("http://").to_string(),
            base,
            links,
            token,
            banner,
        }
    }

    /// A raw HTTP GET: status line, headers and body as text.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> String {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }
}
