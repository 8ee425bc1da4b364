//! Exception log records for the example: `tracing` events routed into the
//! OpenTelemetry SDK's logs, printed to stdout.

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::Layer as _;

/// Builds a logger provider that prints log records to stdout (batched: they
/// appear when the provider is flushed or shut down) and installs a
/// global `tracing` subscriber that bridges `tracing` events into it, so that
/// the exception events of `#[instrument_errors]` functions become log
/// records stamped with their span's trace id and span id.
///
/// The OpenTelemetry crates report their own diagnostics as `tracing` events
/// (targets `opentelemetry*`); they are left out of the bridge so that only
/// the application's records are printed.
///
/// Call it once, before the first instrumented call, and keep the returned
/// provider: call `shutdown()` (or `force_flush()`) on it before exiting.
///
/// # Panics
///
/// When a global `tracing` subscriber is already installed.
pub fn install_logs() -> SdkLoggerProvider {
    let provider = SdkLoggerProvider::builder()
        .with_batch_exporter(opentelemetry_stdout::LogExporter::default())
        .build();
    let bridge = OpenTelemetryTracingBridge::new(&provider).with_filter(filter_fn(|meta| {
        !meta.target().starts_with("opentelemetry")
    }));
    let subscriber = tracing_subscriber::registry().with(bridge);
    instrument_errors::tracing::subscriber::set_global_default(subscriber)
        .expect("no other global tracing subscriber is installed");
    provider
}
