//! Issue 12: exception records beside tracing-opentelemetry, severity by the
//! exception's fate, and handled errors.
//!
//! The global `tracing` subscriber here is what most Rust services run:
//! tracing-opentelemetry's layer (default settings) and
//! `opentelemetry-appender-tracing`'s bridge, both on the SDK with in-memory
//! exporters. Tests share the exporters: each uses its own names.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, in_memory_logger, install_traces_and_metrics, Log, Telemetry};
use opentelemetry::logs::Severity;
use opentelemetry::trace::{Status, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::trace::SpanData;
use tracing_subscriber::layer::SubscriberExt as _;

fn telemetry() -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(|| {
        let (spans, tracer_provider, metrics, meter_provider) = install_traces_and_metrics();
        let (logs, logger_provider) = in_memory_logger();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("tracing")))
            .with(OpenTelemetryTracingBridge::new(&logger_provider));
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        Telemetry {
            spans,
            metrics,
            logs,
            tracer_provider,
            meter_provider,
            logger_provider,
        }
    })
}

#[derive(Debug, ErrorType)]
enum StoreError {
    #[error_type("timeout")]
    TimedOut,
    AlreadyExists,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::TimedOut => f.write_str("store timed out"),
            StoreError::AlreadyExists => f.write_str("resource already exists"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The error of the layer above, converted from [`StoreError`].
#[derive(Debug, ErrorType)]
enum HttpError {
    #[error_type("500")]
    Internal,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("internal server error")
    }
}

fn tied(log: &Log, span: &SpanData) -> bool {
    log.trace_id == Some(span.span_context.trace_id())
        && log.span_id == Some(span.span_context.span_id())
}

/// The span events that did not come from the SDK's own diagnostics (the
/// SDK logs at DEBUG through `tracing` when a call site takes its meter).
fn own_events(span: &SpanData) -> Vec<&opentelemetry::trace::Event> {
    span.events
        .iter()
        .filter(|e| {
            !e.attributes.iter().any(|kv| {
                kv.key.as_str() == "target" && kv.value.as_str().starts_with("opentelemetry")
            })
        })
        .collect()
}

fn assert_untouched(span: &SpanData) {
    let events = own_events(span);
    assert!(events.is_empty(), "{}: {events:?}", span.name);
    assert_eq!(span.status, Status::Unset, "{}", span.name);
}

// ---------------------------------------------------------------------------
// No copies on `tracing` spans

#[instrument_errors(name = "fate.copies.store")]
fn copies_store() -> Result<(), StoreError> {
    Err(StoreError::TimedOut)
}

#[instrument_errors(name = "fate.copies.handler", kind = server)]
fn copies_handler() -> Result<(), StoreError> {
    copies_store()
}

#[tracing::instrument(name = "fate.copies.tracing_sync")]
fn tracing_sync() -> Result<(), StoreError> {
    // the ERROR record (it escapes a server operation) is emitted in here
    copies_handler()
}

#[tracing::instrument(name = "fate.copies.tracing_handles")]
fn tracing_handles() -> bool {
    // the WARN record, handled here, is emitted in here
    copies_store().is_err()
}

#[tracing::instrument(name = "fate.copies.control")]
fn control() {
    tracing::error!(name: "fate.copies.control_event", "a contextual event");
}

#[test]
fn no_span_event_and_no_status_on_tracing_spans_sync() {
    let t = telemetry();
    assert!(tracing_sync().is_err());
    assert!(tracing_handles());
    control();
    // The layer is active: a contextual ERROR event becomes a span event and
    // sets the status of its `tracing` span.
    let control = t.span("fate.copies.control");
    assert_eq!(own_events(&control).len(), 1, "{:?}", control.events);
    assert!(matches!(control.status, Status::Error { .. }));

    for name in ["fate.copies.tracing_sync", "fate.copies.tracing_handles"] {
        assert_untouched(&t.span(name));
    }
    // The layer makes its span the current context: the attribute's span is
    // its child.
    assert_eq!(
        t.span("fate.copies.handler").parent_span_id,
        t.span("fate.copies.tracing_sync").span_context.span_id()
    );
    // The attribute's own spans carry no event either; they record the
    // failure themselves.
    let stores = t.spans_named("fate.copies.store");
    assert_eq!(stores.len(), 2);
    for span in stores.iter().chain([&t.span("fate.copies.handler")]) {
        assert!(span.events.is_empty(), "{:?}", span.events);
        assert!(matches!(span.status, Status::Error { .. }));
    }
    // Two exceptions, two records, each tied to the store's span.
    let logs = t.logs_named("fate.copies.store.exception");
    assert_eq!(logs.len(), 2, "{logs:?}");
    let mut severities: Vec<_> = logs.iter().map(|l| l.severity).collect();
    severities.sort();
    assert_eq!(severities, [Some(Severity::Warn), Some(Severity::Error)]);
    for log in &logs {
        assert!(stores.iter().any(|s| tied(log, s)), "{log:?}");
        assert_eq!(
            log.get("code.function.name"),
            Some("exception_fate::copies_store")
        );
    }
    assert!(t.logs_named("fate.copies.handler.exception").is_empty());
}

#[instrument_errors(name = "fate.copies.async_store")]
async fn copies_async_store() -> Result<(), StoreError> {
    tokio::task::yield_now().await;
    Err(StoreError::TimedOut)
}

#[instrument_errors(name = "fate.copies.async_handler", kind = server)]
async fn copies_async_handler() -> Result<(), StoreError> {
    tokio::task::yield_now().await;
    copies_async_store().await
}

#[tracing::instrument(name = "fate.copies.tracing_async")]
async fn tracing_async() -> Result<(), StoreError> {
    copies_async_handler().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_span_event_and_no_status_on_tracing_spans_async() {
    let t = telemetry();
    assert!(tracing_async().await.is_err());
    let outer = tracing::info_span!("fate.copies.instrumented_span");
    // (`tracing::Instrument` is not imported: until issue 10 lands, the
    // expansion's method calls would resolve to it.)
    let handled = tracing::Instrument::instrument(
        async {
            tokio::task::yield_now().await;
            copies_async_store().await.is_err()
        },
        outer,
    )
    .await;
    assert!(handled);
    let escaped = tokio::spawn(tracing::Instrument::instrument(
        copies_async_handler(),
        tracing::warn_span!("fate.copies.instrumented_spawned"),
    ))
    .await
    .unwrap();
    assert!(escaped.is_err());

    for name in [
        "fate.copies.tracing_async",
        "fate.copies.instrumented_span",
        "fate.copies.instrumented_spawned",
    ] {
        assert_untouched(&t.span(name));
    }
    let stores = t.spans_named("fate.copies.async_store");
    assert_eq!(stores.len(), 3);
    let logs = t.logs_named("fate.copies.async_store.exception");
    assert_eq!(logs.len(), 3, "{logs:?}");
    for log in &logs {
        assert!(stores.iter().any(|s| tied(log, s)), "{log:?}");
    }
    let errors = logs
        .iter()
        .filter(|l| l.severity == Some(Severity::Error))
        .count();
    let warnings = logs
        .iter()
        .filter(|l| l.severity == Some(Severity::Warn))
        .count();
    assert_eq!((errors, warnings), (2, 1), "{logs:?}");
}

// ---------------------------------------------------------------------------
// Severity by outcome, once

#[instrument_errors(name = "fate.escape.store")]
fn escape_store() -> Result<u32, StoreError> {
    Err(StoreError::TimedOut)
}

/// A plain layer, not instrumented, that converts the error.
fn service() -> Result<u32, HttpError> {
    escape_store().map_err(|_| HttpError::Internal)
}

#[instrument_errors(name = "fate.escape.handler", kind = server)]
fn escape_handler() -> Result<u32, HttpError> {
    let v = service()?;
    Ok(v + 1)
}

#[test]
fn an_internal_error_escaping_a_server_is_one_error_record_tied_to_the_inner_span() {
    let t = telemetry();
    assert!(matches!(escape_handler(), Err(HttpError::Internal)));
    let store = t.span("fate.escape.store");
    let handler = t.span("fate.escape.handler");
    assert_eq!(store.parent_span_id, handler.span_context.span_id());
    assert_eq!(attr(&handler, "error.type"), Some(Value::from("500")));
    let logs = t.logs_named("fate.escape.store.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = &logs[0];
    assert_eq!(log.severity, Some(Severity::Error));
    assert!(tied(log, &store), "{log:?}");
    assert_eq!(log.get("exception.type"), Some("timeout"));
    assert_eq!(log.get("exception.message"), Some("store timed out"));
    assert_eq!(
        log.get("code.function.name"),
        Some("exception_fate::escape_store")
    );
    assert!(t.logs_named("fate.escape.handler.exception").is_empty());
}

#[instrument_errors(name = "fate.handled.store")]
fn handled_store() -> Result<u32, StoreError> {
    Err(StoreError::TimedOut)
}

#[instrument_errors(name = "fate.handled.ok")]
fn handled_ok() -> Result<u32, StoreError> {
    Ok(1)
}

/// A server operation that handles the store's error with a fallback.
#[instrument_errors(name = "fate.handled.caller", kind = server)]
fn handled_caller() -> Result<u32, HttpError> {
    Ok(handled_store().unwrap_or(0))
}

/// Handles the store's error and goes on with another instrumented call,
/// then fails on its own.
#[instrument_errors(name = "fate.handled.goes_on", kind = server)]
fn handled_goes_on() -> Result<u32, HttpError> {
    let _ = handled_store();
    handled_ok().map_err(|_| HttpError::Internal)?;
    Err(HttpError::Internal)
}

#[test]
fn an_error_handled_by_the_caller_is_one_warn_record() {
    let t = telemetry();
    assert_eq!(handled_caller().unwrap(), 0);
    let logs = t.logs_named("fate.handled.store.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].severity, Some(Severity::Warn));
    let caller = t.span("fate.handled.caller");
    assert_eq!(caller.status, Status::Unset);
    let store = t.span("fate.handled.store");
    assert!(tied(&logs[0], &store));
    assert!(t.logs_named("fate.handled.caller.exception").is_empty());

    // Going on with another instrumented call handles it too; the caller's
    // own error is a new exception, at ERROR (a server operation).
    assert!(handled_goes_on().is_err());
    let logs = t.logs_named("fate.handled.store.exception");
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert!(logs.iter().all(|l| l.severity == Some(Severity::Warn)));
    let own = t.logs_named("fate.handled.goes_on.exception");
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0].severity, Some(Severity::Error));
    assert!(tied(&own[0], &t.span("fate.handled.goes_on")));
}

#[instrument_errors(name = "fate.level.quiet", log_level = debug)]
fn quiet() -> Result<(), StoreError> {
    Err(StoreError::TimedOut)
}

#[instrument_errors(name = "fate.level.middle")]
fn middle() -> Result<(), StoreError> {
    quiet()
}

#[instrument_errors(name = "fate.level.muted", kind = server, log = false)]
fn muted_server() -> Result<(), StoreError> {
    middle()
}

#[test]
fn the_highest_severity_of_the_frames_it_escaped() {
    let t = telemetry();
    // quiet (DEBUG) -> middle (WARN) -> a server with `log = false`, which
    // neither raises the severity nor ends the exception -> outermost.
    assert!(muted_server().is_err());
    let logs = t.logs_named("fate.level.quiet.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].severity, Some(Severity::Warn));
    assert!(tied(&logs[0], &t.span("fate.level.quiet")));
    assert!(t.logs_named("fate.level.middle.exception").is_empty());
    assert!(t.logs_named("fate.level.muted.exception").is_empty());
    // alone, it is logged at its own level, when it escapes the outermost call
    assert!(quiet().is_err());
    let logs = t.logs_named("fate.level.quiet.exception");
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(
        logs.iter()
            .filter(|l| l.severity == Some(Severity::Debug))
            .count(),
        1
    );
}

#[instrument_errors(name = "fate.cancel.store")]
async fn cancel_store() -> Result<u32, StoreError> {
    tokio::task::yield_now().await;
    Err(StoreError::TimedOut)
}

#[instrument_errors(name = "fate.cancel.worker", kind = server)]
async fn cancel_worker() -> Result<u32, StoreError> {
    let v = cancel_store().await;
    // not instrumented: the store's record stays pending in this frame
    tokio::time::sleep(Duration::from_secs(60)).await;
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_futures_pending_record_is_emitted_once() {
    let t = telemetry();
    let cancelled = tokio::time::timeout(Duration::from_millis(5), cancel_worker()).await;
    assert!(cancelled.is_err());
    let logs = t.logs_named("fate.cancel.store.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    // what it reached: it escaped an internal function, not the server
    assert_eq!(logs[0].severity, Some(Severity::Warn));
    assert!(tied(&logs[0], &t.span("fate.cancel.store")));
    assert_eq!(t.span("fate.cancel.worker").status, Status::Unset);
    assert!(t.logs_named("fate.cancel.worker.exception").is_empty());
}

// ---------------------------------------------------------------------------
// Handled errors

fn already_exists(e: &StoreError) -> bool {
    matches!(e, StoreError::AlreadyExists)
}

#[instrument_errors(
    name = "fate.create",
    ok_if = already_exists,
    handled_attribute = "acme.resource.create.status",
)]
fn create(exists: bool) -> Result<u32, StoreError> {
    if exists {
        Err(StoreError::AlreadyExists)
    } else {
        Err(StoreError::TimedOut)
    }
}

#[instrument_errors(name = "fate.create_plain", ok_if = already_exists)]
async fn create_plain() -> Result<u32, StoreError> {
    tokio::task::yield_now().await;
    Err(StoreError::AlreadyExists)
}

#[instrument_errors(
    name = "fate.create_quiet",
    ok_if = already_exists,
    handled_attribute = "acme.resource.create.status",
    log = false,
)]
fn create_quiet() -> Result<u32, StoreError> {
    Err(StoreError::AlreadyExists)
}

#[test]
fn a_handled_error_is_one_debug_record_with_the_handled_attribute() {
    let t = telemetry();
    assert!(matches!(create(true), Err(StoreError::AlreadyExists)));
    let span = t.span("fate.create");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(&span, "error.type"), None);
    assert_eq!(
        attr(&span, "acme.resource.create.status"),
        Some(Value::from("already_exists"))
    );
    let points = t.points(
        "function.duration",
        &[("code.function.name", "exception_fate::create")],
    );
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].get("error.type"), None);
    let logs = t.logs_named("fate.create.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = &logs[0];
    assert_eq!(log.severity, Some(Severity::Debug));
    assert!(tied(log, &span));
    assert_eq!(log.get("exception.type"), Some("already_exists"));
    assert_eq!(
        log.get("exception.message"),
        Some("resource already exists")
    );
    assert_eq!(
        log.get("acme.resource.create.status"),
        Some("already_exists")
    );
    assert_eq!(
        log.get("code.function.name"),
        Some("exception_fate::create")
    );

    // An error `ok_if` does not accept: an exception, without the attribute.
    assert!(create(false).is_err());
    let logs = t.logs_named("fate.create.exception");
    assert_eq!(logs.len(), 2, "{logs:?}");
    let failed = logs
        .iter()
        .find(|l| l.severity == Some(Severity::Warn))
        .expect("the WARN record");
    assert_eq!(failed.get("exception.type"), Some("timeout"));
    assert_eq!(failed.get("acme.resource.create.status"), None);
    let spans = t.spans_named("fate.create");
    let failed_span = spans
        .iter()
        .find(|s| matches!(s.status, Status::Error { .. }))
        .expect("the failed span");
    assert_eq!(attr(failed_span, "acme.resource.create.status"), None);

    // `log = false`: the attribute, no record.
    assert!(create_quiet().is_err());
    let quiet = t.span("fate.create_quiet");
    assert_eq!(quiet.status, Status::Unset);
    assert_eq!(
        attr(&quiet, "acme.resource.create.status"),
        Some(Value::from("already_exists"))
    );
    assert!(t.logs_named("fate.create_quiet.exception").is_empty());
}

