//! An axum service and a reqwest client, annotated with
//! `#[instrument_errors(kind = server, http)]` and
//! `#[instrument_errors(kind = client, http)]`, running against each other on
//! loopback. The client injects its context into the request headers and the
//! server continues it (`parent = extract_context(&headers)`), so each client
//! span and the server span it caused are one trace. It prints each call's
//! outcome, then every trace with its spans, then the duration points.
//!
//! The handlers return the shapes axum code returns:
//!
//! * `Result<Json<Item>, AppError>`, a thiserror enum with `ErrorType` and
//!   `ResponseStatus`: `404` is handled by the server (status Unset, a `DEBUG`
//!   record), `503` is a failure with the error's own `error.type`;
//! * `Result<Json<Item>, (StatusCode, String)>`: a `400` is handled, a `500`
//!   a failure with the message as description;
//! * a bare `StatusCode`: a `503` is a failure without an exception;
//! * a handler calling an `anyhow::Result` operation.
//!
//! For the client, a status `>= 400` is a failure; a refused connection is
//! an `Err` whose `error.type` is its cause's
//! (`std::io::ErrorKind::ConnectionRefused`). Every span and duration point
//! with a response carries `http.response.status_code`, and the
//! `metric_attributes` (`http.request.method`, `http.route`).
//!
//! Run it with `cargo run -p instrument-errors-examples --bin http_service`.
//! The spans and metric points are kept in memory and printed at the end; an
//! application installs an OTLP exporter instead.

use std::collections::BTreeMap;

use anyhow::Context as _;
use axum::extract::{Json, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use instrument_errors::http::{extract_context, inject_context, ResponseStatus};
use instrument_errors::{instrument_errors, ErrorType};
use opentelemetry::global;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Item {
    name: String,
}

/// The service's error: its `error.type` (`ErrorType`) and the status it
/// answers with (`ResponseStatus`, read by the `http` flag).
#[derive(Debug, thiserror::Error, ErrorType)]
enum AppError {
    #[error("no item {0}")]
    NotFound(u32),
    #[error("the store is unavailable")]
    #[error_type("store_unavailable")]
    Unavailable,
    #[error("the report failed: {0}")]
    #[error_type(transparent)]
    Report(anyhow::Error),
}

impl ResponseStatus for AppError {
    fn response_status(&self) -> Option<StatusCode> {
        Some(match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Report(_) => StatusCode::INTERNAL_SERVER_ERROR,
        })
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

/// `GET /items/{id}`: item 1 exists, item 0's store is unavailable, any
/// other item is not found.
#[instrument_errors(
    name = "GET /items/{id}",
    kind = server, http,
    metric = "http.server.request.duration",
    metric_attributes("http.request.method" = "GET", "http.route" = "/items/{id}"),
    parent = extract_context(&headers),
)]
async fn get_item(headers: HeaderMap, Path(id): Path<u32>) -> Result<Json<Item>, AppError> {
    match id {
        1 => Ok(Json(Item {
            name: "lamp".to_owned(),
        })),
        0 => Err(AppError::Unavailable),
        _ => Err(AppError::NotFound(id)),
    }
}

/// `POST /items`: axum's `(StatusCode, String)` errors.
#[instrument_errors(
    name = "POST /items",
    kind = server, http,
    metric = "http.server.request.duration",
    metric_attributes("http.request.method" = "POST", "http.route" = "/items"),
    parent = extract_context(&headers),
)]
async fn create_item(
    headers: HeaderMap,
    Json(item): Json<Item>,
) -> Result<Json<Item>, (StatusCode, String)> {
    match item.name.as_str() {
        "" => Err((StatusCode::BAD_REQUEST, "the name is empty".to_owned())),
        "crash" => Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            "the store rejected the write".to_owned(),
        )),
        _ => Ok(Json(item)),
    }
}

/// `GET /health`: a bare status.
#[instrument_errors(
    name = "GET /health",
    kind = server, http,
    metric = "http.server.request.duration",
    metric_attributes("http.request.method" = "GET", "http.route" = "/health"),
    parent = extract_context(&headers),
)]
async fn health(headers: HeaderMap) -> StatusCode {
    StatusCode::SERVICE_UNAVAILABLE
}

/// An internal operation with `anyhow`.
#[instrument_errors(name = "report.load")]
fn load_report() -> anyhow::Result<String> {
    std::fs::read_to_string("/nonexistent/report.txt").context("reading the report")
}

/// `GET /report`: the `anyhow` error, wrapped.
#[instrument_errors(
    name = "GET /report",
    kind = server, http,
    metric = "http.server.request.duration",
    metric_attributes("http.request.method" = "GET", "http.route" = "/report"),
    parent = extract_context(&headers),
)]
async fn report(headers: HeaderMap) -> Result<String, AppError> {
    load_report().map_err(AppError::Report)
}

