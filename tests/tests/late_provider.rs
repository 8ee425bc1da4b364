//! The provider rule (see `instrument_errors::__private::CallSite` and the
//! crate docs, "Providers"): a function first called before the providers
//! are installed (during start-up) records once they are, from its next call:
//! nothing recorded after the installation is lost.
//!
//! This is its own test binary, and has a single test, so that the
//! OpenTelemetry globals and the `tracing` dispatcher are still unset when
//! `before_and_after` starts; it installs them one at a time.

use instrument_errors::{instrument_errors, CODE_FUNCTION_NAME, DEFAULT_METRIC, ERROR_TYPE};
use instrument_errors_tests::{attr, in_memory_logger, Telemetry};
use opentelemetry::{global, Value};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt as _;

#[derive(Debug)]
struct Failed;

#[instrument_errors(name = "late.early")]
fn early(fail: bool) -> Result<u32, Failed> {
    if fail {
        Err(Failed)
    } else {
        Ok(1)
    }
}

#[instrument_errors(name = "late.early_async")]
async fn early_async(fail: bool) -> Result<u32, Failed> {
    if fail {
        Err(Failed)
    } else {
        Ok(3)
    }
}

#[instrument_errors(name = "late.late")]
fn late(fail: bool) -> Result<u32, Failed> {
    if fail {
        Err(Failed)
    } else {
        Ok(2)
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(f)
}

#[test]
fn before_and_after() {
    // 1. Nothing installed: the calls work, and resolve their call sites
    // against the no-op globals.
    assert_eq!(early(false).unwrap(), 1);
    assert!(early(true).is_err());
    assert_eq!(block_on(early_async(false)).unwrap(), 3);

    // 2. A `tracing` subscriber (the logs bridge), still no provider: the
    // exception events of `early` are emitted from its next call.
    let (logs, logger_provider) = in_memory_logger();
    let bridge = OpenTelemetryTracingBridge::new(&logger_provider);
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(bridge))
        .expect("no other subscriber");
    assert!(early(true).is_err());

    // 3. The tracer provider. No cheap signal tells an already resolved call
    // site about it, until a call site finds it at its first call (`late`):
    // from then on `early` records its spans too.
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    assert!(late(true).is_err());
    assert_eq!(early(false).unwrap(), 1);
    assert!(block_on(early_async(true)).is_err());

    // 4. The meter provider: the durations of both, from their next call.
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    global::set_meter_provider(meter_provider.clone());
    assert!(early(true).is_err());
    assert_eq!(late(false).unwrap(), 2);
    assert_eq!(block_on(early_async(false)).unwrap(), 3);

    let t = Telemetry {
        spans,
        metrics,
        logs,
        tracer_provider,
        meter_provider,
        logger_provider,
    };

    // Exception records: `early`'s failure of step 2 (events only, no span)
    // and of step 4; `late`'s and `early_async`'s of step 3.
    let early_logs = t.logs_named("late.early.exception");
    assert_eq!(early_logs.len(), 2, "{early_logs:?}");
    assert_eq!(early_logs[0].span_id, None, "no span at step 2");
    assert!(early_logs[1].span_id.is_some());
    assert_eq!(t.logs_named("late.late.exception").len(), 1);
    assert_eq!(t.logs_named("late.early_async.exception").len(), 1);

    // Spans: every call from step 3 on.
    let early_spans = t.spans_named("late.early");
    assert_eq!(early_spans.len(), 2, "{early_spans:?}");
    assert_eq!(attr(&early_spans[0], ERROR_TYPE), None);
    assert_eq!(
        attr(&early_spans[1], ERROR_TYPE),
        Some(Value::from("late_provider::Failed"))
    );
    assert_eq!(t.spans_named("late.late").len(), 2);
    let async_spans = t.spans_named("late.early_async");
    assert_eq!(async_spans.len(), 2, "{async_spans:?}");
    assert_eq!(
        attr(&async_spans[0], ERROR_TYPE),
        Some(Value::from("late_provider::Failed"))
    );

    // Durations: every call of step 4, one each.
    for (function, error_type) in [
        ("late_provider::early", Some("late_provider::Failed")),
        ("late_provider::late", None),
        ("late_provider::early_async", None),
    ] {
        let points = t.points(DEFAULT_METRIC, &[(CODE_FUNCTION_NAME, function)]);
        assert_eq!(points.len(), 1, "{function}: {points:?}");
        assert_eq!(points[0].count, 1, "{function}: {points:?}");
        assert_eq!(points[0].get(ERROR_TYPE), error_type, "{function}");
    }
}
