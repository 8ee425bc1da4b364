//! HTTP services as teams write them (issue 17): real axum 0.8 handlers,
//! served on loopback, called with a real reqwest 0.13 client, under the
//! `http` flag, with `metric_attributes`, `parent` and the propagation
//! helpers, read back from the SDK.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{Json, Path};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::{HeaderMap, StatusCode};
use instrument_errors::http::{extract_context, inject_context, ResponseStatus};
use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, error_description, telemetry, Telemetry};
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Item {
    name: String,
}

// ----- The server: the handler shapes axum code returns.

/// `Result<Json<T>, (StatusCode, String)>`: axum's error tuple.
#[instrument_errors(
    name = "POST /items",
    kind = server, http,
    metric = "http.server.request.duration",
    metric_attributes("http.request.method" = "POST", "http.route" = "/items"),
    parent = extract_context(&headers),
)]
async fn create(
    headers: HeaderMap,
    Json(item): Json<Item>,
) -> Result<Json<Item>, (StatusCode, String)> {
    match item.name.as_str() {
        "" => Err((StatusCode::BAD_REQUEST, "the name is empty".to_owned())),
        "boom" => Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            "the store is down".to_owned(),
        )),
        _ => Ok(Json(item)),
    }
}

/// A team's error type: thiserror, `ErrorType`, and the status it answers
/// with (`ResponseStatus`, which the orphan rule allows).
#[derive(Debug, thiserror::Error, ErrorType)]
enum AppError {
    #[error("user {0} not found")]
    NotFound(u32),
    #[error("the database is unavailable")]
    #[error_type("db_unavailable")]
    Unavailable,
    #[error("upstream failed")]
    Upstream,
}

impl ResponseStatus for AppError {
    fn response_status(&self) -> Option<StatusCode> {
        match self {
            AppError::NotFound(_) => Some(StatusCode::NOT_FOUND),
            AppError::Unavailable => Some(StatusCode::SERVICE_UNAVAILABLE),
            AppError::Upstream => Some(StatusCode::BAD_GATEWAY),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self
            .response_status()
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, self.to_string()).into_response()
    }
}

/// `Result<Json<T>, AppError>`.
#[instrument_errors(
    name = "GET /users/{id}",
    kind = server, http,
    metric = "http.server.request.duration",
    metric_attributes("http.request.method" = "GET", "http.route" = "/users/{id}"),
    handled_attribute = "app.user.status",
    parent = extract_context(&headers),
)]
async fn get_user(headers: HeaderMap, Path(id): Path<u32>) -> Result<Json<Item>, AppError> {
    match id {
        0 => Err(AppError::NotFound(id)),
        1 => Err(AppError::Unavailable),
        // An error without its own `error.type` value would report the
        // status; this one has one.
        2 => Err(AppError::Upstream),
        _ => Ok(Json(Item {
            name: format!("user {id}"),
        })),
    }
}

/// A bare `StatusCode`.
#[instrument_errors(
    name = "GET /health/{code}",
    kind = server, http,
    metric = "http.server.request.duration",
    metric_attributes("http.request.method" = "GET", "http.route" = "/health/{code}"),
)]
async fn health(Path(code): Path<u16>) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

async fn serve() -> SocketAddr {
    let router = Router::new()
        .route("/items", post(create))
        .route("/users/{id}", get(get_user))
        .route("/health/{code}", get(health))
        .route("/slow", get(slow));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

// ----- The client: reqwest, with the context injected.

/// A GET: `>= 400` is a failure, read from the `reqwest::Response`.
#[instrument_errors(
    name = "GET",
    kind = client, http,
    metric = "http.client.request.duration",
    metric_attributes("http.request.method" = "GET"),
)]
async fn fetch(client: &reqwest::Client, url: String) -> Result<reqwest::Response, reqwest::Error> {
    let mut headers = HeaderMap::new();
    inject_context(&mut headers);
    client.get(url).headers(headers).send().await
}

/// A POST of an item.
#[instrument_errors(
    name = "POST",
    kind = client, http,
    metric = "http.client.request.duration",
    metric_attributes("http.request.method" = "POST"),
)]
async fn post_item(
    client: &reqwest::Client,
    url: String,
    name: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    let mut headers = HeaderMap::new();
    inject_context(&mut headers);
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    client
        .post(url)
        .headers(headers)
        .body(format!("{{\"name\":\"{name}\"}}"))
        .send()
        .await
}

