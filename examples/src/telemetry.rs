//! The OpenTelemetry setup of the example: tracer, meter and logger
//! providers, exporting either to in-memory exporters (the readable report)
//! or over OTLP, and the `tracing` bridge that turns the exception events of
//! `#[instrument_errors]` functions into log records.
//!
//! The end-to-end tests build their providers with the same functions.

use std::time::Duration;

use opentelemetry::global;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_otlp::{
    LogExporter, MetricExporter, RetryPolicy, SpanExporter, WithExportConfig as _,
    WithHttpConfig as _, WithTonicConfig as _,
};
use opentelemetry_sdk::logs::{BatchLogProcessor, InMemoryLogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{
    InMemoryMetricExporter, PeriodicReader, SdkMeterProvider, Temporality,
};
use opentelemetry_sdk::trace::{BatchSpanProcessor, InMemorySpanExporter, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::Layer as _;

/// The service name used when `OTEL_SERVICE_NAME` is not set.
pub const DEFAULT_SERVICE_NAME: &str = "instrument-errors-example";

/// The OTLP transport, as `OTEL_EXPORTER_OTLP_PROTOCOL` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `grpc`: OTLP/gRPC (tonic), usually on port 4317.
    Grpc,
    /// `http/protobuf`: OTLP/HTTP with protobuf bodies, usually on port 4318;
    /// the specification's default.
    HttpProtobuf,
}

impl Protocol {
    /// Reads `OTEL_EXPORTER_OTLP_PROTOCOL`: `grpc` or `http/protobuf`,
    /// `http/protobuf` when unset or empty. Anything else (`http/json`
    /// included, which this example does not build) is an error.
    pub fn from_env() -> Result<Protocol, String> {
        match std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL") {
            Err(_) => Ok(Protocol::HttpProtobuf),
            Ok(value) => match value.trim() {
                "" | "http/protobuf" => Ok(Protocol::HttpProtobuf),
                "grpc" => Ok(Protocol::Grpc),
                other => Err(format!(
                    "OTEL_EXPORTER_OTLP_PROTOCOL={other:?} is not supported by this example: use `grpc` or `http/protobuf`"
                )),
            },
        }
    }

    /// The name `OTEL_EXPORTER_OTLP_PROTOCOL` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// How to export over OTLP. `None` fields keep what `opentelemetry-otlp` and
/// the SDK read from the standard environment variables
/// (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TIMEOUT`,
/// `OTEL_BSP_*`, `OTEL_BLRP_*`, `OTEL_METRIC_EXPORT_INTERVAL`, ...) or their
/// defaults.
#[derive(Debug, Clone)]
pub struct OtlpSettings {
    /// The transport.
    pub protocol: Protocol,
    /// The collector's base address, e.g. `http://127.0.0.1:4318`; for
    /// `http/protobuf` the signal paths `/v1/traces`, `/v1/metrics` and
    /// `/v1/logs` are appended. `None`: `OTEL_EXPORTER_OTLP_ENDPOINT` (and the
    /// per-signal variables), else the default `localhost` address.
    pub endpoint: Option<String>,
    /// The `service.name` resource attribute. `None`: `OTEL_SERVICE_NAME`,
    /// else [`DEFAULT_SERVICE_NAME`].
    pub service_name: Option<String>,
    /// How long one export request may take.
    pub timeout: Option<Duration>,
    /// Retries of a failed export request.
    pub retry_policy: Option<RetryPolicy>,
    /// The delay between two exports of the span and log batch processors.
    pub batch_delay: Option<Duration>,
    /// The capacity of the span and log batch queues: what is recorded while
    /// the queue is full is dropped, so this bounds the memory held for an
    /// unreachable collector.
    pub max_queue_size: Option<usize>,
    /// The interval of the periodic metric reader.
    pub metric_interval: Option<Duration>,
}

impl OtlpSettings {
    /// The settings the example runs with: `None` when
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` is unset or empty (no OTLP
    /// configuration), else the protocol from `OTEL_EXPORTER_OTLP_PROTOCOL`
    /// and everything else from the environment.
    pub fn from_env() -> Option<Result<OtlpSettings, String>> {
        let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok()?;
        if endpoint.trim().is_empty() {
            return None;
        }
        Some(Protocol::from_env().map(OtlpSettings::new))
    }

    /// Settings for `protocol` with every other field left to the
    /// environment and the defaults.
    pub fn new(protocol: Protocol) -> OtlpSettings {
        OtlpSettings {
            protocol,
            endpoint: None,
            service_name: None,
            timeout: None,
            retry_policy: None,
            batch_delay: None,
            max_queue_size: None,
            metric_interval: None,
        }
    }

    fn resource(&self) -> Resource {
        let name = self.service_name.clone().or_else(|| {
            let from_env = std::env::var("OTEL_SERVICE_NAME").unwrap_or_default();
            from_env
                .trim()
                .is_empty()
                .then(|| DEFAULT_SERVICE_NAME.to_owned())
        });
        match name {
            Some(name) => Resource::builder().with_service_name(name).build(),
            // `Resource::builder()` reads OTEL_SERVICE_NAME itself.
            None => Resource::builder().build(),
        }
    }

    fn http_endpoint(&self, path: &str) -> Option<String> {
        self.endpoint
            .as_ref()
            .map(|base| format!("{}{path}", base.trim_end_matches('/')))
    }
}

/// An error while building the OTLP exporters.
pub type BuildError = opentelemetry_otlp::ExporterBuildError;

/// The three providers of an application. Call [`Pipeline::install`] once,
/// at start-up, and hold the [`ShutdownGuard`] of [`Pipeline::guard`] in
/// `main`: it shuts the providers down however `main` ends (at its end, an
/// early `return`, a `?`), so that nothing recorded is lost.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Spans.
    pub tracer_provider: SdkTracerProvider,
    /// Duration histograms.
    pub meter_provider: SdkMeterProvider,
    /// Exception log records.
    pub logger_provider: SdkLoggerProvider,
}

/// The exporters behind [`Pipeline::in_memory`], to read what was recorded.
#[derive(Debug, Clone)]
pub struct InMemory {
    /// Finished spans (exported as they end).
    pub spans: InMemorySpanExporter,
    /// Metric data, with delta temporality: each flush of the meter provider
    /// holds the points recorded since the previous one.
    pub metrics: InMemoryMetricExporter,
    /// Log records (exported as they are emitted).
    pub logs: InMemoryLogExporter,
}

impl Pipeline {
    /// Providers that export over OTLP with `settings`: batch span and log
    /// processors and a periodic metric reader, each with its own bounded
    /// queue or interval, none of which blocks an instrumented call.
    ///
    /// With [`Protocol::Grpc`], call it inside a tokio runtime (after
    /// `Runtime::enter`, or in async code) and keep that runtime running
    /// until [`Pipeline::shutdown`] returns: the gRPC channel's connection
    /// task runs on it. `http/protobuf` uses a blocking HTTP client on the
    /// processors' own threads and needs no runtime.
    pub fn otlp(settings: &OtlpSettings) -> Result<Pipeline, BuildError> {
        let (spans, metrics, logs) = match settings.protocol {
            Protocol::Grpc => {
                let mut spans = SpanExporter::builder().with_tonic();
                let mut metrics = MetricExporter::builder().with_tonic();
                let mut logs = LogExporter::builder().with_tonic();
                if let Some(endpoint) = &settings.endpoint {
                    spans = spans.with_endpoint(endpoint);
                    metrics = metrics.with_endpoint(endpoint);
                    logs = logs.with_endpoint(endpoint);
                }
                if let Some(timeout) = settings.timeout {
                    spans = spans.with_timeout(timeout);
                    metrics = metrics.with_timeout(timeout);
                    logs = logs.with_timeout(timeout);
                }
                if let Some(policy) = &settings.retry_policy {
                    spans = spans.with_retry_policy(policy.clone());
                    metrics = metrics.with_retry_policy(policy.clone());
                    logs = logs.with_retry_policy(policy.clone());
                }
                (spans.build()?, metrics.build()?, logs.build()?)
            }
            Protocol::HttpProtobuf => {
                let protocol = opentelemetry_otlp::Protocol::HttpBinary;
                let mut spans = SpanExporter::builder().with_http().with_protocol(protocol);
                let mut metrics = MetricExporter::builder()
                    .with_http()
                    .with_protocol(protocol);
                let mut logs = LogExporter::builder().with_http().with_protocol(protocol);
                if let Some(endpoint) = settings.http_endpoint("/v1/traces") {
                    spans = spans.with_endpoint(endpoint);
                }
                if let Some(endpoint) = settings.http_endpoint("/v1/metrics") {
                    metrics = metrics.with_endpoint(endpoint);
                }
                if let Some(endpoint) = settings.http_endpoint("/v1/logs") {
                    logs = logs.with_endpoint(endpoint);
                }
                if let Some(timeout) = settings.timeout {
                    spans = spans.with_timeout(timeout);
                    metrics = metrics.with_timeout(timeout);
                    logs = logs.with_timeout(timeout);
                }
                if let Some(policy) = &settings.retry_policy {
                    spans = spans.with_retry_policy(policy.clone());
                    metrics = metrics.with_retry_policy(policy.clone());
                    logs = logs.with_retry_policy(policy.clone());
                }
                (spans.build()?, metrics.build()?, logs.build()?)
            }
        };
        let resource = settings.resource();

        let mut span_config = opentelemetry_sdk::trace::BatchConfigBuilder::default();
        let mut log_config = opentelemetry_sdk::logs::BatchConfigBuilder::default();
        if let Some(delay) = settings.batch_delay {
            span_config = span_config.with_scheduled_delay(delay);
            log_config = log_config.with_scheduled_delay(delay);
        }
        if let Some(size) = settings.max_queue_size {
            span_config = span_config
                .with_max_queue_size(size)
                .with_max_export_batch_size(size.min(512));
            log_config = log_config
                .with_max_queue_size(size)
                .with_max_export_batch_size(size.min(512));
        }
        let tracer_provider = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_span_processor(
                BatchSpanProcessor::builder(spans)
                    .with_batch_config(span_config.build())
                    .build(),
            )
            .build();

        let mut reader = PeriodicReader::builder(metrics);
        if let Some(interval) = settings.metric_interval {
            reader = reader.with_interval(interval);
        }
        let meter_provider = SdkMeterProvider::builder()
            .with_resource(resource.clone())
            .with_reader(reader.build())
            .build();

        let logger_provider = SdkLoggerProvider::builder()
            .with_resource(resource)
            .with_log_processor(
                BatchLogProcessor::builder(logs)
                    .with_batch_config(log_config.build())
                    .build(),
            )
            .build();

        Ok(Pipeline {
            tracer_provider,
            meter_provider,
            logger_provider,
        })
    }

    /// Providers that keep everything in memory, for the readable report.
    /// With `raw`, each signal is also printed by `opentelemetry-stdout`'s
    /// exporters, as the SDK hands it over.
    pub fn in_memory(raw: bool) -> (Pipeline, InMemory) {
        let memory = InMemory {
            spans: InMemorySpanExporter::default(),
            metrics: opentelemetry_sdk::metrics::InMemoryMetricExporterBuilder::new()
                .with_temporality(Temporality::Delta)
                .build(),
            logs: InMemoryLogExporter::default(),
        };
        let resource = OtlpSettings::new(Protocol::HttpProtobuf).resource();

        let mut traces = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_simple_exporter(memory.spans.clone());
        let mut metrics = SdkMeterProvider::builder()
            .with_resource(resource.clone())
            .with_reader(PeriodicReader::builder(memory.metrics.clone()).build());
        let mut logs = SdkLoggerProvider::builder()
            .with_resource(resource)
            .with_simple_exporter(memory.logs.clone());
        if raw {
            traces = traces.with_simple_exporter(opentelemetry_stdout::SpanExporter::default());
            metrics = metrics.with_reader(
                PeriodicReader::builder(
                    opentelemetry_stdout::MetricExporter::builder()
                        .with_temporality(Temporality::Delta)
                        .build(),
                )
                .build(),
            );
            logs = logs.with_simple_exporter(opentelemetry_stdout::LogExporter::default());
        }
        let pipeline = Pipeline {
            tracer_provider: traces.build(),
            meter_provider: metrics.build(),
            logger_provider: logs.build(),
        };
        (pipeline, memory)
    }

    /// Installs the tracer and meter providers as the OpenTelemetry globals,
    /// and a global `tracing` subscriber that bridges `tracing` events into
    /// the logger provider, so that the exception events of
    /// `#[instrument_errors]` functions become log records stamped with their
    /// span's trace id and span id.
    ///
    /// The OpenTelemetry crates report their own diagnostics as `tracing`
    /// events (targets `opentelemetry*`, e.g. an unreachable collector), and
    /// so do the HTTP and gRPC stacks the exporters and the example's
    /// service use (`axum`, `tower`, `tower_http`, `hyper`, `h2`, `tonic`,
    /// `reqwest`): they are kept out of the bridge, or every export would log
    /// records about itself, which would be exported in turn. With `sdk_warnings`, the OpenTelemetry ones at WARN and above
    /// are printed to stderr.
    ///
    /// Call it once, at start-up (a function first called before still
    /// records from its next call), then hold [`Pipeline::guard`].
    ///
    /// # Errors
    ///
    /// When a global `tracing` subscriber is already installed.
    pub fn install(
        &self,
        sdk_warnings: bool,
    ) -> Result<(), instrument_errors::tracing::subscriber::SetGlobalDefaultError> {
        global::set_tracer_provider(self.tracer_provider.clone());
        global::set_meter_provider(self.meter_provider.clone());
        let mut bridged = Targets::new().with_default(LevelFilter::TRACE);
        for target in NOT_BRIDGED {
            bridged = bridged.with_target(target, LevelFilter::OFF);
        }
        let bridge = OpenTelemetryTracingBridge::new(&self.logger_provider).with_filter(bridged);
        let diagnostics = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(Targets::new().with_target(
                "opentelemetry",
                if sdk_warnings {
                    LevelFilter::WARN
                } else {
                    LevelFilter::OFF
                },
            ));
        let subscriber = tracing_subscriber::registry()
            .with(bridge)
            .with(diagnostics);
        instrument_errors::tracing::subscriber::set_global_default(subscriber)
    }

    /// A guard that calls [`Pipeline::shutdown`] when dropped.
    pub fn guard(self) -> ShutdownGuard {
        ShutdownGuard {
            pipeline: self,
            done: false,
        }
    }

    /// Flushes and shuts down the three providers (traces, then metrics, then
    /// logs), so that a short run loses nothing. Every provider is shut down
    /// even when another fails; the errors are returned together.
    pub fn shutdown(&self) -> Result<(), String> {
        let errors: Vec<String> = [
            ("traces", self.tracer_provider.shutdown()),
            ("metrics", self.meter_provider.shutdown()),
            ("logs", self.logger_provider.shutdown()),
        ]
        .into_iter()
        .filter_map(|(signal, result)| result.err().map(|e| format!("{signal}: {e}")))
        .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// Shuts the providers of a [`Pipeline`] down when dropped (made by
/// [`Pipeline::guard`]).
///
/// The globals hold clones of the providers, which are never dropped: without
/// a shutdown, what the batch processors and the periodic metric reader still
/// hold is lost when the process exits. Held in `main`, the guard is dropped
/// on every way out of it, `?` included.
#[derive(Debug)]
#[must_use = "dropping the guard shuts the providers down at once"]
pub struct ShutdownGuard {
    pipeline: Pipeline,
    done: bool,
}

impl ShutdownGuard {
    /// The providers.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Shuts the providers down now and says how it went; dropping the guard
    /// does the same and prints the errors to stderr.
    pub fn shutdown(mut self) -> Result<(), String> {
        self.done = true;
        self.pipeline.shutdown()
    }
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.pipeline.shutdown() {
                eprintln!("telemetry shutdown: {e}");
            }
        }
    }
}

/// Targets kept out of the logs bridge: the OpenTelemetry crates'
/// diagnostics, the crates the OTLP exporters send with, whose `tracing`
/// events would otherwise become log records about each export, and the web
/// stack the example serves with (axum's `TRACE` events of every request).
const NOT_BRIDGED: [&str; 9] = [
    "opentelemetry",
    "axum",
    "tower",
    "tower_http",
    "hyper",
    "h2",
    "tonic",
    "reqwest",
    "tokio",
];

#[cfg(test)]
mod readme_filter {
    /// The README's setup keeps the same stack out of the logs bridge as the
    /// example does (issue 19: axum's `TRACE` events were exported).
    #[test]
    fn the_readme_filters_the_stack_the_examples_use() {
        let readme = include_str!("../../README.md");
        let line = readme
            .lines()
            .find(|l| l.trim_start().starts_with("let quiet = ["))
            .expect("the README's filter list");
        for target in super::NOT_BRIDGED.iter().filter(|t| **t != "tokio") {
            assert!(
                line.contains(&format!("\"{target}\"")),
                "{target} in {line}"
            );
        }
    }
}
