//! Exceptions as log records (issue 4), read back from the SDK's in-memory log
//! exporter through `opentelemetry-appender-tracing`: event name, severity,
//! attributes, trace context, and "once" across nested frames.
//!
//! The exporters are shared by every test of this binary: each test uses its
//! own span names.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, error_description, telemetry, Log};
use opentelemetry::logs::Severity;
use opentelemetry::trace::Status;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

#[derive(Debug, ErrorType)]
enum DbError {
    Reset,
    #[error_type("db.query")]
    Query(std::io::Error),
    Exists,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Reset => f.write_str("connection reset by peer"),
            DbError::Query(_) => f.write_str("query failed"),
            DbError::Exists => f.write_str("row exists"),
        }
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DbError::Query(e) => Some(e),
            _ => None,
        }
    }
}

/// An error of the layer above, converted from [`DbError`] by `From` or by
/// `map_err`.
#[derive(Debug, ErrorType)]
enum ApiError {
    Unavailable(DbError),
    Invalid,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unavailable(_) => f.write_str("service unavailable"),
            ApiError::Invalid => f.write_str("invalid request"),
        }
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Unavailable(e) => Some(e),
            ApiError::Invalid => None,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::Unavailable(e)
    }
}

fn span_error_type(span: &SpanData) -> String {
    attr(span, "error.type")
        .unwrap_or_else(|| panic!("span {} has no error.type", span.name))
        .to_string()
}

/// The values' `Debug` forms, sorted: compares ids as multisets.
fn sorted<T: fmt::Debug>(values: impl IntoIterator<Item = T>) -> Vec<String> {
    let mut out: Vec<String> = values.into_iter().map(|v| format!("{v:?}")).collect();
    out.sort();
    out
}

/// Asserts that `log` is tied to `span`.
fn assert_tied(log: &Log, span: &SpanData) {
    assert_eq!(log.trace_id, Some(span.span_context.trace_id()), "{log:?}");
    assert_eq!(log.span_id, Some(span.span_context.span_id()), "{log:?}");
}

// ---------------------------------------------------------------------------
// The record

#[instrument_errors(name = "logs.record")]
fn reset() -> Result<(), DbError> {
    Err(DbError::Reset)
}

#[test]
fn record_is_named_after_the_span_and_tied_to_it() {
    let t = telemetry();
    assert!(reset().is_err());
    let span = t.span("logs.record");
    let logs = t.logs_named("logs.record.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = &logs[0];
    assert_eq!(log.severity, Some(Severity::Warn));
    assert_eq!(log.get("exception.type"), Some("reset"));
    assert_eq!(
        log.get("exception.type").map(str::to_owned),
        Some(span_error_type(&span))
    );
    assert_eq!(
        log.get("exception.message"),
        Some("connection reset by peer")
    );
    // no source(): no stacktrace
    assert_eq!(log.get("exception.stacktrace"), None);
    assert_tied(log, &span);
    // the exception attributes and the function (issue 12)
    let keys: Vec<&str> = log.attributes.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["code.function.name", "exception.message", "exception.type"]
    );
    assert_eq!(log.get("code.function.name"), Some("logs::reset"));
    // by default, no deprecated span event
    assert!(span.events.is_empty(), "{:?}", span.events);
}

#[instrument_errors(name = "logs.child_of_remote")]
fn child_of_remote() -> Result<(), DbError> {
    Err(DbError::Reset)
}

