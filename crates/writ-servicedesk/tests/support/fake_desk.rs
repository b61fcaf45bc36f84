//! A fake service desk: a small axum server on `127.0.0.1:0` that answers as Jira Cloud's
//! REST API v3 and ServiceNow's Table API document, records what it was sent, and can be taken
//! down (answering 503) and brought back.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};

/// One call the desk received.
#[derive(Debug, Clone)]
pub struct Call {
    /// `comment`, `transition`, `patch`, `event` or `callback`.
    pub kind: &'static str,
    /// The issue key or record sys_id.
    pub key: String,
    /// The JSON body.
    pub body: serde_json::Value,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// Every header, by lower-case name.
    pub headers: std::collections::HashMap<String, String>,
    /// The raw body.
    pub raw: Vec<u8>,
}

#[derive(Default)]
struct Desk {
    down: bool,
    calls: Vec<Call>,
    /// Issues already moved to "Done": Jira no longer offers the transition there.
    done: Vec<String>,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeDesk {
    state: Arc<Mutex<Desk>>,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
}

type Shared = Arc<Mutex<Desk>>;

impl FakeDesk {
    /// Starts the fake.
    pub async fn start() -> Self {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route(
                "/rest/api/3/issue/{key}/transitions",
                get(jira_transitions).post(jira_transition),
            )
            .route("/rest/api/3/issue/{key}/comment", post(jira_comment))
            .route("/api/now/table/{table}/{sys_id}", patch(servicenow_patch))
            .route("/events", post(event_received))
            .route("/callback", post(callback_received))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                unless_down,
            ))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { state, url }
    }

    /// Takes the desk down (`true`) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
    }

    /// Every call received while up, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    /// The calls of one kind.
    pub fn calls_of(&self, kind: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.kind == kind)
            .collect()
    }
}

fn record(
    state: &Shared,
    kind: &'static str,
    key: String,
    headers: &HeaderMap,
    body: serde_json::Value,
) {
    let raw = body.to_string().into_bytes();
    record_raw(state, kind, key, headers, body, raw);
}

fn record_raw(
    state: &Shared,
    kind: &'static str,
    key: String,
    headers: &HeaderMap,
    body: serde_json::Value,
    raw: Vec<u8>,
) {
    state.lock().unwrap().calls.push(Call {
        kind,
        key,
        body,
        raw,
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
}

/// While the desk is down, every call is answered 503 and recorded nowhere.
async fn unless_down(
    State(state): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if state.lock().unwrap().down {
        return (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response();
    }
    next.run(request).await
}

/// `GET /rest/api/3/issue/{key}/transitions`: the transitions available from the issue's
/// current status, as Jira lists them.
async fn jira_transitions(State(state): State<Shared>, Path(key): Path<String>) -> Response {
    let done = state.lock().unwrap().done.contains(&key);
    let mut transitions = vec![serde_json::json!({
        "id": "21", "name": "In Progress", "hasScreen": false, "isGlobal": true,
        "to": { "id": "3", "name": "In Progress", "statusCategory": { "id": 4, "key": "indeterminate", "name": "In Progress" } }
    })];
    if !done {
        transitions.push(serde_json::json!({
            "id": "31", "name": "Done", "hasScreen": false, "isGlobal": true,
            "to": { "id": "10001", "name": "Done", "statusCategory": { "id": 3, "key": "done", "name": "Done" } }
        }));
    }
    Json(serde_json::json!({ "expand": "transitions", "transitions": transitions })).into_response()
}

/// `POST /rest/api/3/issue/{key}/transitions`: 204 No Content.
async fn jira_transition(
    State(state): State<Shared>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    if body["transition"]["id"] == "31" {
        state.lock().unwrap().done.push(key.clone());
    }
    record(&state, "transition", key, &headers, body);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /rest/api/3/issue/{key}/comment`: 201 Created with the comment.
async fn jira_comment(
    State(state): State<Shared>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let id = state.lock().unwrap().calls.len() + 10_000;
    let answer = serde_json::json!({
        "id": id.to_string(),
        "self": format!("https://example.atlassian.net/rest/api/3/issue/{key}/comment/{id}"),
        "body": body["body"].clone(),
        "created": "2026-11-24T10:00:00.000+0000",
    });
    record(&state, "comment", key, &headers, body);
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// `PATCH /api/now/table/{table}/{sys_id}`: 200 with the updated record under `result`.
async fn servicenow_patch(
    State(state): State<Shared>,
    Path((table, sys_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let answer = serde_json::json!({ "result": {
        "sys_id": sys_id, "sys_class_name": table, "state": body.get("state").cloned().unwrap_or("1".into()),
    }});
    record(&state, "patch", sys_id, &headers, body);
    Json(answer).into_response()
}

/// `POST /events`: an outbound webhook receiver, 204 on receipt (the body kept verbatim, so
/// its signature can be checked).
async fn event_received(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    received(&state, "event", &headers, &body)
}

/// `POST /callback`: a generic desk's outcome note.
async fn callback_received(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    received(&state, "callback", &headers, &body)
}

fn received(state: &Shared, kind: &'static str, headers: &HeaderMap, body: &[u8]) -> Response {
    let json = serde_json::from_slice(body).unwrap_or_default();
    record_raw(state, kind, String::new(), headers, json, body.to_vec());
    StatusCode::NO_CONTENT.into_response()
}