/// `error_for_status`: the status travels in the `reqwest::Error`.
#[instrument_errors(name = "GET text", kind = client, http)]
async fn fetch_text(client: &reqwest::Client, url: String) -> Result<String, reqwest::Error> {
    client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await
}

/// The same call, for the timeout.
#[instrument_errors(name = "GET slow", kind = client, http)]
async fn fetch_slow(
    client: &reqwest::Client,
    url: String,
) -> Result<reqwest::Response, reqwest::Error> {
    client.get(url).send().await
}

/// The same call, for a refused connection.
#[instrument_errors(name = "GET refused", kind = client, http)]
async fn fetch_refused(
    client: &reqwest::Client,
    url: String,
) -> Result<reqwest::Response, reqwest::Error> {
    client.get(url).send().await
}

fn setup() -> &'static Telemetry {
    static PROPAGATOR: OnceLock<()> = OnceLock::new();
    PROPAGATOR.get_or_init(|| {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
    });
    telemetry()
}

fn spans_with_status(t: &Telemetry, name: &str, status: Option<i64>) -> Vec<SpanData> {
    t.spans_named(name)
        .into_iter()
        .filter(|s| attr(s, "http.response.status_code") == status.map(Value::I64))
        .collect()
}

fn one(mut spans: Vec<SpanData>, what: &str) -> SpanData {
    assert_eq!(spans.len(), 1, "{what}: {spans:#?}");
    spans.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_shapes_on_the_wire() {
    let t = setup();
    let addr = serve().await;
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");

    // `Result<Json<Item>, (StatusCode, String)>`.
    let ok = post_item(&client, format!("{base}/items"), "lamp")
        .await
        .expect("ok");
    assert_eq!(ok.status(), 200);
    let bad = post_item(&client, format!("{base}/items"), "")
        .await
        .expect("400");
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.text().await.expect("body"), "the name is empty");
    let boom = post_item(&client, format!("{base}/items"), "boom")
        .await
        .expect("500");
    assert_eq!(boom.status(), 500);

    // `Ok(Json(..))` carries no status: a success without the attribute.
    let span = one(spans_with_status(t, "POST /items", None), "POST /items ok");
    assert_eq!(span.span_kind, SpanKind::Server);
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(&span, "error.type"), None);
    assert_eq!(attr(&span, "http.route"), Some(Value::from("/items")));
    assert_eq!(
        attr(&span, "http.request.method"),
        Some(Value::from("POST"))
    );

    // `Err((400, ..))`: handled, not a failure of the server.
    let span = one(spans_with_status(t, "POST /items", Some(400)), "400");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(&span, "error.type"), None);

    // `Err((500, "the store is down"))`: the code, and the message as the
    // description.
    let span = one(spans_with_status(t, "POST /items", Some(500)), "500");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("500")));
    assert_eq!(
        error_description(&span).as_deref(),
        Some("the store is down")
    );

    // The duration points carry the route, the method, the status code and,
    // for the failure only, error.type.
    let route = [("http.route", "/items"), ("http.request.method", "POST")];
    let points = t.points("http.server.request.duration", &route);
    let find = |code: &str| {
        points
            .iter()
            .find(|p| p.get("http.response.status_code") == Some(code))
            .cloned()
    };
    assert_eq!(
        find("400").map(|p| p.get("error.type").map(str::to_owned)),
        Some(None)
    );
    assert_eq!(
        find("500").and_then(|p| p.get("error.type").map(str::to_owned)),
        Some("500".to_owned())
    );
    let success = points
        .iter()
        .find(|p| p.get("http.response.status_code").is_none())
        .expect("the Json point");
    assert_eq!(success.get("error.type"), None);
    assert_eq!(success.unit, "s");

    // One DEBUG record for the handled 400, one ERROR record for the 500.
    let logs = t.logs_named("POST /items.exception");
    assert_eq!(logs.len(), 2, "{logs:#?}");
    let debug = logs
        .iter()
        .find(|l| l.severity == Some(Severity::Debug))
        .unwrap_or_else(|| panic!("DEBUG: {logs:#?}"));
    assert_eq!(debug.get("exception.type"), Some("400"));
    assert_eq!(debug.get("exception.message"), Some("the name is empty"));
    let error = logs
        .iter()
        .find(|l| l.severity == Some(Severity::Error))
        .expect("ERROR");
    assert_eq!(error.get("exception.type"), Some("500"));
    assert_eq!(error.get("exception.message"), Some("the store is down"));
    assert_eq!(error.span_id, Some(span.span_context.span_id()));

    // The client: a POST answered 400 or 500 is a failure of the call,
    // without an exception (the status is in the `Ok` value).
    let client_400 = one(spans_with_status(t, "POST", Some(400)), "client 400");
    assert_eq!(client_400.span_kind, SpanKind::Client);
    assert_eq!(attr(&client_400, "error.type"), Some(Value::from("400")));
    assert!(matches!(client_400.status, Status::Error { .. }));
    assert_eq!(error_description(&client_400).as_deref(), Some(""));
    let client_200 = one(spans_with_status(t, "POST", Some(200)), "client 200");
    assert_eq!(client_200.status, Status::Unset);
    assert!(t.logs_named("POST.exception").is_empty());
    let client_points = t.points(
        "http.client.request.duration",
        &[
            ("http.request.method", "POST"),
            ("http.response.status_code", "500"),
        ],
    );
    assert_eq!(client_points.len(), 1);
    assert_eq!(client_points[0].get("error.type"), Some("500"));

    // One trace: each server span is a child of the client span that called
    // it, through the injected and extracted headers.
    let server_400 = one(spans_with_status(t, "POST /items", Some(400)), "400");
    assert_eq!(
        server_400.span_context.trace_id(),
        client_400.span_context.trace_id()
    );
    assert_eq!(server_400.parent_span_id, client_400.span_context.span_id());
    assert!(server_400.parent_span_is_remote);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_errors_and_plain_statuses() {
    let t = setup();
    let addr = serve().await;
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    for (id, status) in [(0, 404), (1, 503), (2, 502), (7, 200)] {
        let response = fetch(&client, format!("{base}/users/{id}"))
            .await
            .expect("answered");
        assert_eq!(response.status(), status);
    }
    // 404: `AppError::NotFound` is handled by the server.
    let span = one(spans_with_status(t, "GET /users/{id}", Some(404)), "404");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(&span, "error.type"), None);
    assert_eq!(
        attr(&span, "app.user.status"),
        Some(Value::from("not_found"))
    );
    // 503: the error's own `error.type`, and its message.
    let span = one(spans_with_status(t, "GET /users/{id}", Some(503)), "503");
    assert_eq!(
        attr(&span, "error.type"),
        Some(Value::from("db_unavailable"))
    );
    assert_eq!(
        error_description(&span).as_deref(),
        Some("the database is unavailable")
    );
    let span = one(spans_with_status(t, "GET /users/{id}", Some(502)), "502");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("upstream")));
    let span = one(spans_with_status(t, "GET /users/{id}", None), "Json");
    assert_eq!(span.status, Status::Unset);
    let logs = t.logs_named("GET /users/{id}.exception");
    let mut seen: Vec<_> = logs
        .iter()
        .map(|l| {
            (
                l.get("exception.type").unwrap_or_default().to_owned(),
                l.severity,
            )
        })
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen,
        [
            ("db_unavailable".to_owned(), Some(Severity::Error)),
            ("not_found".to_owned(), Some(Severity::Debug)),
            ("upstream".to_owned(), Some(Severity::Error)),
        ]
    );
    let handled = logs
        .iter()
        .find(|l| l.severity == Some(Severity::Debug))
        .expect("DEBUG");
    assert_eq!(handled.get("app.user.status"), Some("not_found"));
    let points = t.points(
        "http.server.request.duration",
        &[
            ("http.route", "/users/{id}"),
            ("http.response.status_code", "503"),
        ],
    );
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].get("error.type"), Some("db_unavailable"));
    assert_eq!(points[0].get("http.request.method"), Some("GET"));

    // The client: 404, 503 and 502 are failures, 200 is not.
    for (code, failure) in [(404, true), (503, true), (502, true), (200, false)] {
        let span = one(spans_with_status(t, "GET", Some(code)), "client");
        assert_eq!(
            attr(&span, "error.type"),
            failure.then(|| Value::from(code.to_string())),
            "{code}"
        );
    }

    // A bare `StatusCode`: 503 is a failure without an exception, 404 not.
    for code in [503, 404, 204] {
        let response = client
            .get(format!("{base}/health/{code}"))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), code);
    }
    let span = one(
        spans_with_status(t, "GET /health/{code}", Some(503)),
        "health 503",
    );
    assert_eq!(attr(&span, "error.type"), Some(Value::from("503")));
    let span = one(
        spans_with_status(t, "GET /health/{code}", Some(404)),
        "health 404",
    );
    assert_eq!(span.status, Status::Unset);
    assert!(t.logs_named("GET /health/{code}.exception").is_empty());
    let points = t.points(
        "http.server.request.duration",
        &[("http.route", "/health/{code}")],
    );
    assert_eq!(points.len(), 3, "{points:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_errors() {
    let t = setup();
    let addr = serve().await;
    let base = format!("http://{addr}");

    // `error_for_status`: the status is in the `reqwest::Error`.
    let client = reqwest::Client::new();
    // (A route without a handler: axum answers 404 by itself.)
    let err = fetch_text(&client, format!("{base}/missing"))
        .await
        .expect_err("404");
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    let span = one(
        spans_with_status(t, "GET text", Some(404)),
        "error_for_status",
    );
    assert_eq!(attr(&span, "error.type"), Some(Value::from("404")));
    let logs = t.logs_named("GET text.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].severity, Some(Severity::Warn));

    // A timeout.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .expect("client");
    let err = fetch_slow(&impatient, format!("{base}/slow"))
        .await
        .expect_err("timeout");
    assert!(err.is_timeout());
    let span = one(spans_with_status(t, "GET slow", None), "timeout");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("timeout")));
    assert!(matches!(span.status, Status::Error { .. }));

    // A refused connection: the cause's value, never `reqwest::Error`.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let err = fetch_refused(&client, format!("http://127.0.0.1:{port}/"))
        .await
        .expect_err("refused");
    assert!(err.is_connect());
    let span = one(spans_with_status(t, "GET refused", None), "refused");
    assert_eq!(
        attr(&span, "error.type"),
        Some(Value::from("std::io::ErrorKind::ConnectionRefused"))
    );
    let logs = t.logs_named("GET refused.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(
        logs[0].get("exception.type"),
        Some("std::io::ErrorKind::ConnectionRefused")
    );
}

