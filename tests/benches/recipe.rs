//! Issue 19: the failure-inclusive benchmark, side by side in one process.
//!
//! * `hand_written_record`: the seed's hand-written recipe, faithful to what
//!   the attribute records: the span with `code.function.name` made current,
//!   `Instant` timing, the duration point with `code.function.name`, and on
//!   failure `error.type` on span and point, status `Error` with the
//!   message, and the exception record: a `WARN` `tracing` event named
//!   `<span name>.exception` with `exception.type` and `exception.message`,
//!   emitted while the span is current (what `opentelemetry-appender-tracing`
//!   turns into a log record tied to the span);
//! * `instrument_errors`: `#[instrument_errors]`, defaults;
//! * `tracing_instrument`: `#[tracing::instrument(err)]` exported by the
//!   `tracing-opentelemetry` layer on the same tracer provider;
//! * `sdk_floor`: not a recipe anyone should write, but a floor: about the
//!   least any code can do through the `opentelemetry` API's global
//!   providers to record the same span, duration point and record. The span
//!   is never made current (so a call inside the body would not be its
//!   child), its wall-clock times come from one reading taken at start-up
//!   plus the monotonic clock, and on failure the message is formatted once
//!   and the span made current only around the record. An implementation
//!   that makes its span current (as it must) costs more;
//!   `tracing_instrument / sdk_floor` bounds the ratio any can reach.
//!
//! The SDK as in `sdk_drop.rs` (every span sampled and dropped on the
//! caller's thread, periodic reader exporting nowhere), and, since a record
//! is only a record once it is a log record, the logs pipeline of the
//! README's setup: the global `tracing` subscriber is the registry with the
//! `tracing-opentelemetry` layer and `opentelemetry-appender-tracing`'s
//! bridge on a logger provider whose processor drops each record on the
//! caller's thread. `IE_BENCH_BATCH=1` uses the batch span and log
//! processors instead (exporting nowhere), as `sdk.rs`. One call in ten
//! fails (`mixed10`), as in the issue.
//!
//! `IE_BENCH_PROFILE=sync/<variant>:<mode>:<calls>` makes that many calls of
//! one variant and exits (for callgrind: `tests/benches/instructions.sh`
//! prints the instructions per call with `IE_BENCH_SETUPS=recipe`).

mod common;

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime};

use common::ops::{self, body, otel, OpError};
use common::Mode;
use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::trace::{FutureExt as _, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::InstrumentationScope;
use opentelemetry::{Context, KeyValue};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{
    LogBatch, LogExporter, LogProcessor, SdkLogRecord, SdkLoggerProvider,
};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;

const FUNCTION: &str = concat!(module_path!(), "::hand_written_record");

const FLOOR: &str = concat!(module_path!(), "::sdk_floor");

/// `<span name> failed: <message>`, formatted by the subscriber that reads it.
struct Line<'a>(&'a OpError);

impl std::fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hand_written_record failed: {}", self.0)
    }
}

/// The exception record of the hand-written recipe.
#[inline]
fn record(e: &OpError) {
    tracing::event!(
        name: "hand_written_record.exception",
        parent: None,
        tracing::Level::WARN,
        {
            message = %Line(e),
            "exception.type" = e.kind(),
            "exception.message" = %e,
            "code.function.name" = FUNCTION,
        }
    );
}

/// The exception record of the floor: the message formatted once, by the
/// caller, and the line built from it without formatting.
#[inline]
fn floor_record(e: &OpError, message: &str) {
    const FAILED: &str = "sdk_floor failed: ";
    let mut line = String::with_capacity(FAILED.len() + message.len());
    line.push_str(FAILED);
    line.push_str(message);
    tracing::event!(
        name: "sdk_floor.exception",
        parent: None,
        tracing::Level::WARN,
        {
            message = line.as_str(),
            "exception.type" = e.kind(),
            "exception.message" = message,
            "code.function.name" = FLOOR,
        }
    );
}

/// The wall-clock time of `now`, from one reading of both clocks.
fn floor_wall(now: Instant) -> SystemTime {
    static ANCHOR: OnceLock<(Instant, SystemTime)> = OnceLock::new();
    let (at, wall) = *ANCHOR.get_or_init(|| (Instant::now(), SystemTime::now()));
    wall + now.saturating_duration_since(at)
}

/// The floor's span, started at `wall`, never made current.
#[inline]
fn floor_span(name: &'static str, wall: SystemTime) -> opentelemetry::global::BoxedSpan {
    let otel = otel();
    let mut builder = otel.tracer.span_builder(name);
    builder.start_time = Some(wall);
    builder.attributes = Some(vec![KeyValue::new("code.function.name", FLOOR)]);
    otel.tracer.build(builder)
}

