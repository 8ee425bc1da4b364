//! An axum service and its hyper client, both annotated with
//! `#[instrument_errors]` and the `instrument_errors::http` helpers, running
//! against each other on loopback. It prints each call's outcome, then the
//! spans and duration points they recorded:
//!
//! * server (`kind = server`, `error_if = server_error`): `200` and `404` are
//!   successes (status Unset, no `error.type`), `503` is a failure with
//!   `error.type` `"503"` and no description;
//! * client (`kind = client`, `error_if = client_error`): `404` and `503` are
//!   failures; a refused connection is an `Err`, classified as any error
//!   (its type name as `error.type`, its message as description);
//! * every span with a response carries `http.response.status_code`.
//!
//! Run it with `cargo run -p instrument-errors-examples --bin http_service`.
//!
//! The spans and metric points are kept in memory and printed in a compact
//! form at the end; an application installs an OTLP (or stdout) exporter
//! instead.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http_body_util::Empty;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instrument_errors::instrument_errors;
use opentelemetry::global;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// `GET /items/{id}`: item 1 exists, item 0's store is unavailable, any
/// other item is not found.
#[instrument_errors(
    name = "GET /items/{id}",
    kind = server,
    metric = "http.server.request.duration",
    error_if = instrument_errors::http::server_error,
    result_attributes = instrument_errors::http::response_attributes,
)]
async fn get_item(Path(id): Path<u32>) -> Response {
    match id {
        1 => "item 1".into_response(),
        0 => (StatusCode::SERVICE_UNAVAILABLE, "the store is down").into_response(),
        _ => (StatusCode::NOT_FOUND, format!("no item {id}")).into_response(),
    }
}

/// The client side of one `GET`.
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
    let app = Router::new().route("/items/{id}", get(get_item));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    for id in [1, 2, 0] {
        let uri: Uri = format!("http://{addr}/items/{id}").parse().expect("uri");
        match fetch(&client, uri).await {
            Ok(response) => println!("GET /items/{id} -> {}", response.status()),
            Err(e) => println!("GET /items/{id} -> error: {e}"),
        }
    }
    // A port nobody listens on: the client gets no response at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let uri: Uri = format!("http://{closed}/items/1").parse().expect("uri");
    if let Err(e) = fetch(&client, uri).await {
        println!("GET {closed} -> error: {e}");
    }

    println!("\n===== spans =====");
    let _ = providers.tracer.force_flush();
    for span in spans.get_finished_spans().expect("spans") {
        let attribute = |key: &str| {
            span.attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map_or_else(|| "-".to_owned(), |kv| kv.value.to_string())
        };
        println!(
            "{:<16} {:<7} status={:<32} error.type={:<40} http.response.status_code={}",
            span.name,
            format!("{:?}", span.span_kind),
            format!("{:?}", span.status),
            attribute("error.type"),
            attribute("http.response.status_code"),
        );
    }

    println!("\n===== duration points =====");
    providers.meter.force_flush().expect("flush metrics");
    let exported = metrics.get_finished_metrics().expect("metrics");
    for scope in exported.last().into_iter().flat_map(|m| m.scope_metrics()) {
        for metric in scope.metrics() {
            let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = metric.data() else {
                continue;
            };
            for point in histogram.data_points() {
                let error_type = point
                    .attributes()
                    .find(|kv| kv.key.as_str() == "error.type")
                    .map_or_else(|| "-".to_owned(), |kv| kv.value.to_string());
                println!(
                    "{:<30} error.type={:<40} count={}",
                    metric.name(),
                    error_type,
                    point.count()
                );
            }
        }
    }
}
