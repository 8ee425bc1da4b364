//! Load: 8 threads × 100 000 calls with a known mix of outcomes. Nothing is
//! lost and nothing is mislabelled: every span's status and `error.type`
//! agree with the outcome the test made (carried in a `test.outcome` span
//! attribute), the histogram counts per `error.type` equal the test's counts,
//! and every exception is logged exactly once with the right `exception.type`.
//!
//! Its own binary: the providers are global and per call site, and a span
//! exporter that verifies and counts replaces the in-memory one (800 000
//! stored spans would be too much).

use std::collections::BTreeMap;
use std::fmt;
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use instrument_errors::{instrument_errors, ErrorType};
use opentelemetry::trace::Status;
use opentelemetry::{global, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt as _;

const THREADS: usize = 8;
const CALLS: usize = 100_000;
const METRIC: &str = "load.duration";

/// What a call is made to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Success,
    Timeout,
    NotFound,
    Handled,
    Rejected,
    Io,
    Boxed,
    Panic,
}

use Outcome::*;

/// The mix: one call in 13 of each rare outcome, the rest successes.
const MIX: [Outcome; 13] = [
    Success, Timeout, Success, NotFound, Handled, Success, Rejected, Io, Success, Boxed, Success,
    Panic, Success,
];

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Success => "success",
            Timeout => "timeout",
            NotFound => "not_found",
            Handled => "handled",
            Rejected => "rejected",
            Io => "io",
            Boxed => "boxed",
            Panic => "panic",
        }
    }

    fn from_name(name: &str) -> Option<Outcome> {
        [
            Success, Timeout, NotFound, Handled, Rejected, Io, Boxed, Panic,
        ]
        .into_iter()
        .find(|o| o.name() == name)
    }

    /// The `error.type` this outcome must be recorded with; `None` for a
    /// success or a handled error.
    fn error_type(self) -> Option<&'static str> {
        match self {
            Success | Handled => None,
            Timeout => Some("timeout"),
            NotFound => Some("not_found"),
            Rejected => Some("rejected"),
            Io => Some("io.Other"),
            Boxed => Some(std::any::type_name::<BoxError>()),
            Panic => Some("panic"),
        }
    }

    /// Whether the outcome is an exception, logged once.
    fn logged(self) -> bool {
        !matches!(self, Success | Handled | Rejected)
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, PartialEq, ErrorType)]
enum StoreError {
    #[error_type("timeout")]
    TimedOut,
    NotFound,
    AlreadyExists,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store: {self:?}")
    }
}

impl std::error::Error for StoreError {}

const REJECT: u32 = u32::MAX;

#[instrument_errors(
    name = "load.store",
    metric = "load.duration",
    ok_if = |e: &StoreError| *e == StoreError::AlreadyExists,
    error_if = |v: &u32| (*v == REJECT).then_some("rejected"),
    attributes("test.outcome" = outcome.name()),
)]
fn store(outcome: Outcome, i: u32) -> Result<u32, StoreError> {
    match outcome {
        Success => Ok(i),
        Timeout => Err(StoreError::TimedOut),
        NotFound => Err(StoreError::NotFound),
        Handled => Err(StoreError::AlreadyExists),
        Rejected => Ok(REJECT),
        Panic => panic!("load panic {i}"),
        Io | Boxed => unreachable!(),
    }
}

// A computed (`String`) `error.type`: the cardinality limit's path, under load.
#[instrument_errors(
    name = "load.io",
    metric = "load.duration",
    error_type = |e: &std::io::Error| format!("io.{:?}", e.kind()),
    attributes("test.outcome" = outcome.name())
)]
fn io(outcome: Outcome, i: u32) -> std::io::Result<u32> {
    match outcome {
        Io => Err(std::io::Error::other(format!("io {i}"))),
        _ => Ok(i),
    }
}

#[instrument_errors(
    name = "load.boxed",
    metric = "load.duration",
    attributes("test.outcome" = outcome.name())
)]
fn boxed(outcome: Outcome, i: u32) -> Result<u32, BoxError> {
    match outcome {
        Boxed => Err(format!("boxed {i}").into()),
        _ => Ok(i),
    }
}

/// Makes one call with `outcome` and checks what the function returned.
fn call(outcome: Outcome, i: u32) {
    match outcome {
        Io => assert_eq!(io(outcome, i).unwrap_err().to_string(), format!("io {i}")),
        Boxed => assert_eq!(
            boxed(outcome, i).unwrap_err().to_string(),
            format!("boxed {i}")
        ),
        Panic => {
            let payload = catch_unwind(|| store(outcome, i)).expect_err("panics");
            assert_eq!(
                payload.downcast_ref::<String>(),
                Some(&format!("load panic {i}"))
            );
        }
        Success => {
            // successes are spread over the three functions
            let got = match i % 3 {
                0 => store(outcome, i).unwrap(),
                1 => io(outcome, i).unwrap(),
                _ => boxed(outcome, i).unwrap(),
            };
            assert_eq!(got, i);
        }
        Timeout => assert_eq!(store(outcome, i), Err(StoreError::TimedOut)),
        NotFound => assert_eq!(store(outcome, i), Err(StoreError::NotFound)),
        Handled => assert_eq!(store(outcome, i), Err(StoreError::AlreadyExists)),
        Rejected => assert_eq!(store(outcome, i), Ok(REJECT)),
    }
}

/// Checks each exported span against its `test.outcome` and counts them.
#[derive(Debug, Default)]
struct Verify {
    by_outcome: Mutex<BTreeMap<Outcome, u64>>,
    wrong: Mutex<Vec<String>>,
    wrong_count: AtomicU64,
}