/// The floor's recording of an outcome: what the other variants record,
/// and nothing more.
#[inline]
fn floor_finish(
    mut span: opentelemetry::global::BoxedSpan,
    wall: SystemTime,
    elapsed: std::time::Duration,
    result: &Result<u64, OpError>,
) {
    use opentelemetry::trace::Span as _;
    let otel = otel();
    let function = KeyValue::new("code.function.name", FLOOR);
    let end = wall + elapsed;
    match result {
        Ok(_) => {
            otel.duration.record(elapsed.as_secs_f64(), &[function]);
            span.end_with_timestamp(end);
        }
        Err(e) => {
            // The message is formatted once, for the record and the status.
            let message = e.to_string();
            span.set_attribute(KeyValue::new("error.type", e.kind()));
            otel.duration.record(
                elapsed.as_secs_f64(),
                &[function, KeyValue::new("error.type", e.kind())],
            );
            let cx = Context::current_with_span(span);
            let guard = cx.clone().attach();
            floor_record(e, &message);
            drop(guard);
            let span = cx.span();
            span.set_status(Status::error(message));
            span.end_with_timestamp(end);
        }
    }
}

#[inline(never)]
pub fn sdk_floor(fail: bool) -> Result<u64, OpError> {
    let start = Instant::now();
    let wall = floor_wall(start);
    let span = floor_span("sdk_floor", wall);
    let result = body(fail);
    floor_finish(span, wall, start.elapsed(), &result);
    result
}

pub async fn sdk_floor_async(fail: bool) -> Result<u64, OpError> {
    let start = Instant::now();
    let wall = floor_wall(start);
    let span = floor_span("sdk_floor_async", wall);
    let result = async { body(fail) }.await;
    floor_finish(span, wall, start.elapsed(), &result);
    result
}

fn sdk_floor_async_op(fail: bool) -> Result<u64, OpError> {
    ops::block_on(sdk_floor_async(fail))
}

#[inline(never)]
pub fn hand_written_record(fail: bool) -> Result<u64, OpError> {
    let otel = otel();
    let span = otel
        .tracer
        .span_builder("hand_written_record")
        .with_attributes([KeyValue::new("code.function.name", FUNCTION)])
        .start(&otel.tracer);
    let cx = Context::current_with_span(span);
    let guard = cx.clone().attach();
    let start = Instant::now();

    let result = body(fail);

    let seconds = start.elapsed().as_secs_f64();
    let function = KeyValue::new("code.function.name", FUNCTION);
    match &result {
        Ok(_) => otel.duration.record(seconds, &[function]),
        Err(e) => {
            let span = cx.span();
            span.set_attribute(KeyValue::new("error.type", e.kind()));
            span.set_status(Status::error(e.to_string()));
            otel.duration
                .record(seconds, &[function, KeyValue::new("error.type", e.kind())]);
            record(e);
        }
    }
    cx.span().end();
    drop(guard);
    result
}

pub async fn hand_written_record_async(fail: bool) -> Result<u64, OpError> {
    let otel = otel();
    let span = otel
        .tracer
        .span_builder("hand_written_record_async")
        .with_attributes([KeyValue::new("code.function.name", FUNCTION)])
        .start(&otel.tracer);
    let cx = Context::current_with_span(span);
    let start = Instant::now();

    let result = async { body(fail) }.with_context(cx.clone()).await;

    let seconds = start.elapsed().as_secs_f64();
    let function = KeyValue::new("code.function.name", FUNCTION);
    match &result {
        Ok(_) => otel.duration.record(seconds, &[function]),
        Err(e) => {
            let span = cx.span();
            span.set_attribute(KeyValue::new("error.type", e.kind()));
            span.set_status(Status::error(e.to_string()));
            otel.duration
                .record(seconds, &[function, KeyValue::new("error.type", e.kind())]);
            let _guard = cx.clone().attach();
            record(e);
        }
    }
    cx.span().end();
    result
}

fn hand_written_record_async_op(fail: bool) -> Result<u64, OpError> {
    ops::block_on(hand_written_record_async(fail))
}

const SYNC: [(&str, ops::Op); 4] = [
    ("hand_written_record", hand_written_record),
    ("instrument_errors", ops::instrumented),
    ("tracing_instrument", ops::traced),
    ("sdk_floor", sdk_floor),
];

const ASYNC: [(&str, ops::Op); 4] = [
    ("hand_written_record", hand_written_record_async_op),
    ("instrument_errors", ops::instrumented_async_op),
    ("tracing_instrument", ops::traced_async_op),
    ("sdk_floor", sdk_floor_async_op),
];

