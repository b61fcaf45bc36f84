//! `writ demo`: a fresh organisation with requests in every state, one-time login links that
//! work once, and an admin token that reads the API.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod demo_process;

use demo_process::Demo;

#[test]
fn the_demo_prints_working_links_and_a_token_over_requests_in_every_state() {
    let demo = Demo::start();
    for role in ["requester", "approver", "security approver", "auditor"] {
        assert!(demo.links.contains_key(role), "{role}: {}", demo.banner);
    }
    let bearer = format!("Bearer {}", demo.token);
    let listed = demo.get("/api/v1/requests?limit=100", &[("Authorization", &bearer)]);
    assert!(listed.starts_with("HTTP/1.1 200"), "{listed}");
    for status in [
        "pending_approval",
        "fulfilled",
        "rejected",
        "denied",
        "cancelled",
    ] {
        assert!(
            listed.contains(&format!("\"status\":\"{status}\"")),
            "{status}: {listed}"
        );
    }
    for kind in ["break_glass", "exception"] {
        assert!(
            listed.contains(&format!("\"kind\":\"{kind}\"")),
            "{kind}: {listed}"
        );
    }

    let link = &demo.links["auditor"];
    let path = link.strip_prefix(&demo.base).unwrap();
    let first = demo.get(path, &[]);
    assert!(first.starts_with("HTTP/1.1 303"), "{first}");
    let cookie = first
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    let dashboard = demo.get("/portal", &[("Cookie", &cookie)]);
    assert!(dashboard.contains("Omar Haddad"), "{dashboard}");
    assert!(dashboard.contains("Open findings by kind"), "{dashboard}");
    let findings = dashboard.split("Open findings by kind").nth(1).unwrap();
    assert!(
        !findings
            .split("</figure>")
            .next()
            .unwrap()
            .contains("Nothing to show yet"),
        "the reconciliation found the hand-made account: {dashboard}"
    );
    let campaigns = demo.get("/portal/campaigns", &[("Cookie", &cookie)]);
    assert!(
        campaigns.contains("Quarterly access review"),
        "the demo's campaign is under way: {campaigns}"
    );
    let again = demo.get(path, &[]);
    assert!(
        again.starts_with("HTTP/1.1 403"),
        "a link works once: {again}"
    );
}
