//! The functions the benchmarks compare, and the provider setups they run
//! under. Shared by the bench binaries and by `tests/alloc_sdk.rs`.
//!
//! Every variant runs the same body, [`body`], which fails with
//! [`OpError::TimedOut`] when asked to:
//!
//! * [`bare`]: the body, uninstrumented;
//! * [`hand_written`]: what a careful developer writes by hand with the
//!   OpenTelemetry API to do what the conventions ask: cached tracer and
//!   histogram, the span made current while the body runs, `Instant` timing,
//!   `code.function.name` on span and metric point, and on failure `error.type`
//!   on both and the status `Error` with the error's message;
//! * [`metric_alone`]: the same hand-written code without the span (timing and
//!   histogram only): the floor for a sampled-out span;
//! * [`instrumented`]: `#[instrument_errors]`, defaults (it also emits the
//!   exception log record through `tracing` on failure);
//! * [`instrumented_no_log`]: `#[instrument_errors(log = false)]`, the same
//!   work as the hand-written code;
//! * [`traced`]: `#[tracing::instrument(err)]`, exported by the
//!   `tracing-opentelemetry` layer.
//!
//! Each has an `async fn` twin, driven by [`block_on`] (a busy poll loop with a
//! no-op waker: the futures are ready at their first poll).

use std::fmt;
use std::future::Future;
use std::hint::black_box;
use std::sync::OnceLock;
use std::task::{Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Instant;

use instrument_errors::{instrument_errors, ErrorType, DURATION_BOUNDARIES};
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::metrics::Histogram;
use opentelemetry::trace::{FutureExt as _, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt as _;

/// The one error of the benchmarked operation.
#[derive(Debug, ErrorType)]
pub enum OpError {
    /// `error.type` = `"timeout"`.
    #[error_type("timeout")]
    TimedOut,
}

impl OpError {
    /// The `error.type` the hand-written code records.
    pub fn kind(&self) -> &'static str {
        match self {
            OpError::TimedOut => "timeout",
        }
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the store timed out after 5s")
    }
}

impl std::error::Error for OpError {}

/// The signature every variant has once async ones are driven to completion.
pub type Op = fn(bool) -> Result<u64, OpError>;

/// The work itself: next to nothing, so that the instrumentation is what is
/// measured.
#[inline(never)]
pub fn body(fail: bool) -> Result<u64, OpError> {
    if black_box(fail) {
        Err(OpError::TimedOut)
    } else {
        Ok(black_box(42))
    }
}

// ---------------------------------------------------------------- bare

#[inline(never)]
pub fn bare(fail: bool) -> Result<u64, OpError> {
    body(fail)
}

pub async fn bare_async(fail: bool) -> Result<u64, OpError> {
    body(fail)
}

// ---------------------------------------------------------------- hand-written

/// The tracer and histogram of the hand-written code, taken once.
pub struct Otel {
    pub tracer: BoxedTracer,
    pub duration: Histogram<f64>,
}

pub fn otel() -> &'static Otel {
    static OTEL: OnceLock<Otel> = OnceLock::new();
    OTEL.get_or_init(|| {
        let scope = InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        Otel {
            tracer: global::tracer_with_scope(scope.clone()),
            duration: global::meter_with_scope(scope)
                .f64_histogram("function.duration")
                .with_unit("s")
                .with_boundaries(DURATION_BOUNDARIES.to_vec())
                .build(),
        }
    })
}

// What `#[instrument_errors]` records for its functions: `module_path!()::name`.
const HAND_WRITTEN: &str = concat!(module_path!(), "::hand_written");
const METRIC_ALONE: &str = concat!(module_path!(), "::metric_alone");

