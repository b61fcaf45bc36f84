//! `writ bench http`: the API under `wrk` on loopback. For each store size, a SQLite store is
//! seeded with that many fulfilled requests (and their grants), `writ serve` (this binary, a
//! child process, as in production) serves it, and `wrk` drives four calls with a valid
//! token: GET one request, the first page of requests, a page filtered by identity, and POST
//! a new request (policy decides it and it is stored). It prints requests/s and the p99
//! latency of each; page latency should not grow with the store.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use writ_core::tokens::Tokens;
use writ_core::{Clock, SystemClock};
use writ_domain::audit::Actor;
use writ_domain::{Timestamp, TokenScope};

use super::{Figure, ScratchStore, print_figures};

/// Entitlements every seeded identity holds (`e0`…); POSTs ask for `extra`.
const ENTITLEMENTS: usize = 10;
/// Identity prefix.
const PREFIX: &str = "svc-";

/// Options of `writ bench http`.
#[derive(Debug, clap::Args)]
pub struct HttpBenchArgs {
    /// Stored requests in each run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    sizes: Vec<usize>,
    /// How long `wrk` drives each call.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Open connections.
    #[arg(long, default_value_t = 16)]
    connections: u32,
}

/// Runs the benchmark at every size.
pub async fn run(args: HttpBenchArgs) -> anyhow::Result<()> {
    which_wrk()?;
    let mut figures = Vec::new();
    for &size in &args.sizes {
        figures.extend(at_size(&args, size).await?);
    }
    print_figures(&figures);
    Ok(())
}

fn which_wrk() -> anyhow::Result<()> {
    match Command::new("wrk").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(err) => bail!("`wrk` is needed (apt-get install wrk): {err}"),
    }
}

/// Seeds `size` requests, serves them and measures each call.
async fn at_size(args: &HttpBenchArgs, size: usize) -> anyhow::Result<Vec<Figure>> {
    let identities = size.div_ceil(ENTITLEMENTS);
    let scratch = ScratchStore::sqlite().await?;
    let target = tempfile::tempdir()?;
    let setup = Instant::now();
    let token = seed(&scratch, target.path(), identities).await?;
    println!(
        "{} stored requests ({identities} identities × {ENTITLEMENTS} entitlements), SQLite, set up in {:.1} s",
        identities * ENTITLEMENTS,
        setup.elapsed().as_secs_f64()
    );
    let server = Server::start(&scratch.url).await?;
    let number = format!("REQ-{:06}", 1_000_000 + identities * ENTITLEMENTS / 2);
    let middle = format!("{PREFIX}{:07}", identities / 2);
    let calls = [
        ("get_request", format!("/api/v1/requests/{number}"), None),
        (
            "list_requests",
            "/api/v1/requests?limit=100".to_string(),
            None,
        ),
        (
            "list_requests_of_identity",
            format!("/api/v1/requests?identity={middle}&limit=100"),
            None,
        ),
        (
            "post_request",
            "/api/v1/requests".to_string(),
            Some(post_script(identities)),
        ),
    ];
    let mut figures = Vec::new();
    for (name, path, script) in calls {
        let measured = wrk(args, &server.base, &path, &token, script.as_deref())?;
        println!(
            "  {name:<28} {:>8.0} req/s  p99 {:>7.2} ms",
            measured.rate, measured.p99_ms
        );
        let label = format!("{name}_{}", size_label(size));
        figures.push(Figure {
            name: format!("{label}_rate"),
            value: measured.rate,
            unit: "requests/s",
        });
        figures.push(Figure {
            name: format!("{label}_p99_us"),
            value: measured.p99_ms * 1000.0,
            unit: "µs",
        });
    }
    drop(server);
    scratch.remove().await?;
    Ok(figures)
}

fn size_label(size: usize) -> String {
    match size {
        s if s % 1_000_000 == 0 => format!("{}m", s / 1_000_000),
        s if s % 1_000 == 0 => format!("{}k", s / 1_000),
        s => s.to_string(),
    }
}

/// The catalog, `identities` × `ENTITLEMENTS` fulfilled requests with active grants, and a
/// write token for their owner, who also asks for everything.
async fn seed(scratch: &ScratchStore, target: &Path, identities: usize) -> anyhow::Result<String> {
    let store = &scratch.store;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    writ_core::catalog::apply(
        &**store,
        &*clock,
        Actor::system("bench"),
        "bench.yaml",
        &catalog(target),
        false,
    )
    .await?;
    let catalog = store.catalog().await?;
    let mut entitlements = catalog.entitlements.clone();
    entitlements.retain(|e| e.key.as_str() != "extra");
    let now = Timestamp::now_utc();
    let state = writ_store::seed::GovernedState {
        owner: catalog.principals[0].id,
        system: catalog.systems[0].id,
        identities,
        prefix: PREFIX.into(),
        entitlements: entitlements.iter().map(|e| e.id).collect(),
        granted_at: now,
        expires_at: now.plus(Duration::from_secs(30 * 86_400)),
    };
    let path = match writ_store::DatabaseUrl::parse(&scratch.url)? {
        writ_store::DatabaseUrl::Sqlite(path) => path,
        writ_store::DatabaseUrl::Postgres(_) => bail!("the http bench seeds SQLite only"),
    };
    tokio::task::spawn_blocking(move || {
        writ_store::seed::sqlite_governed_state(&path, &state, |_, _| Some("active"))
    })
    .await??;
    let created = Tokens::new(store.clone(), clock, Default::default())
        .create(
            "alice@bench.example",
            TokenScope::Write,
            Duration::from_secs(86_400),
            Actor::system("bench"),
        )
        .await?;
    Ok(created.secret)
}