/// The client side of one request, with the context injected.
#[instrument_errors(
    name = "HTTP client",
    kind = client, http,
    metric = "http.client.request.duration",
)]
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, reqwest::Error> {
    let mut headers = HeaderMap::new();
    inject_context(&mut headers);
    request.headers(headers).send().await
}

/// The providers, shut down when dropped: however `main` ends (an `expect`
/// that fails included), what they hold is flushed first.
struct Providers {
    tracer: SdkTracerProvider,
    meter: SdkMeterProvider,
}

impl Drop for Providers {
    fn drop(&mut self) {
        let _ = self.tracer.shutdown();
        let _ = self.meter.shutdown();
    }
}

#[tokio::main]
async fn main() {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    global::set_meter_provider(meter_provider.clone());
    let providers = Providers {
        tracer: tracer_provider,
        meter: meter_provider,
    };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    let app = Router::new()
        .route("/items/{id}", get(get_item))
        .route("/items", post(create_item))
        .route("/health", get(health))
        .route("/report", get(report));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let json = |name: &str| {
        client
            .post(format!("{base}/items"))
            .header("content-type", "application/json")
            .body(format!("{{\"name\":\"{name}\"}}"))
    };
    let requests = [
        ("GET /items/1", client.get(format!("{base}/items/1"))),
        ("GET /items/2", client.get(format!("{base}/items/2"))),
        ("GET /items/0", client.get(format!("{base}/items/0"))),
        ("POST /items lamp", json("lamp")),
        ("POST /items ''", json("")),
        ("POST /items crash", json("crash")),
        ("GET /health", client.get(format!("{base}/health"))),
        ("GET /report", client.get(format!("{base}/report"))),
    ];
    for (what, request) in requests {
        match send(request).await {
            Ok(response) => println!("{what:<20} -> {}", response.status()),
            Err(e) => println!("{what:<20} -> error: {e}"),
        }
    }
    // A port nobody listens on: the client gets no response at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    if let Err(e) = send(client.get(format!("http://{closed}/items/1"))).await {
        println!("{:<20} -> error: {e}", format!("GET {closed}"));
    }

    let _ = providers.tracer.force_flush();
    print_traces(&spans.get_finished_spans().expect("spans"));
    providers.meter.force_flush().expect("flush metrics");
    print_points(&metrics);
}

/// Every trace, its spans as a tree: a client span, then the server span it
/// caused (and what that server called) indented below it.
fn print_traces(spans: &[SpanData]) {
    println!("\n===== traces =====");
    let mut traces: BTreeMap<String, Vec<&SpanData>> = BTreeMap::new();
    for span in spans {
        traces
            .entry(span.span_context.trace_id().to_string())
            .or_default()
            .push(span);
    }
    let mut roots: Vec<(&SpanData, &Vec<&SpanData>)> = traces
        .values()
        .flat_map(|trace| {
            trace
                .iter()
                .filter(|s| {
                    !trace
                        .iter()
                        .any(|p| p.span_context.span_id() == s.parent_span_id)
                })
                .map(move |root| (*root, trace))
        })
        .collect();
    roots.sort_by_key(|(root, _)| root.start_time);
    for (root, trace) in roots {
        println!("trace {}", root.span_context.trace_id());
        print_tree(root, trace, 1);
    }
}

fn print_tree(span: &SpanData, trace: &[&SpanData], depth: usize) {
    let attribute = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map_or_else(|| "-".to_owned(), |kv| kv.value.to_string())
    };
    let status = match &span.status {
        opentelemetry::trace::Status::Error { description } => format!("Error({description:?})"),
        other => format!("{other:?}"),
    };
    println!(
        "{:indent$}{:<18} {:<8} status={:<38} error.type={:<38} http.response.status_code={}",
        "",
        span.name,
        format!("{:?}", span.span_kind),
        status,
        attribute("error.type"),
        attribute("http.response.status_code"),
        indent = depth * 2,
    );
    let mut children: Vec<&&SpanData> = trace
        .iter()
        .filter(|s| s.parent_span_id == span.span_context.span_id())
        .collect();
    children.sort_by_key(|s| s.start_time);
    for child in children {
        print_tree(child, trace, depth + 1);
    }
}

fn print_points(metrics: &InMemoryMetricExporter) {
    println!("\n===== duration points =====");
    let exported = metrics.get_finished_metrics().expect("metrics");
    for scope in exported.last().into_iter().flat_map(|m| m.scope_metrics()) {
        for metric in scope.metrics() {
            let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = metric.data() else {
                continue;
            };
            for point in histogram.data_points() {
                let mut attributes: Vec<String> = point
                    .attributes()
                    .map(|kv| format!("{}={}", kv.key, kv.value))
                    .collect();
                attributes.sort();
                println!(
                    "{:<28} count={} {}",
                    metric.name(),
                    point.count(),
                    attributes.join(" ")
                );
            }
        }
    }
}