#[inline(never)]
pub fn hand_written(fail: bool) -> Result<u64, OpError> {
    let otel = otel();
    let span = otel
        .tracer
        .span_builder("hand_written")
        .with_attributes([KeyValue::new("code.function.name", HAND_WRITTEN)])
        .start(&otel.tracer);
    let cx = Context::current_with_span(span);
    let guard = cx.clone().attach();
    let start = Instant::now();

    let result = body(fail);

    let seconds = start.elapsed().as_secs_f64();
    let function = KeyValue::new("code.function.name", HAND_WRITTEN);
    match &result {
        Ok(_) => otel.duration.record(seconds, &[function]),
        Err(e) => {
            let span = cx.span();
            span.set_attribute(KeyValue::new("error.type", e.kind()));
            span.set_status(Status::error(e.to_string()));
            otel.duration
                .record(seconds, &[function, KeyValue::new("error.type", e.kind())]);
        }
    }
    cx.span().end();
    drop(guard);
    result
}

pub async fn hand_written_async(fail: bool) -> Result<u64, OpError> {
    let otel = otel();
    let span = otel
        .tracer
        .span_builder("hand_written_async")
        .with_attributes([KeyValue::new("code.function.name", HAND_WRITTEN)])
        .start(&otel.tracer);
    let cx = Context::current_with_span(span);
    let start = Instant::now();

    let result = async { body(fail) }.with_context(cx.clone()).await;

    let seconds = start.elapsed().as_secs_f64();
    let function = KeyValue::new("code.function.name", HAND_WRITTEN);
    match &result {
        Ok(_) => otel.duration.record(seconds, &[function]),
        Err(e) => {
            let span = cx.span();
            span.set_attribute(KeyValue::new("error.type", e.kind()));
            span.set_status(Status::error(e.to_string()));
            otel.duration
                .record(seconds, &[function, KeyValue::new("error.type", e.kind())]);
        }
    }
    cx.span().end();
    result
}

#[inline(never)]
pub fn metric_alone(fail: bool) -> Result<u64, OpError> {
    let otel = otel();
    let start = Instant::now();

    let result = body(fail);

    let seconds = start.elapsed().as_secs_f64();
    let function = KeyValue::new("code.function.name", METRIC_ALONE);
    match &result {
        Ok(_) => otel.duration.record(seconds, &[function]),
        Err(e) => otel
            .duration
            .record(seconds, &[function, KeyValue::new("error.type", e.kind())]),
    }
    result
}

pub async fn metric_alone_async(fail: bool) -> Result<u64, OpError> {
    let otel = otel();
    let start = Instant::now();

    let result = async { body(fail) }.await;

    let seconds = start.elapsed().as_secs_f64();
    let function = KeyValue::new("code.function.name", METRIC_ALONE);
    match &result {
        Ok(_) => otel.duration.record(seconds, &[function]),
        Err(e) => otel
            .duration
            .record(seconds, &[function, KeyValue::new("error.type", e.kind())]),
    }
    result
}

// ---------------------------------------------------------------- instrument-errors

#[instrument_errors]
pub fn instrumented(fail: bool) -> Result<u64, OpError> {
    body(fail)
}

#[instrument_errors]
pub async fn instrumented_async(fail: bool) -> Result<u64, OpError> {
    body(fail)
}

#[instrument_errors(log = false)]
pub fn instrumented_no_log(fail: bool) -> Result<u64, OpError> {
    body(fail)
}

#[instrument_errors(log = false)]
pub async fn instrumented_no_log_async(fail: bool) -> Result<u64, OpError> {
    body(fail)
}

// ---------------------------------------------------------------- tracing

#[tracing::instrument(err)]
pub fn traced(fail: bool) -> Result<u64, OpError> {
    body(fail)
}

#[tracing::instrument(err)]
pub async fn traced_async(fail: bool) -> Result<u64, OpError> {
    body(fail)
}

// ---------------------------------------------------------------- async drivers

/// Polls `fut` to completion on this thread with a waker that does nothing.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    fn noop_raw() -> RawWaker {
        fn clone(_: *const ()) -> RawWaker {
            noop_raw()
        }
        fn noop(_: *const ()) {}
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    // SAFETY: every function of the vtable ignores the data pointer.
    let waker = unsafe { Waker::from_raw(noop_raw()) };
    let mut task = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut task) {
            return out;
        }
    }
}

