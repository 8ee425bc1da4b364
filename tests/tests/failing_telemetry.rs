//! Failing telemetry: exporters that return errors or block, providers that
//! were shut down, providers swapped while calls are in flight. The
//! instrumented functions return exactly what they would without the
//! attribute, nothing panics, and memory stays bounded.
//!
//! The tests install global providers and measure live heap with a counting
//! allocator, so they run one at a time (`SERIAL`); each uses its own
//! instrumented functions, whose call sites resolve the providers installed
//! at their first call.

use std::future::Future;
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use instrument_errors::{instrument_errors, ErrorType};
use opentelemetry::global;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    InMemoryMetricExporter, PeriodicReader, SdkMeterProvider, Temporality,
};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, InMemorySpanExporter, SdkTracerProvider, SpanData,
    SpanExporter,
};
use tracing_subscriber::layer::SubscriberExt as _;

// ---- live heap -------------------------------------------------------------------

#[global_allocator]
static ALLOCATOR: instrument_errors_tests::LiveHeap = instrument_errors_tests::LiveHeap::new();

fn live() -> isize {
    ALLOCATOR.live()
}

/// One test at a time, with the exception-log pipeline (whose exporter
/// fails) installed once for the process.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    static LOGS: OnceLock<SdkLoggerProvider> = OnceLock::new();
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    LOGS.get_or_init(|| {
        // The panics the tests ask for are expected: do not print them.
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&"asked to panic") {
                default(info);
            }
        }));
        let provider = SdkLoggerProvider::builder()
            .with_simple_exporter(FailingLogs)
            .build();
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&provider)),
        )
        .unwrap();
        provider
    });
    guard
}

// ---- exporters -------------------------------------------------------------------

fn failure() -> OTelSdkError {
    OTelSdkError::InternalFailure("the collector is down".into())
}

/// Fails every export; counts the spans it was given.
#[derive(Debug, Default, Clone)]
struct FailingSpans(Arc<AtomicU64>);
impl SpanExporter for FailingSpans {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        std::future::ready(Err(failure()))
    }
}

#[derive(Debug)]
struct FailingLogs;
impl LogExporter for FailingLogs {
    fn export(&self, _: LogBatch<'_>) -> impl Future<Output = OTelSdkResult> + Send {
        std::future::ready(Err(failure()))
    }
}

#[derive(Debug)]
struct FailingMetrics;
impl PushMetricExporter for FailingMetrics {
    fn export(&self, _: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        std::future::ready(Err(failure()))
    }
    fn force_flush(&self) -> OTelSdkResult {
        Err(failure())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Err(failure())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// Sleeps in every export, like an exporter waiting on a slow network.
#[derive(Debug, Clone)]
struct BlockingSpans {
    sleep: Duration,
    exported: Arc<AtomicU64>,
}
impl SpanExporter for BlockingSpans {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        std::thread::sleep(self.sleep);
        self.exported
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        std::future::ready(Ok(()))
    }
}

#[derive(Debug)]
struct DropSpans;
impl SpanExporter for DropSpans {
    fn export(&self, _: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        std::future::ready(Ok(()))
    }
}

#[derive(Debug)]
struct DropMetrics;
impl PushMetricExporter for DropMetrics {
    fn export(&self, _: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        std::future::ready(Ok(()))
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

// ---- the instrumented functions ----------------------------------------------------

#[derive(Debug, PartialEq, ErrorType)]
enum Error {
    Failed(u32),
}
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failed {self:?}")
    }
}
impl std::error::Error for Error {}

/// Instrumented functions with the same body: `Ok(i)` for even `i`, an
/// `Err` for odd `i`, a panic for `i == PANIC`.
const PANIC: u32 = 999_999;
macro_rules! functions {
    ($($name:ident),*) => {$(
        #[instrument_errors(attributes("i" = i64::from(i)))]
        fn $name(i: u32) -> Result<u32, Error> {
            assert!(i != PANIC, "asked to panic");
            if i % 2 == 0 { Ok(i) } else { Err(Error::Failed(i)) }
        }
    )*};
}
functions!(failing_a, blocking_a, batch_a, shut_a);
functions!(swap_a, swap_b, swap_c, swap_d, swap_e, swap_f, swap_g, swap_h);

/// Calls `f` with `i` and checks it returned what the body returns.
fn check(f: fn(u32) -> Result<u32, Error>, i: u32) {
    let expected = if i.is_multiple_of(2) {
        Ok(i)
    } else {
        Err(Error::Failed(i))
    };
    assert_eq!(f(i), expected);
}

fn check_panic(f: fn(u32) -> Result<u32, Error>) {
    let payload = catch_unwind(|| f(PANIC)).expect_err("panics");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"asked to panic"));
}

// ---- tests ---------------------------------------------------------------------------

