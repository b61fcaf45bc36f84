//! The portal in headless Chromium (Debian's `chromium` and `chromedriver`, driven by
//! fantoccini) against `writ demo`: a requester signs in through a real OpenID Connect
//! provider (`oidc-provider-mock`), finds an entitlement in the catalog, checks policy's
//! verdict and submits; the identity's owner and then security approve from their
//! inboxes; the job runner grants and reads it back; the grant shows `active`. Screenshots of
//! the main pages land in `target/screenshots/`.
//!
//! Skipped, with the reason printed, when `chromedriver` is absent and `WRIT_TEST_BROWSER` is
//! unset; with `WRIT_TEST_BROWSER=1` (CI) a missing browser fails the test. Without the OIDC
//! provider (and `WRIT_TEST_OIDC` unset) the requester signs in with a one-time link instead.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod demo_process;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use demo_process::Demo;
use fantoccini::{Client, ClientBuilder, Locator};

/// A child process (chromedriver, the OIDC provider), stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` (told its port by `port_args`) on a free port and waits until it accepts
/// connections; `None`, with `skipped` printed, when it is not installed and the variable
/// `required_by` is unset.
async fn spawn_on_port(
    mut command: Command,
    port_args: impl Fn(u16) -> Vec<String>,
    required_by: &str,
    skipped: &str,
) -> Option<Driver> {
    let port = free_port();
    let program = command.get_program().to_string_lossy().into_owned();
    let spawned = command
        .args(port_args(port))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(err) => {
            assert!(
                std::env::var_os(required_by).is_none(),
                "{required_by} is set but `{program}` cannot start: {err}"
            );
            eprintln!("{skipped}: `{program}` is not installed: {err}");
            return None;
        }
    };
    let started = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    // A Python process takes a few seconds to start on a loaded machine.
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(started);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("`{program}` did not start on port {port}");
}

/// Starts chromedriver, or says why it cannot.
async fn driver() -> Option<Driver> {
    spawn_on_port(
        Command::new("chromedriver"),
        |port| vec![format!("--port={port}")],
        "WRIT_TEST_BROWSER",
        "skipped (apt-get install chromium chromium-driver)",
    )
    .await
}

async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"],
        }),
    );
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap()
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shoot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// The element `css` names, waited for: a click that submits a form returns before the next
/// page has loaded, so nothing is looked up without waiting for it.
async fn element(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|err| panic!("{css} never appeared: {err}"))
}

async fn text(client: &Client, css: &str) -> String {
    element(client, css).await.text().await.unwrap()
}

async fn click(client: &Client, css: &str) {
    element(client, css).await.click().await.unwrap();
}

async fn type_into(client: &Client, css: &str, keys: &str) {
    element(client, css).await.send_keys(keys).await.unwrap();
}

/// Waits until the page's address contains `needle`: for a click that reloads a page whose
/// elements are the same before and after.
async fn wait_for_url(client: &Client, needle: &str) {
    for _ in 0..300 {
        if client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains(needle)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the address never came to contain {needle}");
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `oidc-provider-mock` knowing the demo's requester (by the external id the example
/// catalog gives him), or says why it cannot.
async fn oidc_provider() -> Option<Driver> {
    let mut command = Command::new("oidc-provider-mock");
    command.args([
        "--user-claims",
        r#"{"sub": "00u1a2b3c4ravi", "email": "ravi.shah@acmepay.example"}"#,
    ]);
    spawn_on_port(
        command,
        |port| vec!["--port".into(), port.to_string()],
        "WRIT_TEST_OIDC",
        "the requester signs in with a one-time link instead",
    )
    .await
}

/// `writ demo` with the portal's `[oidc]` pointing at `provider`, or plain without one.
fn demo(provider: Option<&Driver>, dir: &std::path::Path) -> Demo {
    let Some(provider) = provider else {
        return Demo::start();
    };
    let port = free_port();
    let secret = dir.join("oidc-client-secret");
    std::fs::write(&secret, "browser-test").unwrap();
    let config = dir.join("writ.toml");
    std::fs::write(
        &config,
        format!(
            "[oidc]\nissuer = '{}'\nclient_id = 'writ-portal'\nclient_secret_file = '{}'\n\
             redirect_url = 'http://127.0.0.1:{port}/portal/login/callback'\n",
            provider.url,
            secret.display()
        ),
    )
    .unwrap();
    Demo::start_with(Some(&config), &format!("127.0.0.1:{port}"))
}

/// Signs in through the identity provider as its user `sub`.
async fn sign_in_with_oidc(client: &Client, demo: &Demo, sub: &str) {
    client
        .goto(&format!("{}/portal/login", demo.base))
        .await
        .unwrap();
    shoot(client, "login").await;
    click(client, "a[href='/portal/login/oidc']").await;
    type_into(client, "input[name=sub]", sub).await;
    shoot(client, "login-provider").await;
    click(client, "form button[type=submit]").await;
    element(client, "form.who button").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/portal")
    );
}

/// Signs out whoever is signed in, then in as the holder of `link`.
async fn sign_in(client: &Client, link: &str) {
    if client.find(Locator::Css("form.who button")).await.is_ok() {
        click(client, "form.who button").await;
        client
            .wait()
            .for_element(Locator::Css("main.narrow"))
            .await
            .unwrap();
    }
    client.goto(link).await.unwrap();
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/portal")
    );
}