/// A log processor that drops each record on the caller's thread.
#[derive(Debug)]
struct DiscardLogs;

impl LogProcessor for DiscardLogs {
    fn emit(&self, record: &mut SdkLogRecord, _: &InstrumentationScope) {
        black_box(record);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
}

/// A log exporter that drops what it is given.
#[derive(Debug)]
struct DiscardLogBatches;

impl LogExporter for DiscardLogBatches {
    fn export(
        &self,
        batch: LogBatch<'_>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        black_box(&batch);
        std::future::ready(Ok(()))
    }
}

/// The SDK (traces, metrics and logs) and the global `tracing` subscriber:
/// the `tracing-opentelemetry` layer and the logs bridge.
fn install(batch: bool) -> (SdkTracerProvider, SdkMeterProvider, SdkLoggerProvider) {
    let tracer_provider = SdkTracerProvider::builder();
    let tracer_provider = if batch {
        tracer_provider.with_batch_exporter(ops::DiscardSpans)
    } else {
        tracer_provider.with_span_processor(ops::DiscardProcessor)
    }
    .build();
    global::set_tracer_provider(tracer_provider.clone());
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(ops::DiscardMetrics).build())
        .build();
    global::set_meter_provider(meter_provider.clone());
    let logger_provider = SdkLoggerProvider::builder();
    let logger_provider = if batch {
        logger_provider.with_batch_exporter(DiscardLogBatches)
    } else {
        logger_provider.with_log_processor(DiscardLogs)
    }
    .build();
    let layer = tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("tracing"));
    let bridge = OpenTelemetryTracingBridge::new(&logger_provider);
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(layer).with(bridge),
    )
    .expect("no other subscriber");
    (tracer_provider, meter_provider, logger_provider)
}

fn main() {
    let _providers = install(std::env::var_os("IE_BENCH_BATCH").is_some());
    if let Ok(spec) = std::env::var("IE_BENCH_PROFILE") {
        let mut parts = spec.split(':');
        let name = parts.next().unwrap_or_default();
        let mode = match parts.next().unwrap_or("mixed10") {
            "success" => Mode::Success,
            "failure" => Mode::Failure,
            _ => Mode::Mixed,
        };
        let calls: u64 = parts
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1_000_000);
        let (form, variant) = name.split_once('/').expect("form/variant");
        let list = if form == "async" { &ASYNC } else { &SYNC };
        let op = list.iter().find(|(n, _)| *n == variant).expect("variant").1;
        for n in 0..calls {
            black_box(op(black_box(mode.fails(n)))).ok();
        }
        return;
    }
    if let Some(rounds) = std::env::var("IE_BENCH_INTERLEAVE")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
    {
        interleave(rounds);
        return;
    }
    let mut c = common::criterion();
    let all: &[&str] = &[];
    common::compare(&mut c, "recipe/sync", Mode::Mixed, &SYNC, all);
    common::compare(&mut c, "recipe/async", Mode::Mixed, &ASYNC, all);
    c.final_summary();
}

/// `IE_BENCH_INTERLEAVE=rounds`: every variant in turn, 20,000 calls one in
/// ten failing, `rounds` times over; prints each one's median ns per call and
/// the ratios, so that load from other processes falls on all alike.
fn interleave(rounds: usize) {
    const CALLS: u64 = 20_000;
    for (form, list) in [("sync", &SYNC), ("async", &ASYNC)] {
        let mut samples = vec![Vec::with_capacity(rounds); list.len()];
        for _ in 0..rounds {
            for (i, (_, op)) in list.iter().enumerate() {
                let start = Instant::now();
                for n in 0..CALLS {
                    black_box(op(black_box(Mode::Mixed.fails(n)))).ok();
                }
                samples[i].push(start.elapsed().as_nanos() as f64 / CALLS as f64);
            }
        }
        let medians: Vec<f64> = samples
            .iter_mut()
            .map(|s| {
                s.sort_by(f64::total_cmp);
                s[s.len() / 2]
            })
            .collect();
        for ((name, _), m) in list.iter().zip(&medians) {
            println!("recipe/{form}/mixed10/{name}: median {m:.1} ns");
        }
        println!(
            "recipe/{form}/mixed10: instrument_errors / hand_written_record = {:.3}, \
             tracing_instrument / instrument_errors = {:.2}, \
             tracing_instrument / sdk_floor = {:.2}",
            medians[1] / medians[0],
            medians[2] / medians[1],
            medians[2] / medians[3]
        );
    }
}