#[test]
fn exporters_that_fail() {
    let _serial = serial();
    let spans = FailingSpans::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(FailingMetrics).build())
        .build();
    global::set_meter_provider(meter_provider.clone());

    for i in 0..1_000 {
        check(failing_a, i);
    }
    check_panic(failing_a);
    // every span reached the exporter, which refused it
    assert_eq!(spans.0.load(Ordering::Relaxed), 1_001);
    assert!(meter_provider.force_flush().is_err());
    for i in 0..100 {
        check(failing_a, i);
    }
}

#[test]
fn exporters_that_block() {
    let _serial = serial();
    // A simple processor exports on the calling thread: each call waits for
    // the exporter (that is what the application chose); results unchanged.
    let exported = Arc::new(AtomicU64::new(0));
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(BlockingSpans {
            sleep: Duration::from_millis(20),
            exported: Arc::clone(&exported),
        })
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    global::set_meter_provider(SdkMeterProvider::builder().build());
    for i in 0..10 {
        check(blocking_a, i);
    }
    check_panic(blocking_a);
    assert_eq!(exported.load(Ordering::Relaxed), 11);

    // A batch processor with a small queue and an exporter that blocks: the
    // queue fills, the spans past it are dropped by the SDK, and memory stays
    // bounded by the queue.
    const QUEUE: usize = 256;
    let exported = Arc::new(AtomicU64::new(0));
    let processor = BatchSpanProcessor::builder(BlockingSpans {
        sleep: Duration::from_millis(100),
        exported: Arc::clone(&exported),
    })
    .with_batch_config(
        BatchConfigBuilder::default()
            .with_max_queue_size(QUEUE)
            .with_max_export_batch_size(64)
            .build(),
    )
    .build();
    let tracer_provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    for i in 0..5_000 {
        check(batch_a, i);
    }
    let baseline = live();
    let calls = 50_000;
    for i in 0..calls {
        check(batch_a, i);
    }
    check_panic(batch_a);
    let growth = live() - baseline;
    // At any moment the queue and the batch being exported hold at most
    // QUEUE spans of a few hundred bytes each; the run made 50 000 calls.
    const SLACK: isize = 512 * 1024;
    eprintln!(
        "blocked batch exporter: {} of {calls} spans exported so far, live heap growth {growth} B",
        exported.load(Ordering::Relaxed)
    );
    assert!(growth <= SLACK, "live heap grew by {growth} bytes");
}

#[test]
fn providers_shut_down_before_the_calls() {
    let _serial = serial();
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    tracer_provider.shutdown().unwrap();
    meter_provider.shutdown().unwrap();
    global::set_tracer_provider(tracer_provider.clone());
    global::set_meter_provider(meter_provider.clone());
    for i in 0..1_000 {
        check(shut_a, i);
    }
    check_panic(shut_a);
    assert!(spans.get_finished_spans().unwrap().is_empty());
    assert!(metrics.get_finished_metrics().unwrap().is_empty());
}

/// Installs a new tracer and meter provider, dropping the old ones.
fn swap() {
    global::set_tracer_provider(
        SdkTracerProvider::builder()
            .with_simple_exporter(DropSpans)
            .build(),
    );
    global::set_meter_provider(
        SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(DropMetrics).build())
            .build(),
    );
}

/// 4 threads calling 8 functions while the main thread swaps providers;
/// the functions' call sites resolve at their first call, in the middle of
/// the swaps. Returns the number of swaps.
fn calls_during_swaps(calls_per_thread: u32) -> u32 {
    const FUNCTIONS: [fn(u32) -> Result<u32, Error>; 8] = [
        swap_a, swap_b, swap_c, swap_d, swap_e, swap_f, swap_g, swap_h,
    ];
    let mut swaps = 0;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|t| {
                s.spawn(move || {
                    for i in 0..calls_per_thread {
                        check(FUNCTIONS[(i as usize + t) % FUNCTIONS.len()], i);
                        if i % 5_000 == 0 {
                            check_panic(FUNCTIONS[t]);
                        }
                    }
                })
            })
            .collect();
        while !workers.iter().all(|w| w.is_finished()) {
            swap();
            swaps += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
        for w in workers {
            w.join().expect("a calling thread panicked");
        }
    });
    swaps
}

#[test]
fn providers_swapped_while_calls_are_in_flight() {
    let _serial = serial();
    swap();
    let first = calls_during_swaps(5_000);
    let baseline = live();
    let second = calls_during_swaps(20_000);
    let growth = live() - baseline;
    eprintln!("{first} + {second} provider swaps; live heap growth {growth} B");
    assert!(first > 0 && second > 0, "providers were swapped");
    // The providers replaced are dropped (with their reader threads); the
    // slack covers the one installed at each checkpoint differing in state.
    const SLACK: isize = 256 * 1024;
    assert!(growth <= SLACK, "live heap grew by {growth} bytes");
}
