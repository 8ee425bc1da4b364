//! Memory: 1 000 000 instrumented calls — sync and async, successes, errors,
//! nested errors (the once-only logging state), rejected values, panics and
//! cancelled futures — leave no growth in live heap.
//!
//! A counting `#[global_allocator]` tracks live bytes. The SDK is installed
//! with exporters that discard, and cumulative metrics (bounded per attribute
//! set), so that nothing in the pipeline is meant to grow. Live bytes are
//! read after a warm-up (which makes every lazily built structure: call
//! sites, thread-locals, `tracing` callsites, metric attribute sets, the
//! panic machinery) and after each later round; the growth allowed is a
//! small fixed slack, [`SLACK`], far below one byte per call.
//!
//! One `#[test]` only: live bytes are process-wide, so nothing else may run
//! alongside.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use instrument_errors::{instrument_errors, ErrorType};
use opentelemetry::global;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt as _;

#[global_allocator]
static ALLOCATOR: instrument_errors_tests::LiveHeap = instrument_errors_tests::LiveHeap::new();

/// Live-heap growth allowed between the warm-up and the end of the run.
///
/// Nothing is expected to grow; the slack covers structures outside
/// instrument-errors that allocate on their own schedule, independently of
/// the number of calls: the SDK's periodic metric reader thread (a collection
/// may be in flight at a checkpoint), and capacity changes of internal
/// vectors and maps that are reused between calls. 64 KiB over 1 000 000
/// calls is 0.07 bytes per call: a leak of one byte per call (or one
/// allocation per 10 000 calls) fails the test.
const SLACK: isize = 64 * 1024;

/// Instrumented calls made in total (warm-up included).
const TOTAL_CALLS: usize = 1_000_000;

// ---- exporters that discard ------------------------------------------------

#[derive(Debug)]
struct DropSpans;
impl SpanExporter for DropSpans {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        drop(batch);
        std::future::ready(Ok(()))
    }
}

#[derive(Debug)]
struct DropLogs;
impl LogExporter for DropLogs {
    fn export(&self, _: LogBatch<'_>) -> impl Future<Output = OTelSdkResult> + Send {
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
    fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

// ---- the instrumented functions ---------------------------------------------

#[derive(Debug, PartialEq, ErrorType)]
enum Error {
    Inner,
    Outer,
}
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failed: {self:?}")
    }
}
impl std::error::Error for Error {}

#[instrument_errors(
    name = "mem.sync",
    error_if = |v: &u32| (*v == 7).then_some("seven"),
    attributes("mem.i" = i64::from(i)),
)]
fn sync_call(i: u32) -> Result<u32, Error> {
    match i % 4 {
        0 | 1 => Ok(i),
        2 => Err(Error::Inner),
        _ => Ok(7),
    }
}

#[instrument_errors(name = "mem.sync.outer")]
fn sync_outer(i: u32) -> Result<u32, Error> {
    // i % 4 == 2: the inner error propagates (logged once, by the inner frame)
    let v = sync_call(i)?;
    if i % 8 == 1 {
        // a new error after a success below: logged by this frame
        return Err(Error::Outer);
    }
    Ok(v)
}

#[instrument_errors(name = "mem.panic")]
fn sync_panic(i: u32) -> Result<u32, Error> {
    if i.is_multiple_of(2) {
        panic!("mem panic");
    }
    // a panic raised on a logged error: a new exception
    sync_call(2).map_err(|_| Error::Outer).map(|v| v + i)
}

/// Pending once, then ready: makes futures suspend, so that they can be
/// cancelled half-way.
struct YieldOnce(bool);
impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[instrument_errors(name = "mem.async")]
async fn async_call(i: u32) -> Result<u32, Error> {
    YieldOnce(false).await;
    if i.is_multiple_of(2) {
        Err(Error::Inner)
    } else {
        Ok(i)
    }
}

#[instrument_errors(name = "mem.async.outer")]
async fn async_outer(i: u32) -> Result<u32, Error> {
    let v = async_call(i).await?;
    YieldOnce(false).await;
    Ok(v)
}

fn noop_waker() -> Waker {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(
        |_| RawWaker::new(std::ptr::null(), &VTABLE),
        |_| {},
        |_| {},
        |_| {},
    );
    // SAFETY: the vtable's functions do nothing and never read the data pointer.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

/// A minimal executor: polls until ready (every pending future here has
/// woken itself already).
fn block_on<F: Future>(fut: F) -> F::Output {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Polls once (the future starts its span and suspends), then drops it.
fn cancel<F: Future>(fut: F) {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
}

/// One round of the mix; returns how many instrumented calls it made.
fn round(i: u32) -> usize {
    // sync: success, error, rejected value
    for k in 0..4 {
        let got = sync_call(i * 4 + k);
        match k {
            0 | 1 => assert_eq!(got, Ok(i * 4 + k)),
            2 => assert_eq!(got, Err(Error::Inner)),
            _ => assert_eq!(got, Ok(7)),
        }
    }
    // nested sync: 2 calls each
    assert_eq!(sync_outer(2), Err(Error::Inner));
    assert_eq!(sync_outer(9), Err(Error::Outer));
    assert_eq!(sync_outer(4), Ok(4));
    // async, nested async
    assert_eq!(block_on(async_call(1)), Ok(1));
    assert_eq!(block_on(async_outer(2)), Err(Error::Inner));
    assert_eq!(block_on(async_outer(3)), Ok(3));
    // cancelled: the outer and the inner future are both dropped mid-way
    cancel(async_call(i));
    cancel(async_outer(i + 1));
    let mut calls = 4 + 6 + 1 + 2 + 2 + 1 + 2;
    // panics are slow to unwind: one round in 8
    if i.is_multiple_of(8) {
        let payload = std::panic::catch_unwind(|| sync_panic(2)).expect_err("panics");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"mem panic"));
        assert_eq!(sync_panic(1), Err(Error::Outer));
        calls += 3;
    }
    calls
}

fn live() -> isize {
    ALLOCATOR.live()
}

#[test]
fn a_million_calls_leave_no_heap_growth() {
    // The panics the mix makes are expected: do not print them.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"mem panic") {
            default(info);
        }
    }));
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(DropSpans)
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(DropMetrics).build())
        .build();
    global::set_meter_provider(meter_provider.clone());
    let logger_provider = SdkLoggerProvider::builder()
        .with_simple_exporter(DropLogs)
        .build();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&logger_provider)),
    )
    .unwrap();

    let mut calls = 0;
    let mut i = 0;
    while calls < 20_000 {
        calls += round(i);
        i += 1;
    }
    let baseline = live();
    let mut checkpoints = Vec::new();
    for quarter in 1..=4 {
        while calls < TOTAL_CALLS * quarter / 4 {
            calls += round(i);
            i += 1;
        }
        checkpoints.push(live() - baseline);
    }
    eprintln!("{calls} calls; live heap growth at each quarter, in bytes: {checkpoints:?}");
    for growth in &checkpoints {
        assert!(
            *growth <= SLACK,
            "live heap grew by {growth} bytes over {calls} calls: {checkpoints:?}"
        );
    }
    drop((tracer_provider, meter_provider, logger_provider));
}
