//! An application with a `tracing` subscriber but no OpenTelemetry tracer or
//! meter provider (see the crate docs, "Providers"): instrumented functions
//! record no span and no metric, but still emit their exception events, under
//! the same rules ("once", severity, `log = false`, `ok_if`, `error_if`); a
//! function first called before the subscriber was set records nothing.
//!
//! This is its own test binary, with a single test, so that the globals are
//! in a known state when `events_without_providers` starts.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use instrument_errors::instrument_errors;
use instrument_errors_tests::logs_only;
use opentelemetry::logs::Severity;

#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refused by the store")
    }
}

impl std::error::Error for Refused {}

#[instrument_errors(name = "eo.early")]
fn early(fail: bool) -> Result<(), Refused> {
    if fail {
        Err(Refused)
    } else {
        Ok(())
    }
}

#[instrument_errors(name = "eo.inner")]
fn inner(fail: bool) -> Result<u32, Refused> {
    if fail {
        Err(Refused)
    } else {
        Ok(7)
    }
}

#[instrument_errors(name = "eo.outer", kind = server)]
fn outer(fail: bool) -> Result<u32, Refused> {
    Ok(inner(fail)? + 1)
}

#[instrument_errors(name = "eo.handled", ok_if = |_: &Refused| true)]
fn handled() -> Result<(), Refused> {
    Err(Refused)
}

#[instrument_errors(name = "eo.rejected", error_if = |v: &u32| (*v > 10).then_some("too_big"))]
fn rejected(v: u32) -> u32 {
    v
}

#[instrument_errors(name = "eo.silent", log = false)]
fn silent() -> Result<(), Refused> {
    Err(Refused)
}

#[instrument_errors(name = "eo.panics")]
fn panics() -> Result<(), Refused> {
    panic!("store on fire")
}

#[instrument_errors(name = "eo.async_inner")]
async fn async_inner() -> Result<(), Refused> {
    tokio::task::yield_now().await;
    Err(Refused)
}

#[instrument_errors(name = "eo.async_outer")]
async fn async_outer() -> Result<(), Refused> {
    async_inner().await
}

#[test]
fn events_without_providers() {
    // Before the subscriber: resolved with nothing listening.
    assert!(early(true).is_err());

    let logs = logs_only();

    // `early` found nothing at its first call, and resolves again now that
    // a subscriber is set: its failure is logged.
    assert!(early(true).is_err());
    assert_eq!(logs.logs_named("eo.early.exception").len(), 1);

    // Success, `error_if` failures, `log = false`: nothing.
    assert_eq!(outer(false).unwrap(), 8);
    assert!(handled().is_err());
    assert_eq!(rejected(11), 11);
    assert!(silent().is_err());
    for name in ["eo.inner", "eo.outer", "eo.rejected", "eo.silent"] {
        assert!(
            logs.logs_named(&format!("{name}.exception")).is_empty(),
            "{name}"
        );
    }

    // A handled error (issue 12): one record at DEBUG.
    let records = logs.logs_named("eo.handled.exception");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].severity, Some(Severity::Debug));

    // An error through two frames: one record, of the innermost, at ERROR
    // since it escaped a server operation (issue 12).
    assert!(outer(true).is_err());
    let records = logs.logs_named("eo.inner.exception");
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(logs.logs_named("eo.outer.exception").is_empty());
    let record = &records[0];
    assert_eq!(record.severity, Some(Severity::Error));
    assert_eq!(
        record.get("exception.type"),
        Some("events_only::Refused"),
        "{record:?}"
    );
    assert_eq!(
        record.get("exception.message"),
        Some("refused by the store")
    );
    // No span: nothing to tie the record to.
    assert_eq!(record.trace_id, None);

    // A panic: one record at ERROR, and the panic continues.
    let caught = catch_unwind(AssertUnwindSafe(panics));
    assert_eq!(
        caught.unwrap_err().downcast_ref::<&str>(),
        Some(&"store on fire")
    );
    let records = logs.logs_named("eo.panics.exception");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].severity, Some(Severity::Error));
    assert_eq!(records[0].get("exception.type"), Some("panic"));
    assert_eq!(records[0].get("exception.message"), Some("store on fire"));

    // Async, across awaits: once.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    assert!(runtime.block_on(async_outer()).is_err());
    assert_eq!(logs.logs_named("eo.async_inner.exception").len(), 1);
    assert!(logs.logs_named("eo.async_outer.exception").is_empty());
}
