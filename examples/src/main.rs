//! A small resource store annotated with `#[instrument_errors]`. It installs
//! the OpenTelemetry SDK with stdout exporters, runs a few operations (a
//! success, a handled error, a propagated error, an `Ok` value that is a
//! failure), then an async order service on tokio (nested calls, a
//! propagated error, a timeout), and prints the spans, metric points and
//! exception log records they produced.
//!
//! Run it with `cargo run -p instrument-errors-examples`.

mod async_service;
mod logs;

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use instrument_errors::{instrument_errors, ErrorType};
use opentelemetry::global;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Errors of the store. `error.type` is the variant name in snake_case, or
/// the literal given with `#[error_type]`.
#[derive(Debug, ErrorType)]
enum StoreError {
    #[error_type("timeout")]
    TimedOut,
    NotFound,
    AlreadyExists,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreError::TimedOut => "the store did not answer within 2s",
            StoreError::NotFound => "no such resource",
            StoreError::AlreadyExists => "the resource already exists",
        })
    }
}

impl std::error::Error for StoreError {}

fn is_already_exists(e: &StoreError) -> bool {
    matches!(e, StoreError::AlreadyExists)
}

/// A health probe's answer.
#[derive(Debug)]
struct Health {
    status: u16,
}

struct Store {
    items: Mutex<HashMap<String, String>>,
}

impl Store {
    /// Creating a resource that exists is not a failure for this caller.
    #[instrument_errors(
        name = "acme.resource.create",
        kind = client,
        metric = "acme.resource.create.duration",
        ok_if = is_already_exists,
        attributes("acme.resource.id" = id),
    )]
    fn create(&self, id: &str, value: &str) -> Result<(), StoreError> {
        let mut items = self.items.lock().expect("not poisoned");
        if items.contains_key(id) {
            return Err(StoreError::AlreadyExists);
        }
        items.insert(id.to_owned(), value.to_owned());
        Ok(())
    }

    #[instrument_errors(name = "acme.resource.get", kind = client)]
    fn get(&self, id: &str) -> Result<String, StoreError> {
        self.items
            .lock()
            .expect("not poisoned")
            .get(id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    /// A request handler: the store's error propagates with `?`.
    #[instrument_errors(name = "GET /resources/{id}", kind = server)]
    fn handle_get(&self, id: &str) -> Result<String, StoreError> {
        let value = self.get(id)?;
        Ok(value.to_uppercase())
    }

    /// The probe returns `Ok` either way; a 5xx answer is a failure.
    #[instrument_errors(
        name = "acme.health",
        error_if = |h: &Health| (h.status >= 500).then(|| h.status.to_string()),
    )]
    fn health(&self, status: u16) -> Result<Health, StoreError> {
        if status == 0 {
            return Err(StoreError::TimedOut);
        }
        Ok(Health { status })
    }
}

fn main() {
    let logger_provider = logs::install_logs();
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(opentelemetry_stdout::MetricExporter::default()).build(),
        )
        .build();
    global::set_meter_provider(meter_provider.clone());

    let store = Store {
        items: Mutex::new(HashMap::new()),
    };
    println!("create r-1: {:?}", store.create("r-1", "first"));
    println!(
        "create r-1 again (handled): {:?}",
        store.create("r-1", "again")
    );
    println!("GET r-1: {:?}", store.handle_get("r-1"));
    println!("GET r-2 (propagated error): {:?}", store.handle_get("r-2"));
    println!("health 200: {:?}", store.health(200).map(|h| h.status));
    println!(
        "health 503 (error_if): {:?}",
        store.health(503).map(|h| h.status)
    );
    println!("health timeout: {:?}", store.health(0).map(|h| h.status));

    // The async part: a tokio service with nested instrumented calls and a timeout.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(async_service::run());

    println!("\n===== telemetry =====");
    if let Err(e) = tracer_provider.shutdown() {
        eprintln!("tracer shutdown: {e}");
    }
    if let Err(e) = meter_provider.shutdown() {
        eprintln!("meter shutdown: {e}");
    }
    if let Err(e) = logger_provider.shutdown() {
        eprintln!("logger shutdown: {e}");
    }
}
