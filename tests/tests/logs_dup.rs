//! `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs/dup`: the deprecated `exception`
//! span event is added beside the log record.
//!
//! The variable is read once per process, so this binary sets it (and enables
//! `std::backtrace` for panics' `exception.stacktrace` with
//! `RUST_LIB_BACKTRACE=1`) before anything else, in its only test.

use std::fmt;
use std::panic::catch_unwind;

use instrument_errors::instrument_errors;
use instrument_errors_tests::{attr, telemetry};
use opentelemetry::logs::Severity;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the peer refused")
    }
}

impl std::error::Error for Refused {}

#[instrument_errors(name = "dup.inner", kind = client)]
fn inner() -> Result<(), Refused> {
    Err(Refused)
}

#[instrument_errors(name = "dup.outer")]
fn outer() -> Result<(), Refused> {
    inner()
}

#[instrument_errors(name = "dup.panic")]
fn panics() -> u8 {
    panic!("dup panic")
}

#[instrument_errors(name = "dup.off", log = false)]
fn off() -> Result<(), Refused> {
    Err(Refused)
}

#[instrument_errors(name = "dup.ok")]
fn ok() -> Result<(), Refused> {
    Ok(())
}

fn event_attr(span: &SpanData, key: &str) -> Option<Value> {
    let event = span.events.iter().find(|e| e.name == "exception")?;
    event
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

#[test]
fn logs_dup_adds_the_deprecated_span_event_and_keeps_the_log_record() {
    // Before any instrumented call and before the providers are installed.
    std::env::set_var("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs/dup");
    std::env::set_var("RUST_LIB_BACKTRACE", "1");
    let t = telemetry();

    assert!(outer().is_err());
    let inner_span = t.span("dup.inner");
    assert_eq!(inner_span.events.len(), 1, "{:?}", inner_span.events);
    assert_eq!(inner_span.events[0].name, "exception");
    assert_eq!(
        event_attr(&inner_span, "exception.type"),
        Some(Value::from("logs_dup::Refused"))
    );
    assert_eq!(
        event_attr(&inner_span, "exception.type"),
        attr(&inner_span, "error.type")
    );
    assert_eq!(
        event_attr(&inner_span, "exception.message"),
        Some(Value::from("the peer refused"))
    );
    // The log record is still emitted, once, tied to the inner span.
    let logs = t.logs_named("dup.inner.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].severity, Some(Severity::Warn));
    assert_eq!(logs[0].get("exception.type"), Some("logs_dup::Refused"));
    assert_eq!(logs[0].get("exception.message"), Some("the peer refused"));
    assert_eq!(logs[0].span_id, Some(inner_span.span_context.span_id()));
    assert_eq!(logs[0].trace_id, Some(inner_span.span_context.trace_id()));
    // The event duplicates the log record: the frame that propagated the
    // error records neither.
    let outer_span = t.span("dup.outer");
    assert_eq!(
        attr(&outer_span, "error.type"),
        Some(Value::from("logs_dup::Refused"))
    );
    assert!(outer_span.events.is_empty(), "{:?}", outer_span.events);
    assert!(t.logs_named("dup.outer.exception").is_empty());

    // A panic: event and record, with the backtrace taken when the panic
    // left the instrumented function.
    assert!(catch_unwind(panics).is_err());
    let panic_span = t.span("dup.panic");
    assert_eq!(
        event_attr(&panic_span, "exception.type"),
        Some(Value::from("panic"))
    );
    assert_eq!(
        event_attr(&panic_span, "exception.message"),
        Some(Value::from("dup panic"))
    );
    let logs = t.logs_named("dup.panic.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].severity, Some(Severity::Error));
    let stacktrace = logs[0]
        .get("exception.stacktrace")
        .expect("a backtrace with RUST_LIB_BACKTRACE=1");
    assert!(stacktrace.contains("logs_dup::panics"), "{stacktrace}");
    assert_eq!(
        event_attr(&panic_span, "exception.stacktrace"),
        Some(Value::from(stacktrace.to_owned()))
    );

    // `log = false`: no record, and no event either.
    assert!(off().is_err());
    let off_span = t.span("dup.off");
    assert!(attr(&off_span, "error.type").is_some());
    assert!(off_span.events.is_empty(), "{:?}", off_span.events);
    assert!(t.logs_named("dup.off.exception").is_empty());

    // Success: nothing.
    assert!(ok().is_ok());
    assert!(t.span("dup.ok").events.is_empty());
    assert!(t.logs_named("dup.ok.exception").is_empty());
}
