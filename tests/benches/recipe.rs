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
//!   `tracing-opentelemetry` layer on the same tracer provider.
//!
//! The SDK as in `sdk_drop.rs` (every span sampled and dropped on the
//! caller's thread, periodic reader exporting nowhere; the global `tracing`
//! subscriber is the registry with the `tracing-opentelemetry` layer);
//! `IE_BENCH_BATCH=1` uses the batch span processor instead, as `sdk.rs`.
//! One call in ten fails (`mixed10`), as in the issue.
//!
//! `IE_BENCH_PROFILE=sync/<variant>:<mode>:<calls>` makes that many calls of
//! one variant and exits (for callgrind: `tests/benches/instructions.sh`
//! prints the instructions per call with `IE_BENCH_SETUPS=recipe`).

mod common;

use std::hint::black_box;
use std::time::Instant;

use common::ops::{self, body, otel, OpError};
use common::Mode;
use opentelemetry::trace::{FutureExt as _, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::Sampler;

const FUNCTION: &str = concat!(module_path!(), "::hand_written_record");

/// The exception record of the hand-written recipe.
#[inline]
fn record(e: &OpError) {
    tracing::warn!(
        name: "hand_written_record.exception",
        parent: None,
        exception.r#type = e.kind(),
        exception.message = %e,
        code.function.name = FUNCTION,
    );
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

const SYNC: [(&str, ops::Op); 3] = [
    ("hand_written_record", hand_written_record),
    ("instrument_errors", ops::instrumented),
    ("tracing_instrument", ops::traced),
];

const ASYNC: [(&str, ops::Op); 3] = [
    ("hand_written_record", hand_written_record_async_op),
    ("instrument_errors", ops::instrumented_async_op),
    ("tracing_instrument", ops::traced_async_op),
];

fn main() {
    let spans = if std::env::var_os("IE_BENCH_BATCH").is_some() {
        ops::Spans::Batch
    } else {
        ops::Spans::DropAtEnd
    };
    let _providers = ops::install_sdk(Sampler::AlwaysOn, spans);
    if let Ok(spec) = std::env::var("IE_BENCH_PROFILE") {
        let mut parts = spec.split(':');
        let name = parts.next().unwrap_or_default();
        let mode = match parts.next().unwrap_or("mixed10") {
            "success" => Mode::Success,
            "failure" => Mode::Failure,
            _ => Mode::Mixed,
        };
        let calls: u64 = parts.next().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
        let (form, variant) = name.split_once('/').expect("form/variant");
        let list = if form == "async" { &ASYNC } else { &SYNC };
        let op = list.iter().find(|(n, _)| *n == variant).expect("variant").1;
        for n in 0..calls {
            black_box(op(black_box(mode.fails(n)))).ok();
        }
        return;
    }
    let mut c = common::criterion();
    let all: &[&str] = &[];
    common::compare(&mut c, "recipe/sync", Mode::Mixed, &SYNC, all);
    common::compare(&mut c, "recipe/async", Mode::Mixed, &ASYNC, all);
    c.final_summary();
}
