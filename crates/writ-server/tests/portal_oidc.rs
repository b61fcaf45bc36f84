//! Portal login through a real OpenID Connect provider run locally (`oidc-provider-mock`,
//! from PyPI): authorization code with PKCE, `state` and `nonce` checked, the ID token
//! verified against the provider's JWKS, the subject mapped to a principal. Skipped with a
//! printed reason when the provider is not installed, unless `WRIT_TEST_OIDC=1` (CI) says it
//! must run.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;
use writ_testkit::{TestApp, TestDb};

/// The provider, stopped when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `oidc-provider-mock` on a free port with Carol's claims, or says why not.
async fn provider() -> Option<Provider> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spawned = Command::new("oidc-provider-mock")
        .args(["--port", &port.to_string(), "--require-nonce", "true"])
        .args([
            "--user-claims",
            r#"{"sub": "carol", "email": "carol@org.example"}"#,
        ])
        .args([
            "--user-claims",
            r#"{"sub": "nobody", "email": "nobody@elsewhere.example"}"#,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(err) => {
            assert!(
                std::env::var_os("WRIT_TEST_OIDC").is_none(),
                "WRIT_TEST_OIDC is set but `oidc-provider-mock` cannot start: {err}"
            );
            eprintln!(
                "skipped: `oidc-provider-mock` is not installed (pip install oidc-provider-mock): {err}"
            );
            return None;
        }
    };
    let provider = Provider {
        child,
        issuer: format!("http://127.0.0.1:{port}"),
    };
    let discovery = format!("{}/.well-known/openid-configuration", provider.issuer);
    // Ready when its discovery document answers (a Python process takes a moment to start,
    // and several seconds on a loaded two-core machine).
    for _ in 0..600 {
        if reqwest::get(&discovery)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Some(provider);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("oidc-provider-mock did not start on port {port}");
}

async fn app(provider: &Provider) -> TestApp {
    let mut app = TestApp::new(TestDb::sqlite().await).await;
    app.state.portal.oidc = Some(writ_server::Oidc::new(writ_server::OidcSettings {
        issuer: provider.issuer.clone(),
        client_id: "writ-portal".into(),
        client_secret: "not-logged".into(),
        redirect_url: "http://writ.test/portal/login/callback".into(),
    }));
    app
}

async fn get(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, String, Vec<String>, String) {
    let mut request = Request::builder().uri(path);
    if !cookie.is_empty() {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app
        .router()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        location,
        cookies,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// Starts a login and lets the provider's user `sub` authorize it; returns writ's callback
/// path and the login cookie.
async fn authorize(app: &TestApp, sub: &str) -> (String, String) {
    let (status, to_provider, cookies, _) = get(app, "/portal/login/oidc", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        to_provider.contains("code_challenge_method=S256"),
        "{to_provider}"
    );
    let login_cookie = cookies[0].split(';').next().unwrap().to_string();
    assert!(cookies[0].contains("HttpOnly"), "{}", cookies[0]);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = http
        .post(&to_provider)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("sub={sub}"))
        .send()
        .await
        .unwrap();
    assert!(back.status().is_redirection(), "{}", back.status());
    let location = back.headers()["location"].to_str().unwrap().to_string();
    let path = location
        .strip_prefix("http://writ.test")
        .unwrap_or_else(|| panic!("{location}"))
        .to_string();
    (path, login_cookie)
}

#[tokio::test]
async fn a_person_signs_in_through_the_provider_as_their_principal() {
    let Some(provider) = provider().await else {
        return;
    };
    let app = app(&provider).await;
    let (callback, login_cookie) = authorize(&app, "carol").await;
    let (status, location, cookies, body) = get(&app, &callback, &login_cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location, "/portal");
    let session = cookies
        .iter()
        .find(|c| c.starts_with("writ_session=writ_"))
        .expect("a session cookie");
    let session = session.split(';').next().unwrap();
    let (status, _, _, page) = get(&app, "/portal", session).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Carol Teammate"), "{page}");
}

#[tokio::test]
async fn a_callback_with_another_browsers_state_is_refused() {
    let Some(provider) = provider().await else {
        return;
    };
    let app = app(&provider).await;
    let (callback, _) = authorize(&app, "carol").await;
    // A second login in this browser: its cookie's state is not the one the provider returned.
    let (_, _, cookies, _) = get(&app, "/portal/login/oidc", "").await;
    let other = cookies[0].split(';').next().unwrap();
    let (status, _, cookies, body) = get(&app, &callback, other).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("state"), "{body}");
    assert!(cookies.iter().all(|c| !c.starts_with("writ_session=")));
    let (status, _, _, _) = get(&app, &callback, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no login cookie at all");
}

#[tokio::test]
async fn a_person_writ_does_not_know_is_refused_by_name() {
    let Some(provider) = provider().await else {
        return;
    };
    let app = app(&provider).await;
    let (callback, login_cookie) = authorize(&app, "nobody").await;
    let (status, _, _, body) = get(&app, &callback, &login_cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("no writ principal has subject"), "{body}");
    assert!(
        !body.contains("not-logged"),
        "the client secret never shows"
    );
}