#[test]
fn record_carries_the_trace_of_the_callers_context() {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };
    let t = telemetry();
    let trace_id = TraceId::from(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef_u128);
    let parent = SpanContext::new(
        trace_id,
        SpanId::from(0x42_u64),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    {
        let _guard = opentelemetry::Context::new()
            .with_remote_span_context(parent)
            .attach();
        assert!(child_of_remote().is_err());
    }
    let span = t.span("logs.child_of_remote");
    assert_eq!(span.span_context.trace_id(), trace_id);
    let logs = t.logs_named("logs.child_of_remote.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].trace_id, Some(trace_id));
    // the operation's own span, not the remote parent
    assert_eq!(logs[0].span_id, Some(span.span_context.span_id()));
    assert_ne!(logs[0].span_id, Some(SpanId::from(0x42_u64)));
}

#[instrument_errors(name = "logs.source_chain")]
fn query() -> Result<(), ApiError> {
    let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe closed by the server");
    Err(ApiError::Unavailable(DbError::Query(io)))
}

#[test]
fn stacktrace_is_the_source_chain() {
    let t = telemetry();
    assert!(query().is_err());
    let logs = t.logs_named("logs.source_chain.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].get("exception.type"), Some("unavailable"));
    assert_eq!(
        logs[0].get("exception.message"),
        Some("service unavailable")
    );
    assert_eq!(
        logs[0].get("exception.stacktrace"),
        Some("caused by (0): query failed\ncaused by (1): pipe closed by the server\n")
    );
}

#[instrument_errors(name = "logs.sensitive", description = false)]
fn sensitive() -> Result<(), DbError> {
    Err(DbError::Reset)
}

#[test]
fn no_message_with_description_false() {
    let t = telemetry();
    assert!(sensitive().is_err());
    let span = t.span("logs.sensitive");
    assert_eq!(error_description(&span).as_deref(), Some(""));
    let logs = t.logs_named("logs.sensitive.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].get("exception.type"), Some("reset"));
    assert_eq!(logs[0].get("exception.message"), None);
    assert!(
        !logs[0]
            .attributes
            .iter()
            .any(|(_, v)| v.contains("reset by")),
        "{logs:?}"
    );
}

#[derive(Debug)]
struct Opaque;

#[instrument_errors(name = "logs.opaque")]
fn opaque() -> Result<(), Opaque> {
    Err(Opaque)
}

#[test]
fn an_error_without_display_is_logged_with_its_type_only() {
    let t = telemetry();
    assert!(opaque().is_err());
    let logs = t.logs_named("logs.opaque.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].get("exception.type"), Some("logs::Opaque"));
    assert_eq!(logs[0].get("exception.message"), None);
    assert_eq!(logs[0].get("exception.stacktrace"), None);
}

// ---------------------------------------------------------------------------
// Severity

#[instrument_errors(name = "logs.kind.internal", kind = internal)]
fn k_internal() -> Result<(), DbError> {
    Err(DbError::Reset)
}
#[instrument_errors(name = "logs.kind.client", kind = client)]
fn k_client() -> Result<(), DbError> {
    Err(DbError::Reset)
}
#[instrument_errors(name = "logs.kind.producer", kind = producer)]
fn k_producer() -> Result<(), DbError> {
    Err(DbError::Reset)
}
#[instrument_errors(name = "logs.kind.server", kind = server)]
fn k_server() -> Result<(), DbError> {
    Err(DbError::Reset)
}
#[instrument_errors(name = "logs.kind.consumer", kind = consumer)]
fn k_consumer() -> Result<(), DbError> {
    Err(DbError::Reset)
}
#[instrument_errors(name = "logs.level.debug", log_level = debug)]
fn l_debug() -> Result<(), DbError> {
    Err(DbError::Reset)
}
#[instrument_errors(name = "logs.level.info", kind = server, log_level = info)]
fn l_info_server() -> Result<(), DbError> {
    Err(DbError::Reset)
}
#[instrument_errors(name = "logs.level.error", kind = client, log_level = error)]
fn l_error_client() -> Result<(), DbError> {
    Err(DbError::Reset)
}
#[instrument_errors(name = "logs.level.trace", log_level = trace)]
fn l_trace() -> Result<(), DbError> {
    Err(DbError::Reset)
}

#[test]
fn severity_follows_the_span_kind_and_the_override() {
    let t = telemetry();
    type Call = fn() -> Result<(), DbError>;
    let calls: [(Call, &str, Severity); 9] = [
        (k_internal, "logs.kind.internal", Severity::Warn),
        (k_client, "logs.kind.client", Severity::Warn),
        (k_producer, "logs.kind.producer", Severity::Warn),
        (k_server, "logs.kind.server", Severity::Error),
        (k_consumer, "logs.kind.consumer", Severity::Error),
        (l_debug, "logs.level.debug", Severity::Debug),
        (l_info_server, "logs.level.info", Severity::Info),
        (l_error_client, "logs.level.error", Severity::Error),
        (l_trace, "logs.level.trace", Severity::Trace),
    ];
    for (call, name, severity) in calls {
        assert!(call().is_err());
        let span = t.span(name);
        let logs = t.logs_named(&format!("{name}.exception"));
        assert_eq!(logs.len(), 1, "{name}: {logs:?}");
        assert_eq!(logs[0].severity, Some(severity), "{name}");
        assert_eq!(logs[0].get("exception.type"), Some("reset"), "{name}");
        assert_tied(&logs[0], &span);
    }
}

#[instrument_errors(name = "logs.off", kind = server, log = false)]
fn log_off() -> Result<(), DbError> {
    Err(DbError::Reset)
}

#[instrument_errors(name = "logs.off.panics", log = false)]
fn log_off_panics() -> Result<(), DbError> {
    panic!("off and panicking")
}

#[test]
fn log_false_emits_no_record_but_still_records_the_failure() {
    let t = telemetry();
    assert!(log_off().is_err());
    assert!(catch_unwind(log_off_panics).is_err());
    let span = t.span("logs.off");
    assert_eq!(span_error_type(&span), "reset");
    assert!(matches!(span.status, Status::Error { .. }));
    assert_eq!(span_error_type(&t.span("logs.off.panics")), "panic");
    assert!(t.logs_named("logs.off.exception").is_empty());
    assert!(t.logs_named("logs.off.panics.exception").is_empty());
}

#[instrument_errors(name = "logs.panic", log_level = debug)]
fn panics() -> Result<(), DbError> {
    let answer = std::hint::black_box(42);
    panic!("the invariant broke: {answer}")
}

#[test]
fn a_panic_is_logged_at_error_whatever_the_level() {
    let t = telemetry();
    let payload = catch_unwind(panics).expect_err("panics");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("the invariant broke: 42")
    );
    let span = t.span("logs.panic");
    let logs = t.logs_named("logs.panic.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].severity, Some(Severity::Error));
    assert_eq!(logs[0].get("exception.type"), Some("panic"));
    assert_eq!(
        logs[0].get("exception.message"),
        Some("the invariant broke: 42")
    );
    assert_tied(&logs[0], &span);
    // Where it panicked, always (the panic hook's note); the frames only
    // when backtraces are enabled for this process (RUST_LIB_BACKTRACE /
    // RUST_BACKTRACE); panic_location.rs and panic_backtrace.rs test both.
    let stacktrace = logs[0].get("exception.stacktrace").expect("a location");
    assert!(
        stacktrace.starts_with("panicked at tests/tests/logs.rs:"),
        "{stacktrace}"
    );
    let enabled =
        std::backtrace::Backtrace::capture().status() == std::backtrace::BacktraceStatus::Captured;
    assert_eq!(stacktrace.lines().count() > 1, enabled, "{stacktrace}");
}

// ---------------------------------------------------------------------------
// What is not an exception

fn is_exists(e: &DbError) -> bool {
    matches!(e, DbError::Exists)
}

#[instrument_errors(name = "logs.handled", ok_if = is_exists)]
fn insert(row: &str) -> Result<u32, DbError> {
    match row {
        "dup" => Err(DbError::Exists),
        _ => Ok(1),
    }
}

#[derive(Debug)]
struct Reply {
    code: u16,
}

#[instrument_errors(
    name = "logs.rejected_ok",
    error_if = |r: &Reply| (r.code >= 500).then(|| r.code.to_string()),
)]
fn fetch(code: u16) -> Reply {
    Reply { code }
}

#[test]
fn handled_errors_log_at_debug_and_ok_values_are_never_logged() {
    let t = telemetry();
    assert!(matches!(insert("dup"), Err(DbError::Exists)));
    assert_eq!(insert("new").unwrap(), 1);
    assert_eq!(fetch(200).code, 200);
    assert_eq!(fetch(503).code, 503);
    let spans = t.spans_named("logs.handled");
    assert_eq!(spans.len(), 2);
    assert!(spans.iter().all(|s| s.status == Status::Unset));
    // error_if: the span and the metric record a failure, but no exception
    // was raised, so there is no exception log record.
    let spans = t.spans_named("logs.rejected_ok");
    assert_eq!(spans.len(), 2);
    assert_eq!(
        spans
            .iter()
            .filter(|s| attr(s, "error.type") == Some(Value::from("503")))
            .count(),
        1
    );
    // issue 12: an error accepted by `ok_if` is handled, logged at DEBUG
    let handled = t.logs_named("logs.handled.exception");
    assert_eq!(handled.len(), 1, "{handled:?}");
    assert_eq!(handled[0].severity, Some(Severity::Debug));
    assert_eq!(handled[0].get("exception.type"), Some("exists"));
    assert!(t.logs_named("logs.rejected_ok.exception").is_empty());
}

// ---------------------------------------------------------------------------
// Once

#[instrument_errors(name = "logs.once.inner")]
fn once_inner() -> Result<(), DbError> {
    Err(DbError::Reset)
}

#[instrument_errors(name = "logs.once.outer", kind = server)]
fn once_outer() -> Result<(), DbError> {
    once_inner()?;
    Ok(())
}

#[test]
fn nested_sync_logs_once_at_the_inner_frame() {
    let t = telemetry();
    assert!(matches!(once_outer(), Err(DbError::Reset)));
    let inner = t.span("logs.once.inner");
    let outer = t.span("logs.once.outer");
    assert_eq!(inner.parent_span_id, outer.span_context.span_id());
    for span in [&inner, &outer] {
        assert_eq!(span_error_type(span), "reset");
        assert!(matches!(span.status, Status::Error { .. }));
    }
    for function in ["logs::once_inner", "logs::once_outer"] {
        let points = t.points("function.duration", &[("code.function.name", function)]);
        assert_eq!(points.len(), 1, "{function}: {points:?}");
        assert_eq!(points[0].count, 1);
        assert_eq!(points[0].get("error.type"), Some("reset"), "{function}");
    }
    let inner_logs = t.logs_named("logs.once.inner.exception");
    assert_eq!(inner_logs.len(), 1, "{inner_logs:?}");
    assert_tied(&inner_logs[0], &inner);
    // issue 12: it escaped a server operation, so the one record is an ERROR
    assert_eq!(inner_logs[0].severity, Some(Severity::Error));
    // the outer frame logs no record of its own
    assert!(t.logs_named("logs.once.outer.exception").is_empty());
}

#[instrument_errors(name = "logs.deep.3")]
fn deep3() -> Result<(), DbError> {
    Err(DbError::Reset)
}
#[instrument_errors(name = "logs.deep.2")]
fn deep2() -> Result<(), DbError> {
    deep3()
}
#[instrument_errors(name = "logs.deep.1")]
fn deep1() -> Result<(), ApiError> {
    deep2()?;
    Ok(())
}

#[test]
fn three_levels_deep_logs_once_at_the_innermost() {
    let t = telemetry();
    assert!(matches!(
        deep1(),
        Err(ApiError::Unavailable(DbError::Reset))
    ));
    let s3 = t.span("logs.deep.3");
    assert_eq!(span_error_type(&s3), "reset");
    assert_eq!(span_error_type(&t.span("logs.deep.2")), "reset");
    assert_eq!(span_error_type(&t.span("logs.deep.1")), "unavailable");
    let logs = t.logs_named("logs.deep.3.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_tied(&logs[0], &s3);
    assert!(t.logs_named("logs.deep.2.exception").is_empty());
    assert!(t.logs_named("logs.deep.1.exception").is_empty());
}

#[instrument_errors(name = "logs.convert.inner")]
fn convert_inner() -> Result<(), DbError> {
    Err(DbError::Reset)
}

#[instrument_errors(name = "logs.convert.from")]
fn convert_from() -> Result<(), ApiError> {
    convert_inner()?;
    Ok(())
}

#[instrument_errors(name = "logs.convert.map_err")]
fn convert_map_err() -> Result<(), String> {
    convert_inner().map_err(|e| format!("could not convert: {e}"))
}

#[test]
fn a_converted_error_is_the_same_exception() {
    let t = telemetry();
    assert!(matches!(
        convert_from(),
        Err(ApiError::Unavailable(DbError::Reset))
    ));
    assert!(convert_map_err().is_err());
    let inner = t.spans_named("logs.convert.inner");
    assert_eq!(inner.len(), 2);
    let from = t.span("logs.convert.from");
    let map_err = t.span("logs.convert.map_err");
    assert_eq!(span_error_type(&from), "unavailable");
    assert_eq!(span_error_type(&map_err), "alloc::string::String");
    assert_eq!(
        error_description(&map_err).as_deref(),
        Some("could not convert: connection reset by peer")
    );
    let logs = t.logs_named("logs.convert.inner.exception");
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(
        sorted(logs.iter().map(|l| l.span_id)),
        sorted(inner.iter().map(|s| Some(s.span_context.span_id())))
    );
    assert!(t.logs_named("logs.convert.from.exception").is_empty());
    assert!(t.logs_named("logs.convert.map_err.exception").is_empty());
}

#[instrument_errors(name = "logs.handles.child")]
fn flaky_child() -> Result<(), DbError> {
    Err(DbError::Reset)
}

#[instrument_errors(name = "logs.handles.ok_child")]
fn healthy_child() -> Result<u8, DbError> {
    Ok(1)
}

/// Handles its child's error, makes a successful instrumented call, then
/// fails on its own: its own error is a new exception.
#[instrument_errors(name = "logs.handles.own")]
fn handles_then_fails() -> Result<(), ApiError> {
    let _ = flaky_child();
    healthy_child()?;
    Err(ApiError::Invalid)
}

/// Handles its child's error by hand and fails at once with a new error:
/// the documented limit of the rule, the new error is not logged.
#[instrument_errors(name = "logs.handles.limit")]
fn handles_then_fails_at_once() -> Result<(), ApiError> {
    let _ = flaky_child();
    Err(ApiError::Invalid)
}

#[test]
fn a_frame_that_handled_its_child_logs_its_own_error() {
    let t = telemetry();
    assert!(matches!(handles_then_fails(), Err(ApiError::Invalid)));
    let own = t.span("logs.handles.own");
    let logs = t.logs_named("logs.handles.own.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].get("exception.type"), Some("invalid"));
    assert_eq!(logs[0].get("exception.message"), Some("invalid request"));
    assert_tied(&logs[0], &own);
    assert_eq!(t.spans_named("logs.handles.ok_child").len(), 1);

    // the limit documented in `instrument_errors::exception`
    assert!(handles_then_fails_at_once().is_err());
    assert_eq!(span_error_type(&t.span("logs.handles.limit")), "invalid");
    assert!(t.logs_named("logs.handles.limit.exception").is_empty());

    // the child logged each of its own failures: 2 records in all
    let children = t.spans_named("logs.handles.child");
    assert_eq!(children.len(), 2);
    let child_logs = t.logs_named("logs.handles.child.exception");
    assert_eq!(child_logs.len(), 2, "{child_logs:?}");
}

#[instrument_errors(name = "logs.handled_child.ok_if_child", ok_if = is_exists)]
fn exists_child() -> Result<(), DbError> {
    Err(DbError::Exists)
}

#[instrument_errors(name = "logs.handled_child.parent")]
fn parent_of_handled() -> Result<(), DbError> {
    if let Err(DbError::Exists) = exists_child() {
        return Err(DbError::Reset);
    }
    Ok(())
}

#[test]
fn a_child_error_accepted_by_ok_if_is_not_a_logged_exception_below() {
    let t = telemetry();
    assert!(parent_of_handled().is_err());
    // issue 12: the handled error is logged at DEBUG, and is not the parent's
    let handled = t.logs_named("logs.handled_child.ok_if_child.exception");
    assert_eq!(handled.len(), 1, "{handled:?}");
    assert_eq!(handled[0].severity, Some(Severity::Debug));
    let logs = t.logs_named("logs.handled_child.parent.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_tied(&logs[0], &t.span("logs.handled_child.parent"));
}

#[instrument_errors(name = "logs.unlogged.inner", log = false)]
fn unlogged_inner() -> Result<(), DbError> {
    Err(DbError::Reset)
}

#[instrument_errors(name = "logs.unlogged.outer")]
fn unlogged_outer() -> Result<(), DbError> {
    unlogged_inner()
}

#[test]
fn an_error_from_a_log_false_child_is_logged_by_the_frame_that_returns_it() {
    let t = telemetry();
    assert!(unlogged_outer().is_err());
    assert!(t.logs_named("logs.unlogged.inner.exception").is_empty());
    let logs = t.logs_named("logs.unlogged.outer.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_tied(&logs[0], &t.span("logs.unlogged.outer"));
}

#[instrument_errors(name = "logs.panic2.inner")]
fn panic_inner() -> Result<(), DbError> {
    panic!("deep panic")
}

#[instrument_errors(name = "logs.panic2.outer", kind = server)]
fn panic_outer() -> Result<(), DbError> {
    panic_inner()?;
    Ok(())
}

#[test]
fn a_panic_through_two_frames_is_logged_once() {
    let t = telemetry();
    let payload = catch_unwind(AssertUnwindSafe(panic_outer)).expect_err("panics");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"deep panic"));
    let inner = t.span("logs.panic2.inner");
    let outer = t.span("logs.panic2.outer");
    assert_eq!(span_error_type(&inner), "panic");
    assert_eq!(span_error_type(&outer), "panic");
    let logs = t.logs_named("logs.panic2.inner.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].severity, Some(Severity::Error));
    assert_eq!(logs[0].get("exception.message"), Some("deep panic"));
    assert_tied(&logs[0], &inner);
    assert!(t.logs_named("logs.panic2.outer.exception").is_empty());
}

#[instrument_errors(name = "logs.unwrap.child")]
fn unwrapped_child() -> Result<(), DbError> {
    Err(DbError::Reset)
}

/// Turns its child's error into a panic: a new, unhandled exception.
#[instrument_errors(name = "logs.unwrap.parent")]
fn unwraps() -> u8 {
    unwrapped_child().expect("the child cannot fail here");
    1
}

#[instrument_errors(name = "logs.unwrap.top")]
fn above_unwraps() -> Result<u8, DbError> {
    Ok(unwraps())
}

#[test]
fn a_panic_raised_on_a_logged_error_is_a_new_exception() {
    let t = telemetry();
    assert!(catch_unwind(above_unwraps).is_err());
    let child = t.logs_named("logs.unwrap.child.exception");
    assert_eq!(child.len(), 1, "{child:?}");
    assert_eq!(child[0].severity, Some(Severity::Warn));
    assert_tied(&child[0], &t.span("logs.unwrap.child"));
    let parent = t.logs_named("logs.unwrap.parent.exception");
    assert_eq!(parent.len(), 1, "{parent:?}");
    assert_eq!(parent[0].severity, Some(Severity::Error));
    assert_eq!(parent[0].get("exception.type"), Some("panic"));
    assert_eq!(
        parent[0].get("exception.message"),
        Some("the child cannot fail here: Reset")
    );
    assert_tied(&parent[0], &t.span("logs.unwrap.parent"));
    // the panic then propagates through `logs.unwrap.top`: logged once
    assert_eq!(span_error_type(&t.span("logs.unwrap.top")), "panic");
    assert!(t.logs_named("logs.unwrap.top.exception").is_empty());
}

#[instrument_errors(name = "logs.after_panic.inner")]
fn panic_inner_caught() {
    panic!("caught below")
}

#[instrument_errors(name = "logs.after_panic.ok_child")]
fn healthy_child_after_panic() -> Result<u8, DbError> {
    Ok(2)
}

/// Catches a panic of an instrumented child, makes a successful instrumented
/// call, then fails on its own.
#[instrument_errors(name = "logs.after_panic")]
fn fails_after_a_caught_panic() -> Result<(), DbError> {
    assert!(catch_unwind(panic_inner_caught).is_err());
    healthy_child_after_panic()?;
    Err(DbError::Reset)
}

#[test]
fn a_caught_panic_below_does_not_hide_a_later_error() {
    let t = telemetry();
    assert!(fails_after_a_caught_panic().is_err());
    let inner = t.logs_named("logs.after_panic.inner.exception");
    assert_eq!(inner.len(), 1, "{inner:?}");
    assert_tied(&inner[0], &t.span("logs.after_panic.inner"));
    let logs = t.logs_named("logs.after_panic.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].get("exception.type"), Some("reset"));
    assert_tied(&logs[0], &t.span("logs.after_panic"));
}

// ---------------------------------------------------------------------------
// Once, async, on a multi-thread runtime

#[instrument_errors(name = "logs.async.inner", kind = client)]
async fn async_inner(i: u32) -> Result<u32, DbError> {
    tokio::task::yield_now().await;
    if i.is_multiple_of(2) {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    tokio::task::yield_now().await;
    Err(DbError::Reset)
}

#[instrument_errors(name = "logs.async.ok")]
async fn async_ok() -> Result<u32, DbError> {
    tokio::task::yield_now().await;
    Ok(7)
}

#[instrument_errors(name = "logs.async.outer", kind = server)]
async fn async_outer(i: u32) -> Result<u32, ApiError> {
    tokio::task::yield_now().await;
    let v = async_inner(i).await?;
    Ok(v)
}

/// Handles a child's error, then succeeds with another instrumented call
/// across yields, then fails on its own.
#[instrument_errors(name = "logs.async.own")]
async fn async_own(i: u32) -> Result<u32, ApiError> {
    let _ = async_inner(i).await;
    tokio::task::yield_now().await;
    async_ok().await?;
    tokio::task::yield_now().await;
    Err(ApiError::Invalid)
}

#[instrument_errors(name = "logs.async.middle")]
async fn async_middle(i: u32) -> Result<u32, DbError> {
    let v = async_inner(i).await;
    tokio::task::yield_now().await;
    v
}

#[instrument_errors(name = "logs.async.top", kind = consumer)]
async fn async_top(i: u32) -> Result<u32, ApiError> {
    tokio::task::yield_now().await;
    async_middle(i).await.map_err(ApiError::from)
}

#[instrument_errors(name = "logs.async.slow")]
async fn async_slow() -> Result<u32, DbError> {
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    Ok(0)
}

/// Between the failed child and the error it returns, an instrumented call
/// is polled and cancelled: it never finished, so it changes nothing.
#[instrument_errors(name = "logs.async.cancel_between")]
async fn async_cancel_between(i: u32) -> Result<u32, DbError> {
    let v = async_inner(i).await;
    let slow = tokio::time::timeout(std::time::Duration::from_millis(1), async_slow());
    assert!(slow.await.is_err());
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nested_async_logs_once_across_threads() {
    let t = telemetry();
    const N: u32 = 32;
    let mut tasks = Vec::new();
    for i in 0..N {
        tasks.push(tokio::spawn(async move {
            assert!(async_outer(i).await.is_err());
            assert!(matches!(async_own(i).await, Err(ApiError::Invalid)));
            assert!(async_top(i).await.is_err());
            assert!(async_cancel_between(i).await.is_err());
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    // Every call of the inner function failed and logged, tied to its span.
    let inner = t.spans_named("logs.async.inner");
    assert_eq!(inner.len(), 4 * N as usize);
    let logs = t.logs_named("logs.async.inner.exception");
    assert_eq!(logs.len(), 4 * N as usize);
    assert_eq!(
        sorted(logs.iter().map(|l| (l.trace_id, l.span_id))),
        sorted(inner.iter().map(|s| {
            (
                Some(s.span_context.trace_id()),
                Some(s.span_context.span_id()),
            )
        }))
    );
    // issue 12: severity by outcome. Escaping the server (`outer`) or the
    // consumer (`top`): ERROR; handled by `own`, or escaping the outermost
    // `cancel_between`, an internal function: WARN.
    let by_severity = |s: Severity| logs.iter().filter(|l| l.severity == Some(s)).count();
    assert_eq!(by_severity(Severity::Error), 2 * N as usize);
    assert_eq!(by_severity(Severity::Warn), 2 * N as usize);

    // The frames that propagated (or converted) it failed, did not log.
    for name in [
        "logs.async.outer",
        "logs.async.middle",
        "logs.async.top",
        "logs.async.cancel_between",
    ] {
        let spans = t.spans_named(name);
        assert_eq!(spans.len(), N as usize, "{name}");
        assert!(spans.iter().all(|s| attr(s, "error.type").is_some()));
        assert!(
            t.logs_named(&format!("{name}.exception")).is_empty(),
            "{name}"
        );
    }
    let points = t.points(
        "function.duration",
        &[("code.function.name", "logs::async_outer")],
    );
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].count, u64::from(N));
    assert_eq!(points[0].get("error.type"), Some("unavailable"));

    // The cancelled calls ended their spans without a failure.
    let slow = t.spans_named("logs.async.slow");
    assert_eq!(slow.len(), N as usize);
    assert!(slow.iter().all(|s| s.status == Status::Unset));
    assert!(t.logs_named("logs.async.slow.exception").is_empty());

    // The frames that handled the child and failed on their own logged once each.
    let own = t.spans_named("logs.async.own");
    let own_logs = t.logs_named("logs.async.own.exception");
    assert_eq!(own_logs.len(), N as usize);
    assert_eq!(
        sorted(own_logs.iter().map(|l| l.span_id)),
        sorted(own.iter().map(|s| Some(s.span_context.span_id())))
    );
    assert!(own_logs
        .iter()
        .all(|l| l.get("exception.type") == Some("invalid")));
}
