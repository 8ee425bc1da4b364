//! HTTP outcomes by their conventions (feature `http`): a real axum `Router`
//! served on loopback and called with a real hyper client, and the same
//! router driven with `tower::ServiceExt::oneshot`, read back from the SDK.

use std::fmt;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode, Uri};
use http_body_util::Empty;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, error_description, telemetry, Telemetry};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use tower::ServiceExt as _;

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// A handler answering with the status its path names.
#[instrument_errors(
    name = "GET /status/{code}",
    kind = server,
    metric = "http.server.request.duration",
    error_if = instrument_errors::http::server_error,
    result_attributes = instrument_errors::http::response_attributes,
)]
async fn status(Path(code): Path<u16>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, format!("answered {code}")).into_response()
}

/// The client side: one GET.
#[instrument_errors(
    name = "GET",
    kind = client,
    metric = "http.client.request.duration",
    error_if = instrument_errors::http::client_error,
    result_attributes = instrument_errors::http::response_attributes,
)]
async fn fetch(
    client: &HttpClient,
    uri: Uri,
) -> Result<Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
    client.get(uri).await
}

/// The same client operation under another name, for the connection error.
#[instrument_errors(
    name = "GET refused",
    kind = client,
    error_if = instrument_errors::http::client_error,
    result_attributes = instrument_errors::http::response_attributes,
)]
async fn fetch_refused(
    client: &HttpClient,
    uri: Uri,
) -> Result<Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
    client.get(uri).await
}

/// axum's `(StatusCode, body)` reply.
#[instrument_errors(
    name = "GET /tuple/{code}",
    kind = server,
    error_if = instrument_errors::http::server_error,
    result_attributes = instrument_errors::http::response_attributes,
)]
async fn tuple(Path(code): Path<u16>) -> (StatusCode, String) {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, format!("answered {code}"))
}

#[derive(Debug, ErrorType)]
#[error_type("store_down")]
struct StoreDown;

impl fmt::Display for StoreDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the store is down")
    }
}

impl std::error::Error for StoreDown {}

impl IntoResponse for StoreDown {
    fn into_response(self) -> Response {
        (StatusCode::BAD_GATEWAY, self.to_string()).into_response()
    }
}

/// A `Result` handler: the `Ok` side is classified by its status, the `Err`
/// side as an error.
#[instrument_errors(
    name = "GET /result/{code}",
    kind = server,
    error_if = instrument_errors::http::server_error,
    result_attributes = instrument_errors::http::response_attributes,
)]
async fn result(Path(code): Path<u16>) -> Result<StatusCode, StoreDown> {
    match code {
        0 => Err(StoreDown),
        _ => Ok(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)),
    }
}

fn router() -> Router {
    Router::new()
        .route("/status/{code}", get(status))
        .route("/tuple/{code}", get(tuple))
        .route("/result/{code}", get(result))
}

async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router()).await });
    addr
}

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// The one span named `name` whose `http.response.status_code` is `code`.
fn span_with_status(t: &Telemetry, name: &str, code: i64) -> SpanData {
    let mut spans: Vec<SpanData> = t
        .spans_named(name)
        .into_iter()
        .filter(|s| attr(s, "http.response.status_code") == Some(Value::I64(code)))
        .collect();
    assert_eq!(spans.len(), 1, "{name} {code}: {spans:?}");
    spans.remove(0)
}

fn assert_success(span: &SpanData) {
    assert_eq!(span.status, Status::Unset, "{span:?}");
    assert_eq!(attr(span, "error.type"), None, "{span:?}");
}

fn assert_failure(span: &SpanData, error_type: &str) {
    assert_eq!(
        attr(span, "error.type"),
        Some(Value::from(error_type.to_owned())),
        "{span:?}"
    );
    // The code says it all: no status description.
    assert_eq!(error_description(span).as_deref(), Some(""), "{span:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_client_on_loopback() {
    let t = telemetry();
    let addr = serve().await;
    let client = client();
    for code in [200u16, 404, 503] {
        let uri: Uri = format!("http://{addr}/status/{code}").parse().expect("uri");
        let response = fetch(&client, uri).await.expect("a response");
        assert_eq!(response.status().as_u16(), code);
    }

    // Server: 2xx and 4xx are not failures, 5xx is, with the code as error.type.
    let ok = span_with_status(t, "GET /status/{code}", 200);
    let not_found = span_with_status(t, "GET /status/{code}", 404);
    let unavailable = span_with_status(t, "GET /status/{code}", 503);
    assert_eq!(ok.span_kind, SpanKind::Server);
    assert_success(&ok);
    assert_success(&not_found);
    assert_failure(&unavailable, "503");
    let failed = t.points("http.server.request.duration", &[("error.type", "503")]);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].count, 1);
    let succeeded: Vec<_> = t
        .points("http.server.request.duration", &[])
        .into_iter()
        .filter(|p| p.get("error.type").is_none())
        .collect();
    assert_eq!(succeeded.len(), 1, "{succeeded:?}");
    assert_eq!(succeeded[0].count, 2);

    // Client: >= 400 is a failure.
    let ok = span_with_status(t, "GET", 200);
    let not_found = span_with_status(t, "GET", 404);
    let unavailable = span_with_status(t, "GET", 503);
    assert_eq!(ok.span_kind, SpanKind::Client);
    assert_success(&ok);
    assert_failure(&not_found, "404");
    assert_failure(&unavailable, "503");
    for code in ["404", "503"] {
        let points = t.points("http.client.request.duration", &[("error.type", code)]);
        assert_eq!(points.len(), 1, "{points:?}");
        assert_eq!(points[0].count, 1);
    }

    // A status code in an `Ok` value raised nothing: no exception records.
    assert!(t.logs_named("GET /status/{code}.exception").is_empty());
    assert!(t.logs_named("GET.exception").is_empty());
}