#[tokio::test]
async fn a_handled_error_without_handled_attribute_is_one_debug_record() {
    let t = telemetry();
    assert!(create_plain().await.is_err());
    let span = t.span("fate.create_plain");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(&span, "error.type"), None);
    assert!(!span
        .attributes
        .iter()
        .any(|kv| kv.key.as_str().starts_with("acme.")));
    let logs = t.logs_named("fate.create_plain.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].severity, Some(Severity::Debug));
    assert_eq!(logs[0].get("exception.type"), Some("already_exists"));
    assert!(tied(&logs[0], &span));
    let keys: Vec<&str> = logs[0].attributes.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["code.function.name", "exception.message", "exception.type"]
    );
}

// ---------------------------------------------------------------------------
// Issue 19: a handled fate decided by the caller's `ok_if`, the record's
// message, and its timestamps

/// The repository call: its `NotFound` escapes it (a pending WARN record).
#[instrument_errors(name = "fate.repo.get")]
fn repo_get(found: bool) -> Result<u32, StoreError> {
    if found {
        Ok(1)
    } else {
        Err(StoreError::AlreadyExists)
    }
}

/// The handler accepts that error with `ok_if` (a 404 is fine here).
#[instrument_errors(
    name = "fate.repo.handler",
    ok_if = already_exists,
    handled_attribute = "acme.lookup.outcome",
)]
fn repo_handler() -> Result<u32, StoreError> {
    let n = repo_get(false)?;
    Ok(n)
}

