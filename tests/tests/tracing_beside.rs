//! Issue 18: `#[tracing::instrument]` on the same function, in both orders,
//! and `span = current`, with tracing-opentelemetry's layer (default
//! settings) and `opentelemetry-appender-tracing`'s bridge on the SDK.
//!
//! Attribute macros expand from the top, so the attribute written lower
//! wraps the other: with `#[instrument_errors]` above `#[tracing::instrument]`
//! the `tracing` span is the parent of ours; below it, ours is the parent.
//! Either way the exception record is tied to our span.

use std::fmt;
use std::sync::OnceLock;

use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{
    attr, error_description, in_memory_logger, install_traces_and_metrics, Telemetry,
};
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
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
enum JobError {
    #[error_type("timeout")]
    TimedOut,
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the job timed out")
    }
}

fn string_attr(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

fn parent_of(child: &SpanData) -> opentelemetry::trace::SpanId {
    child.parent_span_id
}

// ------------------------------------------------------------ both orders

#[instrument_errors(name = "beside.ours_above", kind = server)]
#[tracing::instrument(name = "beside.tracing_below")]
fn ours_above(fail: bool) -> Result<u8, JobError> {
    if fail {
        Err(JobError::TimedOut)
    } else {
        Ok(1)
    }
}

#[tracing::instrument(name = "beside.tracing_above")]
#[instrument_errors(name = "beside.ours_below", kind = server)]
fn ours_below(fail: bool) -> Result<u8, JobError> {
    if fail {
        Err(JobError::TimedOut)
    } else {
        Ok(1)
    }
}

#[instrument_errors(name = "beside.ours_above_async")]
#[tracing::instrument(name = "beside.tracing_below_async")]
async fn ours_above_async(fail: bool) -> Result<u8, JobError> {
    tokio::task::yield_now().await;
    if fail {
        Err(JobError::TimedOut)
    } else {
        Ok(1)
    }
}

#[tracing::instrument(name = "beside.tracing_above_async")]
#[instrument_errors(name = "beside.ours_below_async")]
async fn ours_below_async(fail: bool) -> Result<u8, JobError> {
    tokio::task::yield_now().await;
    if fail {
        Err(JobError::TimedOut)
    } else {
        Ok(1)
    }
}

/// `outer` is the parent of `inner`, ours carries the outcome, the tracing
/// span stays Unset, and the one exception record is tied to ours.
fn check_order(outer: &str, inner: &str, ours: &str) {
    let t = telemetry();
    let outer = t.span(outer);
    let inner = t.span(inner);
    assert_eq!(parent_of(&inner), outer.span_context.span_id());
    assert_eq!(inner.span_context.trace_id(), outer.span_context.trace_id());
    let (ours_span, theirs) = if outer.name == ours {
        (&outer, &inner)
    } else {
        (&inner, &outer)
    };
    assert!(matches!(ours_span.status, Status::Error { .. }));
    assert_eq!(
        string_attr(ours_span, "error.type").as_deref(),
        Some("timeout")
    );
    assert_eq!(theirs.status, Status::Unset);
    assert_eq!(string_attr(theirs, "error.type"), None);
    let logs = t.logs_named(&format!("{ours}.exception"));
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].span_id, Some(ours_span.span_context.span_id()));
    assert_eq!(logs[0].trace_id, Some(ours_span.span_context.trace_id()));
}

#[test]
fn ours_above_tracing_instrument_is_the_child() {
    telemetry();
    assert!(ours_above(true).is_err());
    check_order(
        "beside.tracing_below",
        "beside.ours_above",
        "beside.ours_above",
    );
}

#[test]
fn ours_below_tracing_instrument_is_the_parent() {
    telemetry();
    assert!(ours_below(true).is_err());
    check_order(
        "beside.ours_below",
        "beside.tracing_above",
        "beside.ours_below",
    );
}

#[tokio::test]
async fn both_orders_async() {
    telemetry();
    assert!(ours_above_async(true).await.is_err());
    assert!(ours_below_async(true).await.is_err());
    check_order(
        "beside.tracing_below_async",
        "beside.ours_above_async",
        "beside.ours_above_async",
    );
    check_order(
        "beside.ours_below_async",
        "beside.tracing_above_async",
        "beside.ours_below_async",
    );
}

// ------------------------------------------------------------ span = current

