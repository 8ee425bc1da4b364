//! `result_attributes = f`: span attributes computed from the returned value,
//! after the call, only for a span that records.

use std::sync::atomic::{AtomicUsize, Ordering};

use instrument_errors::instrument_errors;
use instrument_errors_tests::{attr, error_description, telemetry};
use opentelemetry::trace::{
    SpanContext, SpanId, Status, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue, Value};

/// Calls of `reply_attributes::<N>`, one counter per test (tests run in
/// parallel).
static CALLS: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];

fn calls(n: usize) -> usize {
    CALLS[n].load(Ordering::SeqCst)
}

#[derive(Debug)]
struct Reply {
    code: u16,
}

fn reply_attributes<const N: usize>(reply: &Result<Reply, std::io::Error>) -> Vec<KeyValue> {
    CALLS[N].fetch_add(1, Ordering::SeqCst);
    match reply {
        Ok(r) => vec![KeyValue::new("acme.reply.code", i64::from(r.code))],
        Err(e) => vec![KeyValue::new("acme.reply.error_kind", e.kind().to_string())],
    }
}

#[instrument_errors(name = "ra.path", result_attributes = reply_attributes::<0>)]
fn send(code: u16) -> Result<Reply, std::io::Error> {
    if code == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"));
    }
    Ok(Reply { code })
}

#[test]
fn a_path_on_ok_and_err() {
    let t = telemetry();
    let before = calls(0);
    assert_eq!(send(7).unwrap().code, 7);
    assert!(send(0).is_err());
    assert_eq!(calls(0) - before, 2);
    let spans = t.spans_named("ra.path");
    assert_eq!(spans.len(), 2);
    assert_eq!(attr(&spans[0], "acme.reply.code"), Some(Value::I64(7)));
    assert_eq!(spans[0].status, Status::Unset);
    assert_eq!(
        attr(&spans[1], "acme.reply.error_kind"),
        Some(Value::from("timed out"))
    );
    assert_eq!(error_description(&spans[1]).as_deref(), Some("slow"));
}

/// A closure, its argument type left to inference, on a function that does
/// not return a `Result`.
#[instrument_errors(
    name = "ra.closure",
    result_attributes = |v| [KeyValue::new("acme.len", v.len() as i64)],
)]
fn collect(n: usize) -> Vec<u8> {
    vec![1; n]
}

#[test]
fn an_unannotated_closure_on_the_whole_value() {
    let t = telemetry();
    assert_eq!(collect(3).len(), 3);
    assert_eq!(attr(&t.span("ra.closure"), "acme.len"), Some(Value::I64(3)));
}

/// Not evaluated at all when the span does not record.
#[instrument_errors(name = "ra.sampled_out", result_attributes = reply_attributes::<1>)]
fn sampled_out(code: u16) -> Result<Reply, std::io::Error> {
    Ok(Reply { code })
}

#[test]
fn not_called_for_a_span_that_does_not_record() {
    let t = telemetry();
    // The SDK's default sampler follows a parent that is not sampled.
    let parent = SpanContext::new(
        TraceId::from(7_u128),
        SpanId::from(7_u64),
        TraceFlags::NOT_SAMPLED,
        true,
        TraceState::NONE,
    );
    let before = calls(1);
    {
        let _guard = Context::new().with_remote_span_context(parent).attach();
        assert_eq!(sampled_out(3).unwrap().code, 3);
    }
    assert_eq!(calls(1), before);
    assert!(t.spans_named("ra.sampled_out").is_empty());
    // Sampled in, it is called.
    assert_eq!(sampled_out(4).unwrap().code, 4);
    assert_eq!(calls(1), before + 1);
    assert_eq!(
        attr(&t.span("ra.sampled_out"), "acme.reply.code"),
        Some(Value::I64(4))
    );
}

fn explode(_: &u32) -> Vec<KeyValue> {
    panic!("attribute function failed")
}

#[instrument_errors(
    name = "ra.panics",
    result_attributes = explode,
    error_if = |v: &u32| (*v > 10).then_some("too_big"),
)]
fn panicking_attributes(v: u32) -> u32 {
    v
}

#[test]
fn a_panicking_function_changes_nothing_else() {
    let t = telemetry();
    assert_eq!(panicking_attributes(11), 11);
    let span = t.span("ra.panics");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("too_big")));
    assert!(matches!(span.status, Status::Error { .. }));
}

#[instrument_errors(
    name = "ra.async",
    result_attributes = |r: &Result<u32, std::fmt::Error>| r.as_ref().ok().map(|v| KeyValue::new("acme.value", i64::from(*v))),
)]
async fn compute(v: u32) -> Result<u32, std::fmt::Error> {
    tokio::task::yield_now().await;
    Ok(v * 2)
}

#[tokio::test]
async fn async_functions() {
    let t = telemetry();
    assert_eq!(compute(21).await.unwrap(), 42);
    assert_eq!(
        attr(&t.span("ra.async"), "acme.value"),
        Some(Value::I64(42))
    );
}

/// Not called for a panic: there is no returned value.
#[instrument_errors(name = "ra.body_panics", result_attributes = reply_attributes::<2>)]
fn body_panics(code: u16) -> Result<Reply, std::io::Error> {
    if code > 0 {
        panic!("body failed");
    }
    Ok(Reply { code })
}

#[test]
fn not_called_for_a_panic() {
    let t = telemetry();
    let before = calls(2);
    assert!(std::panic::catch_unwind(|| body_panics(1)).is_err());
    assert_eq!(calls(2), before);
    let span = t.span("ra.body_panics");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("panic")));
    assert_eq!(attr(&span, "acme.reply.code"), None);
}