/// The owner's or security's approval of `request` from the inbox.
async fn approve(client: &Client, demo: &Demo, request: &str, screenshot: Option<&str>) {
    client
        .goto(&format!("{}/portal/approvals", demo.base))
        .await
        .unwrap();
    if let Some(name) = screenshot {
        shoot(client, name).await;
    }
    click(client, &format!("a[href='/portal/requests/{request}']")).await;
    type_into(client, "#reason", "reviewed: reads reports only").await;
    if let Some(name) = screenshot {
        shoot(client, &format!("{name}-decision")).await;
    }
    click(client, "button[value=approve]").await;
    let notice = text(client, ".notice").await;
    assert!(notice.contains("approved"), "{notice}");
}

#[tokio::test]
async fn a_request_is_submitted_approved_and_shown_active_in_the_browser() {
    let Some(driver) = driver().await else { return };
    let provider = oidc_provider().await;
    let dir = tempfile::tempdir().unwrap();
    let demo = demo(provider.as_ref(), dir.path());
    let client = browser(&driver).await;

    // The requester signs in through the identity provider, then: dashboard, catalog, the
    // form with policy's verdict, submit.
    if provider.is_some() {
        sign_in_with_oidc(&client, &demo, "00u1a2b3c4ravi").await;
    } else {
        sign_in(&client, &demo.links["requester"]).await;
    }
    assert!(text(&client, "form.who").await.contains("Ravi"));
    shoot(&client, "dashboard").await;
    client
        .goto(&format!("{}/portal/catalog", demo.base))
        .await
        .unwrap();
    type_into(&client, "#q", "artifacts").await;
    click(&client, "form.search button").await;
    wait_for_url(&client, "q=artifacts").await;
    shoot(&client, "catalog").await;
    click(
        &client,
        "a[href$='entitlement=ci-pipelines/artifacts-read']",
    )
    .await;
    element(&client, "#identity")
        .await
        .select_by_value("card-vault")
        .await
        .unwrap();
    type_into(&client, "#ttl", "7d").await;
    type_into(
        &client,
        "#justification",
        "card-vault attaches build reports to its PCI evidence",
    )
    .await;
    click(&client, "button.secondary").await;
    let verdict = text(&client, ".verdict").await;
    assert!(verdict.contains("Policy: allowed"), "{verdict}");
    assert!(verdict.contains("identity's owner"), "{verdict}");
    shoot(&client, "request-form-verdict").await;
    click(&client, "button[formaction='/portal/requests']").await;
    element(&client, "#status").await;
    let path = client.current_url().await.unwrap().path().to_string();
    let request = path.trim_start_matches("/portal/requests/").to_string();
    assert!(request.starts_with("REQ-"), "{path}");
    assert_eq!(text(&client, "#status").await, "pending_approval");
    shoot(&client, "request-pending").await;

    // The identity's owner, then security.
    sign_in(&client, &demo.links["approver"]).await;
    approve(&client, &demo, &request, Some("approvals")).await;
    sign_in(&client, &demo.links["security approver"]).await;
    approve(&client, &demo, &request, None).await;

    // The runner executes and reads it back; the page shows it fulfilled.
    let page = format!("{}/portal/requests/{request}", demo.base);
    let mut status = String::new();
    for _ in 0..100 {
        client.goto(&page).await.unwrap();
        status = text(&client, "#status").await;
        if status == "fulfilled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, "fulfilled");
    shoot(&client, "request-fulfilled").await;
    client
        .goto(&format!("{}/portal/grants", demo.base))
        .await
        .unwrap();
    let source = client.source().await.unwrap();
    let row = source
        .split("<tr>")
        .find(|row| row.contains("card-vault") && row.contains("ci-pipelines/artifacts-read"))
        .expect("the new grant is listed");
    assert!(row.contains(">active<"), "{row}");
    shoot(&client, "grants").await;
    client
        .goto(&format!("{}/portal/identities", demo.base))
        .await
        .unwrap();
    shoot(&client, "identities").await;

    // The auditor reads the log; the dashboard at phone width.
    sign_in(&client, &demo.links["auditor"]).await;
    client
        .goto(&format!("{}/portal/audit?action=request.", demo.base))
        .await
        .unwrap();
    assert!(client.source().await.unwrap().contains("request.approved"));
    shoot(&client, "audit").await;
    client
        .goto(&format!("{}/portal/findings", demo.base))
        .await
        .unwrap();
    let findings = client.source().await.unwrap();
    assert!(
        findings.contains("tmp_dba_hotfix"),
        "the demo's drift is found: {findings}"
    );
    assert!(
        findings.contains(">payments-db<"),
        "findings name their system: {findings}"
    );
    shoot(&client, "findings").await;
    client.set_window_size(390, 844).await.unwrap();
    client.goto(&format!("{}/portal", demo.base)).await.unwrap();
    shoot(&client, "dashboard-phone").await;
    client.close().await.unwrap();
}