#[instrument_errors(span = current, attributes("job.name" = name))]
#[tracing::instrument(name = "current.job", skip(name))]
fn run_job(name: String, fail: bool) -> Result<usize, JobError> {
    if fail {
        Err(JobError::TimedOut)
    } else {
        Ok(name.len())
    }
}

#[instrument_errors(span = current, metric = "current.async.duration")]
#[tracing::instrument]
async fn current_async(fail: bool) -> Result<u8, JobError> {
    tokio::task::yield_now().await;
    if fail {
        Err(JobError::TimedOut)
    } else {
        Ok(2)
    }
}

#[instrument_errors(span = current)]
#[tracing::instrument(name = "current.filtered", level = "trace")]
fn filtered(fail: bool) -> Result<u8, JobError> {
    if fail {
        Err(JobError::TimedOut)
    } else {
        Ok(3)
    }
}

#[test]
fn span_current_records_on_the_tracing_span() {
    let t = telemetry();
    // The `tracing` span carries no `code.function.name`: no span of ours.
    assert_eq!(run_job("nightly".to_owned(), false).ok(), Some(7));
    assert!(run_job("hourly".to_owned(), true).is_err());
    let spans = t.spans_named("current.job");
    assert_eq!(spans.len(), 2, "no span of its own: {spans:?}");
    assert!(spans
        .iter()
        .all(|s| string_attr(s, "code.function.name").is_none()));
    // Success: the tracing span stays Unset.
    assert_eq!(spans[0].status, Status::Unset);
    assert_eq!(string_attr(&spans[0], "error.type"), None);
    assert_eq!(
        string_attr(&spans[0], "job.name").as_deref(),
        Some("nightly")
    );
    // Failure: status Error with the description, and error.type.
    assert_eq!(
        error_description(&spans[1]).as_deref(),
        Some("the job timed out")
    );
    assert_eq!(
        string_attr(&spans[1], "error.type").as_deref(),
        Some("timeout")
    );
    assert_eq!(
        string_attr(&spans[1], "job.name").as_deref(),
        Some("hourly")
    );
    assert_eq!(spans[1].span_kind, SpanKind::Internal);
    // The duration points, as usual.
    let points = t.points(
        "function.duration",
        &[("code.function.name", "tracing_beside::run_job")],
    );
    assert_eq!(points.iter().map(|p| p.count).sum::<u64>(), 2);
    assert_eq!(
        points
            .iter()
            .filter(|p| p.get("error.type") == Some("timeout"))
            .map(|p| p.count)
            .sum::<u64>(),
        1
    );
    // One exception record, tied to the tracing span, at WARN.
    let logs = t.logs_named("current.job.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].span_id, Some(spans[1].span_context.span_id()));
    assert_eq!(logs[0].severity, Some(Severity::Warn));
    assert_eq!(logs[0].get("exception.type"), Some("timeout"));
}

#[tokio::test]
async fn span_current_async() {
    let t = telemetry();
    assert!(current_async(true).await.is_err());
    let span = t.span("current_async");
    assert_eq!(string_attr(&span, "error.type").as_deref(), Some("timeout"));
    assert!(matches!(span.status, Status::Error { .. }));
    let points = t.points("current.async.duration", &[("error.type", "timeout")]);
    assert_eq!(points.iter().map(|p| p.count).sum::<u64>(), 1);
    let logs = t.logs_named("current_async.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].span_id, Some(span.span_context.span_id()));
}

#[test]
fn span_current_without_a_tracing_span_starts_its_own() {
    let t = telemetry();
    // tracing-opentelemetry's layer filtered at DEBUG: the TRACE `tracing`
    // span is not recorded, so no span of its is current.
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::Layer as _;
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(t.tracer_provider.tracer("tracing"))
                .with_filter(tracing_subscriber::filter::LevelFilter::DEBUG),
        )
        .with(OpenTelemetryTracingBridge::new(&t.logger_provider));
    tracing::subscriber::with_default(subscriber, || assert!(filtered(true).is_err()));
    let spans = t.spans_named("current.filtered");
    assert_eq!(spans.len(), 1);
    // Its own: with `code.function.name`, which the `tracing` span lacks.
    assert_eq!(
        string_attr(&spans[0], "code.function.name").as_deref(),
        Some("tracing_beside::filtered")
    );
    assert_eq!(
        string_attr(&spans[0], "error.type").as_deref(),
        Some("timeout")
    );
    assert!(matches!(spans[0].status, Status::Error { .. }));
    let logs = t.logs_named("current.filtered.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].span_id, Some(spans[0].span_context.span_id()));
}