/// One owner, a development `local` system, entitlements `e0`… and `extra`.
fn catalog(target: &Path) -> String {
    let mut yaml = format!(
        "principals:\n\
         \x20 - {{external_id: alice, email: alice@bench.example, name: Alice, groups: [team]}}\n\
         systems:\n\
         \x20 - {{name: target, connector: local, owner: alice@bench.example, environment: development, \
         criticality: low, config: {{path: \"{}\", fsync: false}}}}\n\
         entitlements:\n",
        target.display()
    );
    let keys = (0..ENTITLEMENTS)
        .map(|e| format!("e{e}"))
        .chain(["extra".to_string()]);
    for key in keys {
        yaml.push_str(&format!(
            "  - {{system: target, key: {key}, name: Entitlement {key}, risk: low, default_ttl: 1d, \
             max_ttl: 7d, owner: alice@bench.example}}\n"
        ));
    }
    yaml
}

/// A wrk script that POSTs a request for `extra` for a different identity each time.
fn post_script(identities: usize) -> String {
    format!(
        r#"local n = 0
-- Headers given to wrk.format replace those of `-H` (the token): add to them instead.
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format('{{"identity":"{PREFIX}%07d","entitlement":"target/extra","justification":"benchmark","ttl":"1d"}}', n % {identities})
  return wrk.format("POST", nil, nil, body)
end
local told = false
response = function(status, headers, body)
  if status >= 300 and not told then
    told = true
    print("first error: " .. status .. " " .. body)
  end
end
"#
    )
}

/// `writ serve` on a free port, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(url: &str) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(std::env::current_exe()?)
            .args(["--database", url, "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env_remove("WRIT_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting writ serve")?;
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..600 {
            if ready(port) {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("writ serve did not become ready on port {port}")
    }
}

/// Whether `/readyz` on the port answers 200, asked in plain HTTP/1.0.
fn ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let mut answer = String::new();
    let asked = stream
        .write_all(b"GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .and_then(|()| stream.read_to_string(&mut answer));
    asked.is_ok() && (answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What wrk measured of one call.
struct Measured {
    rate: f64,
    p99_ms: f64,
}

/// Runs wrk against `base` + `path` with the token, and reads its report. Any non-2xx answer
/// fails the benchmark: a fast error is not a result.
fn wrk(
    args: &HttpBenchArgs,
    base: &str,
    path: &str,
    token: &str,
    script: Option<&str>,
) -> anyhow::Result<Measured> {
    let dir = tempfile::tempdir()?;
    let mut command = Command::new("wrk");
    command
        .args(["-t2", "--latency"])
        .arg(format!("-c{}", args.connections))
        .arg(format!("-d{}s", args.seconds))
        .arg("-H")
        .arg(format!("Authorization: Bearer {token}"));
    if let Some(script) = script {
        let file = dir.path().join("call.lua");
        std::fs::write(&file, script)?;
        command.arg("-s").arg(&file);
    }
    let output = command.arg(format!("{base}{path}")).output()?;
    let report = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed on {path}: {report}");
    }
    if let Some(line) = report.lines().find(|l| l.contains("Non-2xx")) {
        let first = report
            .lines()
            .find(|l| l.starts_with("first error:"))
            .unwrap_or_default();
        bail!(
            "{path} answered errors under load: {}; {first}",
            line.trim()
        );
    }
    let rate = report
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no rate in wrk's report: {report}"))?;
    let p99 = report
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("99%"))
        .map(str::trim)
        .and_then(millis)
        .with_context(|| format!("no p99 in wrk's report: {report}"))?;
    Ok(Measured { rate, p99_ms: p99 })
}

/// wrk's durations (`812.00us`, `3.21ms`, `1.02s`) in milliseconds.
fn millis(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

#[cfg(test)]
mod tests {
    use super::millis;

    #[test]
    fn wrk_durations_read_as_milliseconds() {
        assert_eq!(millis("812.00us"), Some(0.812));
        assert_eq!(millis("3.25ms"), Some(3.25));
        assert_eq!(millis("1.50s"), Some(1500.0));
        assert_eq!(millis("2.00m"), Some(120_000.0));
        assert_eq!(millis("fast"), None);
    }
}