#[tokio::test]
async fn tuple_and_result_replies_through_the_router() {
    let t = telemetry();
    for path in [
        "/tuple/201",
        "/tuple/429",
        "/tuple/500",
        "/result/204",
        "/result/502",
        "/result/0",
    ] {
        let request = Request::get(path).body(Body::empty()).expect("request");
        let response = router().oneshot(request).await.expect("infallible");
        assert!(response.status().as_u16() > 0);
    }
    assert_success(&span_with_status(t, "GET /tuple/{code}", 201));
    assert_success(&span_with_status(t, "GET /tuple/{code}", 429));
    assert_failure(&span_with_status(t, "GET /tuple/{code}", 500), "500");
    assert_success(&span_with_status(t, "GET /result/{code}", 204));
    assert_failure(&span_with_status(t, "GET /result/{code}", 502), "502");
    assert!(t.logs_named("GET /tuple/{code}.exception").is_empty());

    // An `Err` is an error as any other: error.type from its `ErrorType`, its
    // message as description, an exception record, and no response status.
    let spans = t.spans_named("GET /result/{code}");
    let errors: Vec<_> = spans
        .iter()
        .filter(|s| attr(s, "http.response.status_code").is_none())
        .collect();
    assert_eq!(errors.len(), 1, "{spans:?}");
    assert_eq!(
        attr(errors[0], "error.type"),
        Some(Value::from("store_down"))
    );
    assert_eq!(
        error_description(errors[0]).as_deref(),
        Some("the store is down")
    );
    let logs = t.logs_named("GET /result/{code}.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].get("exception.type"), Some("store_down"));
}

#[tokio::test]
async fn client_without_a_response() {
    let t = telemetry();
    // A port nobody listens on: bound, then released.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.local_addr().expect("address")
    };
    let uri: Uri = format!("http://{addr}/").parse().expect("uri");
    assert!(fetch_refused(&client(), uri).await.is_err());
    let span = t.span("GET refused");
    assert_eq!(attr(&span, "http.response.status_code"), None);
    let error_type = std::any::type_name::<hyper_util::client::legacy::Error>();
    assert_eq!(
        attr(&span, "error.type"),
        Some(Value::from(error_type.to_owned()))
    );
    assert!(matches!(span.status, Status::Error { .. }));
    assert_eq!(t.logs_named("GET refused.exception").len(), 1);
}

/// Synchronous functions returning a bare `StatusCode` and an
/// `http::Response` in a `Result`.
#[instrument_errors(
    name = "sync.server.status",
    kind = server,
    error_if = instrument_errors::http::server_error,
    result_attributes = instrument_errors::http::response_attributes,
)]
fn check(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

#[instrument_errors(
    name = "sync.client.response",
    kind = client,
    error_if = instrument_errors::http::client_error,
    result_attributes = instrument_errors::http::response_attributes,
)]
fn call(code: u16) -> Result<http::Response<()>, std::io::Error> {
    let mut response = http::Response::new(());
    *response.status_mut() = StatusCode::from_u16(code).map_err(std::io::Error::other)?;
    Ok(response)
}

#[test]
fn synchronous_status_codes() {
    let t = telemetry();
    assert_eq!(check(418), StatusCode::IM_A_TEAPOT);
    assert_eq!(check(599).as_u16(), 599);
    assert_success(&span_with_status(t, "sync.server.status", 418));
    assert_failure(&span_with_status(t, "sync.server.status", 599), "599");
    assert_eq!(call(302).expect("ok").status(), StatusCode::FOUND);
    assert_eq!(call(451).expect("ok").status().as_u16(), 451);
    assert_success(&span_with_status(t, "sync.client.response", 302));
    assert_failure(&span_with_status(t, "sync.client.response", 451), "451");
    assert!(t.logs_named("sync.client.response.exception").is_empty());
}