/// The same, two frames up: the middle frame propagates with `?`.
#[instrument_errors(name = "fate.repo.middle")]
fn repo_middle() -> Result<u32, StoreError> {
    repo_get(false)
}

#[instrument_errors(name = "fate.repo.top", ok_if = already_exists)]
fn repo_top() -> Result<u32, StoreError> {
    repo_middle()
}

/// Recovers in plain code: today's rule, one WARN record.
#[instrument_errors(name = "fate.repo.plain")]
fn repo_plain() -> Result<u32, StoreError> {
    Ok(repo_get(false).unwrap_or(0))
}

/// The error escaped a server first (emitted at ERROR there), then a caller
/// accepts it: the record stays as it was.
#[instrument_errors(name = "fate.repo.server", kind = server)]
fn repo_server() -> Result<u32, StoreError> {
    repo_get(false)
}

#[instrument_errors(name = "fate.repo.after_server", ok_if = already_exists)]
fn repo_after_server() -> Result<u32, StoreError> {
    repo_server()
}

#[test]
fn an_error_accepted_by_the_callers_ok_if_is_one_debug_record() {
    let t = telemetry();
    assert!(matches!(repo_handler(), Err(StoreError::AlreadyExists)));
    let repo = t
        .spans_named("fate.repo.get")
        .into_iter()
        .find(|s| s.parent_span_id == t.span("fate.repo.handler").span_context.span_id())
        .expect("the repository span under the handler");
    // The callee's span still records its failure.
    assert!(matches!(repo.status, Status::Error { .. }));
    let handler = t.span("fate.repo.handler");
    assert_eq!(handler.status, Status::Unset);
    assert_eq!(
        attr(&handler, "acme.lookup.outcome"),
        Some(Value::from("already_exists"))
    );
    // One record for the exception: the handler's DEBUG record with its
    // handled attribute, holding the repository's exception and tied to its
    // span; no WARN record of the repository.
    let logs = t.logs_named("fate.repo.handler.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = &logs[0];
    assert_eq!(log.severity, Some(Severity::Debug));
    assert_eq!(log.get("acme.lookup.outcome"), Some("already_exists"));
    assert_eq!(log.get("exception.type"), Some("already_exists"));
    assert_eq!(
        log.get("exception.message"),
        Some("resource already exists")
    );
    assert_eq!(
        log.get("code.function.name"),
        Some("exception_fate::repo_get")
    );
    assert_eq!(
        log.body.as_deref(),
        Some("fate.repo.get failed: resource already exists")
    );
    assert!(tied(log, &repo));
    assert!(
        t.logs_named("fate.repo.get.exception").is_empty(),
        "no WARN"
    );

    // Through a frame that propagates it: still one DEBUG record, no
    // attribute (the accepting caller has none).
    assert!(repo_top().is_err());
    let logs = t.logs_named("fate.repo.top.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].severity, Some(Severity::Debug));
    assert_eq!(
        logs[0].get("code.function.name"),
        Some("exception_fate::repo_get")
    );
    assert!(t.logs_named("fate.repo.middle.exception").is_empty());
    assert!(
        t.logs_named("fate.repo.get.exception").is_empty(),
        "no WARN"
    );
    assert_eq!(t.span("fate.repo.top").status, Status::Unset);
    assert!(matches!(
        t.span("fate.repo.middle").status,
        Status::Error { .. }
    ));
}

#[test]
fn plain_recovery_keeps_warn_and_an_emitted_record_stays() {
    let t = telemetry();
    // Recovered in plain code: WARN, the repository's own record.
    assert_eq!(repo_plain().unwrap(), 0);
    let warn: Vec<Log> = t
        .logs_named("fate.repo.get.exception")
        .into_iter()
        .filter(|l| l.severity == Some(Severity::Warn))
        .collect();
    assert_eq!(warn.len(), 1, "{warn:?}");
    assert!(t.logs_named("fate.repo.plain.exception").is_empty());

    // Escaped a server first: its ERROR record stays, no DEBUG one.
    assert!(repo_after_server().is_err());
    let error: Vec<Log> = t
        .logs_named("fate.repo.get.exception")
        .into_iter()
        .filter(|l| l.severity == Some(Severity::Error))
        .collect();
    assert_eq!(error.len(), 1, "{error:?}");
    assert!(t.logs_named("fate.repo.after_server.exception").is_empty());
    assert!(t.logs_named("fate.repo.server.exception").is_empty());
}

#[instrument_errors(name = "fate.line.sensitive", description = false)]
fn sensitive() -> Result<(), StoreError> {
    Err(StoreError::TimedOut)
}

#[instrument_errors(name = "fate.line.inner")]
fn line_inner() -> Result<(), StoreError> {
    std::thread::sleep(Duration::from_millis(2));
    Err(StoreError::TimedOut)
}

#[instrument_errors(name = "fate.line.outer")]
fn line_outer() -> Result<(), StoreError> {
    let _ = line_inner();
    std::thread::sleep(Duration::from_millis(2));
    Ok(())
}

#[test]
fn the_records_message_names_the_operation_and_the_failure() {
    let t = telemetry();
    assert!(sensitive().is_err());
    let logs = t.logs_named("fate.line.sensitive.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    // `description = false`: the type instead of the message.
    assert_eq!(
        logs[0].body.as_deref(),
        Some("fate.line.sensitive failed: timeout")
    );
    assert_eq!(logs[0].get("exception.message"), None);
    assert_eq!(logs[0].get("exception.type"), Some("timeout"));
    assert!(
        logs[0].get("message").is_none(),
        "the body, not an attribute"
    );
}

#[test]
fn records_carry_the_observed_timestamp_of_their_emission() {
    let t = telemetry();
    assert!(line_outer().is_ok());
    let logs = t.logs_named("fate.line.inner.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = &logs[0];
    assert_eq!(
        log.body.as_deref(),
        Some("fate.line.inner failed: store timed out")
    );
    // opentelemetry-appender-tracing sets no Timestamp; the SDK stamps the
    // ObservedTimestamp when the record is emitted: when its fate is known,
    // here as the outer call returns `Ok`, not when the inner one failed.
    assert_eq!(log.timestamp, None);
    let observed = log.observed_timestamp.expect("an observed timestamp");
    let inner = t.span("fate.line.inner");
    assert!(observed >= inner.end_time, "emitted after the failure");
    assert!(
        observed > inner.end_time + Duration::from_millis(1),
        "at its fate (the caller slept 2 ms after the failure), not at the failure"
    );
}