pub fn bare_async_op(fail: bool) -> Result<u64, OpError> {
    block_on(bare_async(fail))
}
pub fn hand_written_async_op(fail: bool) -> Result<u64, OpError> {
    block_on(hand_written_async(fail))
}
pub fn metric_alone_async_op(fail: bool) -> Result<u64, OpError> {
    block_on(metric_alone_async(fail))
}
pub fn instrumented_async_op(fail: bool) -> Result<u64, OpError> {
    block_on(instrumented_async(fail))
}
pub fn instrumented_no_log_async_op(fail: bool) -> Result<u64, OpError> {
    block_on(instrumented_no_log_async(fail))
}
pub fn traced_async_op(fail: bool) -> Result<u64, OpError> {
    block_on(traced_async(fail))
}

/// The sync variants, by the names the reports use.
pub const SYNC: [(&str, Op); 6] = [
    ("bare", bare),
    ("hand_written", hand_written),
    ("metric_alone", metric_alone),
    ("instrument_errors", instrumented),
    ("instrument_errors_no_log", instrumented_no_log),
    ("tracing_instrument", traced),
];

/// The async variants, by the names the reports use.
pub const ASYNC: [(&str, Op); 6] = [
    ("bare", bare_async_op),
    ("hand_written", hand_written_async_op),
    ("metric_alone", metric_alone_async_op),
    ("instrument_errors", instrumented_async_op),
    ("instrument_errors_no_log", instrumented_no_log_async_op),
    ("tracing_instrument", traced_async_op),
];

// ---------------------------------------------------------------- setups

/// A span exporter that drops what it is given: export cost is not measured.
#[derive(Debug)]
pub struct DiscardSpans;

impl SpanExporter for DiscardSpans {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        drop(batch);
        std::future::ready(Ok(()))
    }
}

/// A span processor that drops each finished span on the caller's thread.
#[derive(Debug)]
pub struct DiscardProcessor;

impl opentelemetry_sdk::trace::SpanProcessor for DiscardProcessor {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &Context) {}
    fn on_end(&self, span: SpanData) {
        drop(black_box(span));
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// A metric exporter that drops what it is given.
#[derive(Debug)]
pub struct DiscardMetrics;

impl PushMetricExporter for DiscardMetrics {
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

/// Where finished spans go.
#[derive(Debug, Clone, Copy)]
pub enum Spans {
    /// The SDK's `BatchSpanProcessor` with [`DiscardSpans`]: what an
    /// application runs. Its worker thread competes for the CPU and drops
    /// spans when its queue is full, which makes the figures noisier.
    Batch,
    /// [`DiscardProcessor`]: each finished span is dropped on the caller's
    /// thread. Deterministic: the cost of making and ending spans, nothing else.
    DropAtEnd,
}

/// Installs the SDK as the global providers (`spans`, and a periodic reader
/// exporting nowhere) with `sampler`, and a global
/// `tracing` subscriber with the `tracing-opentelemetry` layer on the same
/// tracer provider. Call before the first call of any variant.
pub fn install_sdk(sampler: Sampler, spans: Spans) -> (SdkTracerProvider, SdkMeterProvider) {
    let tracer_provider = SdkTracerProvider::builder().with_sampler(sampler);
    let tracer_provider = match spans {
        Spans::Batch => tracer_provider.with_batch_exporter(DiscardSpans),
        Spans::DropAtEnd => tracer_provider.with_span_processor(DiscardProcessor),
    }
    .build();
    global::set_tracer_provider(tracer_provider.clone());
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(DiscardMetrics).build())
        .build();
    global::set_meter_provider(meter_provider.clone());

    use opentelemetry::trace::TracerProvider as _;
    let layer = tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("tracing"));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("no other subscriber");
    (tracer_provider, meter_provider)
}
