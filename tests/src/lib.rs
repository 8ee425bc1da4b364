//! Test support: the OpenTelemetry SDK installed as the global providers, with
//! in-memory exporters, and helpers that read what was exported.
//!
//! Every integration test binary calls [`telemetry`] before its first
//! instrumented call (instrument-errors resolves providers at a call site's
//! first call). Tests in one binary share the exporters, so each test uses
//! its own span and metric names and filters by them.

#![warn(missing_docs)]

use std::sync::OnceLock;

use opentelemetry::trace::Status;
use opentelemetry::{global, KeyValue, Value};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt as _;

/// The installed providers and their exporters.
pub struct Telemetry {
    /// Finished spans.
    pub spans: InMemorySpanExporter,
    /// Exported metrics (cumulative).
    pub metrics: InMemoryMetricExporter,
    /// Emitted log records (the bridged `tracing` events).
    pub logs: InMemoryLogExporter,
    /// The global tracer provider.
    pub tracer_provider: SdkTracerProvider,
    /// The global meter provider.
    pub meter_provider: SdkMeterProvider,
    /// The logger provider behind the `tracing` bridge.
    pub logger_provider: SdkLoggerProvider,
}

/// Installs the SDK as the global tracer and meter providers and a global
/// `tracing` subscriber that bridges events into the SDK's logs, once per
/// process, and returns it.
pub fn telemetry() -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(|| {
        let (spans, tracer_provider, metrics, meter_provider) = install_traces_and_metrics();
        let (logs, logger_provider) = install_logs();

        Telemetry {
            spans,
            metrics,
            logs,
            tracer_provider,
            meter_provider,
            logger_provider,
        }
    })
}

/// One exported histogram data point, reduced to what tests compare.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Attributes, sorted by key.
    pub attributes: Vec<(String, String)>,
    /// Number of recorded durations.
    pub count: u64,
    /// Sum of the recorded durations, in seconds.
    pub sum: f64,
    /// Bucket boundaries.
    pub bounds: Vec<f64>,
    /// The histogram's unit.
    pub unit: String,
    /// The instrumentation scope's name.
    pub scope: String,
}

impl Point {
    /// The value of attribute `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One exported log record, reduced to what tests compare.
#[derive(Debug, Clone)]
pub struct Log {
    /// The record's event name (`<span name>.exception`).
    pub event_name: Option<String>,
    /// Severity number.
    pub severity: Option<opentelemetry::logs::Severity>,
    /// Attributes, sorted by key.
    pub attributes: Vec<(String, String)>,
    /// Trace id of the context the record was emitted in.
    pub trace_id: Option<opentelemetry::trace::TraceId>,
    /// Span id of the context the record was emitted in.
    pub span_id: Option<opentelemetry::trace::SpanId>,
    /// The record's body (the event's `message`), as a string.
    pub body: Option<String>,
    /// The record's `Timestamp`.
    pub timestamp: Option<std::time::SystemTime>,
    /// The record's `ObservedTimestamp`.
    pub observed_timestamp: Option<std::time::SystemTime>,
}

impl Log {
    /// The value of attribute `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl Telemetry {
    /// Finished spans named `name`, in the order they ended.
    pub fn spans_named(&self, name: &str) -> Vec<SpanData> {
        let _ = self.tracer_provider.force_flush();
        self.spans
            .get_finished_spans()
            .expect("spans")
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }

    /// The single finished span named `name`.
    pub fn span(&self, name: &str) -> SpanData {
        let mut spans = self.spans_named(name);
        assert_eq!(spans.len(), 1, "expected one span named {name}");
        spans.remove(0)
    }

    /// The cumulative data points of histogram `metric` whose attributes
    /// include `filter`.
    pub fn points(&self, metric: &str, filter: &[(&str, &str)]) -> Vec<Point> {
        self.meter_provider.force_flush().expect("flush metrics");
        let exported = self.metrics.get_finished_metrics().expect("metrics");
        let Some(latest) = exported.last() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for scope in latest.scope_metrics() {
            for m in scope.metrics().filter(|m| m.name() == metric) {
                let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() else {
                    panic!("{metric} is not an f64 histogram");
                };
                for dp in h.data_points() {
                    let mut attributes: Vec<(String, String)> = dp
                        .attributes()
                        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                        .collect();
                    attributes.sort();
                    let point = Point {
                        attributes,
                        count: dp.count(),
                        sum: dp.sum(),
                        bounds: dp.bounds().collect(),
                        unit: m.unit().to_owned(),
                        scope: scope.scope().name().to_owned(),
                    };
                    if filter.iter().all(|(k, v)| point.get(k) == Some(v)) {
                        out.push(point);
                    }
                }
            }
        }
        out
    }