impl Verify {
    fn check(&self, span: &SpanData) -> Result<Outcome, String> {
        let get = |key: &str| {
            span.attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.clone())
        };
        let outcome = match get("test.outcome") {
            Some(Value::String(s)) => Outcome::from_name(s.as_str()),
            _ => None,
        }
        .ok_or_else(|| format!("no test.outcome on {}", span.name))?;
        let error_type = get("error.type");
        let expected = outcome.error_type();
        let agrees = match (&span.status, expected) {
            (Status::Unset, None) => error_type.is_none(),
            (Status::Error { .. }, Some(t)) => error_type == Some(Value::from(t)),
            _ => false,
        };
        if agrees {
            Ok(outcome)
        } else {
            Err(format!(
                "{outcome:?} on {}: status {:?}, error.type {error_type:?}",
                span.name, span.status
            ))
        }
    }
}

#[derive(Debug, Clone)]
struct VerifyingExporter(Arc<Verify>);

impl SpanExporter for VerifyingExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let mut counts = self.0.by_outcome.lock().unwrap();
        for span in &batch {
            match self.0.check(span) {
                Ok(outcome) => *counts.entry(outcome).or_default() += 1,
                Err(message) => {
                    self.0.wrong_count.fetch_add(1, Ordering::Relaxed);
                    let mut wrong = self.0.wrong.lock().unwrap();
                    if wrong.len() < 10 {
                        wrong.push(message);
                    }
                }
            }
        }
        std::future::ready(Ok(()))
    }
}

/// Counts exception events by `exception.type`.
#[derive(Default)]
struct ExceptionCounter(Mutex<BTreeMap<String, u64>>);

struct TypeField(Option<String>);

impl tracing::field::Visit for TypeField {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "exception.type" {
            self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn fmt::Debug) {}
}

struct Layer(Arc<ExceptionCounter>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Layer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if !event.metadata().name().ends_with(".exception") {
            return;
        }
        let mut visitor = TypeField(None);
        event.record(&mut visitor);
        let key = visitor.0.unwrap_or_else(|| "<none>".to_owned());
        *self.0 .0.lock().unwrap().entry(key).or_default() += 1;
    }
}

#[test]
fn nothing_lost_nothing_mislabelled() {
    // Panics are part of the mix; the default hook would print 60 000 of
    // them. Other panics (a failed assertion) are still printed.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let expected = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|m| m.starts_with("load panic"));
        if !expected {
            default(info);
        }
    }));

    let verify = Arc::new(Verify::default());
    // A simple processor hands every span to the exporter before `end()`
    // returns: nothing can be dropped (a batch processor drops when its
    // queue is full). The threads contend on its lock, which is fine here.
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(VerifyingExporter(Arc::clone(&verify)))
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    global::set_meter_provider(meter_provider.clone());
    let exceptions = Arc::new(ExceptionCounter::default());
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(Layer(Arc::clone(&exceptions))),
    )
    .unwrap();

    let made: BTreeMap<Outcome, u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut made = BTreeMap::<Outcome, u64>::new();
                    for i in 0..CALLS {
                        let outcome = MIX[(i + t) % MIX.len()];
                        call(outcome, u32::try_from(i).unwrap());
                        *made.entry(outcome).or_default() += 1;
                    }
                    made
                })
            })
            .collect();
        let mut all = BTreeMap::new();
        for h in handles {
            for (o, n) in h.join().expect("a load thread failed") {
                *all.entry(o).or_default() += n;
            }
        }
        all
    });
    assert_eq!(made.values().sum::<u64>(), (THREADS * CALLS) as u64);

    // Spans: every one exported, every one labelled as its outcome.
    tracer_provider.force_flush().unwrap();
    assert_eq!(
        verify.wrong_count.load(Ordering::Relaxed),
        0,
        "mislabelled spans, first ones: {:#?}",
        verify.wrong.lock().unwrap()
    );
    assert_eq!(
        *verify.by_outcome.lock().unwrap(),
        made,
        "spans per outcome"
    );

    // Metric: the counts per error.type ("" = none) are the counts made.
    let mut expected_points = BTreeMap::<String, u64>::new();
    let mut expected_logs = BTreeMap::<String, u64>::new();
    for (outcome, n) in &made {
        let t = outcome.error_type().unwrap_or("").to_owned();
        *expected_points.entry(t.clone()).or_default() += n;
        if outcome.logged() {
            *expected_logs.entry(t).or_default() += n;
        }
    }
    meter_provider.force_flush().unwrap();
    let exported = metrics.get_finished_metrics().unwrap();
    let latest = exported.last().expect("a metric export");
    let mut points = BTreeMap::<String, u64>::new();
    for scope in latest.scope_metrics() {
        for m in scope.metrics().filter(|m| m.name() == METRIC) {
            let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() else {
                panic!("{METRIC} is not an f64 histogram");
            };
            for dp in h.data_points() {
                let t = dp
                    .attributes()
                    .find(|kv| kv.key.as_str() == "error.type")
                    .map(|kv| kv.value.to_string())
                    .unwrap_or_default();
                *points.entry(t).or_default() += dp.count();
            }
        }
    }
    assert_eq!(points, expected_points, "histogram counts per error.type");

    // Logs: one exception event per exception, with its error.type.
    assert_eq!(
        *exceptions.0.lock().unwrap(),
        expected_logs,
        "exception events per exception.type"
    );
}