/// An `Err` without a status is a failure as without the flag; an `Ok`
/// without one a success.
#[instrument_errors(name = "flag.anyhow", kind = server, http)]
fn report(fail: bool) -> anyhow::Result<String> {
    use anyhow::Context as _;
    if fail {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        return Err(io).context("reading the report");
    }
    Ok("report".to_owned())
}

/// `ok_if` handles more errors; `error_type` gives another `error.type`.
#[instrument_errors(
    name = "flag.combined",
    kind = server, http,
    ok_if = |e: &AppError| matches!(e, AppError::Upstream),
    error_type = |e: &AppError| if matches!(e, AppError::Unavailable) { "db" } else { "other" },
)]
fn combined(id: u32) -> Result<StatusCode, AppError> {
    match id {
        0 => Err(AppError::Upstream),
        1 => Err(AppError::Unavailable),
        2 => Err(AppError::NotFound(2)),
        _ => Ok(StatusCode::BAD_GATEWAY),
    }
}

#[test]
fn errors_without_a_status_and_other_arguments() {
    let t = setup();
    assert!(report(true).is_err());
    assert!(report(false).is_ok());
    let spans = t.spans_named("flag.anyhow");
    assert_eq!(spans.len(), 2);
    let failed = spans
        .iter()
        .find(|s| s.status != Status::Unset)
        .expect("failed");
    assert_eq!(
        attr(failed, "error.type"),
        Some(Value::from("std::io::ErrorKind::NotFound"))
    );
    assert_eq!(
        error_description(failed).as_deref(),
        Some("reading the report")
    );
    for span in &spans {
        assert_eq!(attr(span, "http.response.status_code"), None);
    }

    for id in 0..4 {
        let _ = combined(id);
    }
    // `ok_if` handled the 502 `Err`; `error_type` named the 503; the 404
    // `Err` is handled by the flag; a 502 in `Ok` is a failure.
    let upstream = one(
        spans_with_status(t, "flag.combined", Some(502))
            .into_iter()
            .filter(|s| s.status == Status::Unset)
            .collect(),
        "ok_if",
    );
    assert_eq!(attr(&upstream, "error.type"), None);
    let db = one(
        spans_with_status(t, "flag.combined", Some(503)),
        "error_type",
    );
    assert_eq!(attr(&db, "error.type"), Some(Value::from("db")));
    let not_found = one(spans_with_status(t, "flag.combined", Some(404)), "404");
    assert_eq!(not_found.status, Status::Unset);
    let rejected = one(
        spans_with_status(t, "flag.combined", Some(502))
            .into_iter()
            .filter(|s| s.status != Status::Unset)
            .collect(),
        "Ok(502)",
    );
    assert_eq!(attr(&rejected, "error.type"), Some(Value::from("502")));
}