    /// Exported log records whose event name is `event_name`.
    pub fn logs_named(&self, event_name: &str) -> Vec<Log> {
        logs_named(&self.logger_provider, &self.logs, event_name)
    }
}

/// A global `tracing` subscriber that bridges events into the SDK's logs, and
/// no OpenTelemetry tracer or meter provider: an application that only logs.
pub struct LogsOnly {
    /// Emitted log records (the bridged `tracing` events).
    pub logs: InMemoryLogExporter,
    /// The logger provider behind the `tracing` bridge.
    pub logger_provider: SdkLoggerProvider,
}

/// Installs [`LogsOnly`] once per process (never together with
/// [`telemetry`]) and returns it.
pub fn logs_only() -> &'static LogsOnly {
    static LOGS: OnceLock<LogsOnly> = OnceLock::new();
    LOGS.get_or_init(|| {
        let (logs, logger_provider) = install_logs();
        LogsOnly {
            logs,
            logger_provider,
        }
    })
}

/// An SDK logger provider with an in-memory exporter, fed by a global
/// `tracing` subscriber through `opentelemetry-appender-tracing`.
/// Installs the SDK, with in-memory exporters, as the global tracer and
/// meter providers (no `tracing` subscriber), and returns them.
pub fn install_traces_and_metrics() -> (
    InMemorySpanExporter,
    SdkTracerProvider,
    InMemoryMetricExporter,
    SdkMeterProvider,
) {
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
    (spans, tracer_provider, metrics, meter_provider)
}

/// An SDK logger provider exporting to memory, for a `tracing` bridge the
/// caller installs.
pub fn in_memory_logger() -> (InMemoryLogExporter, SdkLoggerProvider) {
    let logs = InMemoryLogExporter::default();
    let logger_provider = SdkLoggerProvider::builder()
        .with_simple_exporter(logs.clone())
        .build();
    (logs, logger_provider)
}

fn install_logs() -> (InMemoryLogExporter, SdkLoggerProvider) {
    let (logs, logger_provider) = in_memory_logger();
    let subscriber =
        tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&logger_provider));
    tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
    (logs, logger_provider)
}

impl LogsOnly {
    /// Exported log records whose event name is `event_name`.
    pub fn logs_named(&self, event_name: &str) -> Vec<Log> {
        logs_named(&self.logger_provider, &self.logs, event_name)
    }
}

fn logs_named(provider: &SdkLoggerProvider, logs: &InMemoryLogExporter, name: &str) -> Vec<Log> {
    let _ = provider.force_flush();
    logs.get_emitted_logs()
        .expect("logs")
        .into_iter()
        .map(|l| log(&l.record))
        .filter(|l| l.event_name.as_deref() == Some(name))
        .collect()
}

fn log(record: &SdkLogRecord) -> Log {
    let mut attributes: Vec<(String, String)> = record
        .attributes_iter()
        .map(|(k, v)| (k.to_string(), any_value(v)))
        .collect();
    attributes.sort();
    Log {
        event_name: record.event_name().map(str::to_owned),
        severity: record.severity_number(),
        attributes,
        trace_id: record.trace_context().map(|t| t.trace_id),
        span_id: record.trace_context().map(|t| t.span_id),
        body: record.body().map(any_value),
        timestamp: record.timestamp(),
        observed_timestamp: record.observed_timestamp(),
    }
}

fn any_value(v: &opentelemetry::logs::AnyValue) -> String {
    match v {
        opentelemetry::logs::AnyValue::String(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

/// The value of attribute `key` on a span.
pub fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv: &&KeyValue| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

/// The span's status description when it is `Error`.
pub fn error_description(span: &SpanData) -> Option<String> {
    match &span.status {
        Status::Error { description } => Some(description.to_string()),
        _ => None,
    }
}

/// A global allocator that counts the live heap, in bytes, for tests of
/// memory growth. Declare it in the test binary and read it with
/// [`LiveHeap::live`]:
///
/// ```ignore
/// #[global_allocator]
/// static ALLOCATOR: LiveHeap = LiveHeap::new();
/// ```
#[derive(Debug)]
pub struct LiveHeap {
    live: std::sync::atomic::AtomicIsize,
}

impl LiveHeap {
    /// An allocator that has counted nothing yet.
    #[must_use]
    pub const fn new() -> Self {
        LiveHeap {
            live: std::sync::atomic::AtomicIsize::new(0),
        }
    }

    /// Bytes allocated and not freed since the program started.
    pub fn live(&self) -> isize {
        self.live.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn add(&self, bytes: isize) {
        self.live
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Default for LiveHeap {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method forwards to `System` and only adds bookkeeping.
#[allow(clippy::cast_possible_wrap)]
unsafe impl std::alloc::GlobalAlloc for LiveHeap {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = std::alloc::System.alloc(layout);
        if !p.is_null() {
            self.add(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = std::alloc::System.alloc_zeroed(layout);
        if !p.is_null() {
            self.add(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        std::alloc::System.dealloc(ptr, layout);
        self.add(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let p = std::alloc::System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            self.add(new_size as isize - layout.size() as isize);
        }
        p
    }
}
