//! `instrument_errors::testing::capture` with the SDK installed as the global
//! providers (and a `tracing` bridge to its logs): what a capture holds is
//! what the in-memory exporters receive, for every outcome; sampled-out
//! calls are captured too; tests run in parallel.
//!
//! `cargo test -p instrument-errors-tests --features testing --test capture_sdk`

use std::time::Duration;

use instrument_errors::testing::{capture, capture_future, Call};
use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::telemetry;
use opentelemetry::trace::{
    SpanContext, SpanId, Status, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue};

#[derive(Debug, ErrorType)]
enum StoreError {
    #[error_type("timeout")]
    TimedOut,
    AlreadyExists,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoreError::TimedOut => "the store timed out",
            StoreError::AlreadyExists => "it exists",
        })
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::TimedOut => Some(&Cause),
            StoreError::AlreadyExists => None,
        }
    }
}

#[derive(Debug)]
struct Cause;
impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no answer in 2s")
    }
}
impl std::error::Error for Cause {}

fn exists(e: &StoreError) -> bool {
    matches!(e, StoreError::AlreadyExists)
}

#[instrument_errors(name = "agree.ok", kind = client, attributes("agree.id" = i64::from(id)))]
fn ok(id: u32) -> Result<u32, StoreError> {
    Ok(id)
}

#[instrument_errors(name = "agree.err", kind = producer, metric = "agree.err.duration")]
fn err() -> Result<u32, StoreError> {
    Err(StoreError::TimedOut)
}

#[instrument_errors(name = "agree.handled", ok_if = exists, handled_attribute = "agree.status")]
fn handled() -> Result<(), StoreError> {
    Err(StoreError::AlreadyExists)
}

#[instrument_errors(
    name = "agree.rejected",
    error_if = |s: &u16| (*s >= 500).then(|| s.to_string()),
    result_attributes = |s: &u16| [KeyValue::new("agree.status_code", i64::from(*s))],
)]
fn rejected(status: u16) -> u16 {
    status
}

#[instrument_errors(name = "agree.panic", log_level = info)]
fn panics() -> Result<(), StoreError> {
    panic!("kaboom")
}

#[instrument_errors(name = "agree.inner")]
fn inner() -> Result<(), StoreError> {
    Err(StoreError::TimedOut)
}

#[instrument_errors(name = "agree.outer", kind = server, metric = "agree.outer.duration")]
fn outer() -> Result<(), StoreError> {
    inner()?;
    Ok(())
}

#[instrument_errors(name = "agree.async", kind = consumer, description = false)]
async fn in_async(fail: bool) -> Result<(), StoreError> {
    tokio::task::yield_now().await;
    if fail {
        Err(StoreError::TimedOut)
    } else {
        Ok(())
    }
}

#[instrument_errors(name = "agree.cancelled", metric = "agree.cancelled.duration")]
async fn never_finishes() -> Result<(), StoreError> {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

#[instrument_errors(
    name = "agree.http",
    kind = server,
    http,
    metric = "agree.http.duration",
    metric_attributes("agree.route" = "/items"),
)]
fn http_503() -> http::StatusCode {
    http::StatusCode::SERVICE_UNAVAILABLE
}

#[instrument_errors(name = "agree.sampled_out")]
fn sampled_out() -> Result<(), StoreError> {
    Err(StoreError::TimedOut)
}

fn sorted(attributes: impl IntoIterator<Item = KeyValue>) -> Vec<(String, String)> {
    let mut v: Vec<_> = attributes
        .into_iter()
        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
        .collect();
    v.sort();
    v
}

/// The span, the duration point and the log record the exporters received
/// for `call` are the ones the capture holds.
fn agrees(call: &Call) {
    let t = telemetry();
    let span = t.span(call.name());
    assert_eq!(span.span_kind, call.kind(), "{}", call.name());
    assert_eq!(&span.status, call.status(), "{}", call.name());
    assert_eq!(
        sorted(span.attributes.iter().cloned()),
        sorted(call.span_attributes().iter().cloned()),
        "{}",
        call.name()
    );
    if call.metric_recorded() {
        let mut expected = Vec::new();
        for key in [
            "agree.route",
            "code.function.name",
            "error.type",
            "http.response.status_code",
        ] {
            if let Some(value) = call.metric_attribute(key) {
                expected.push((key.to_owned(), value.to_string()));
            }
        }
        let points = t.points(call.metric_name(), &[]);
        assert!(
            points.iter().any(|p| p.attributes == expected),
            "{}: {expected:?} not among {points:?}",
            call.name()
        );
    } else {
        assert!(t.points(call.metric_name(), &[]).is_empty());
    }
    let event = format!("{}.exception", call.name());
    let logs = t.logs_named(&event);
    match call.record() {
        Some(record) => {
            assert_eq!(logs.len(), 1, "{event}");
            assert_eq!(record.event_name(), event);
            assert_eq!(logs[0].severity, Some(record.severity()), "{event}");
            assert_eq!(
                logs[0].attributes,
                sorted(record.attributes().iter().cloned()),
                "{event}"
            );
            let span_context = span.span_context;
            assert_eq!(logs[0].span_id, Some(span_context.span_id()));
        }
        None => assert!(logs.is_empty(), "{event}: {logs:?}"),
    }
}

#[test]
fn agreement_with_the_exporters_for_every_outcome() {
    telemetry();
    let (_, captured) = capture(|| {
        let _ = ok(7);
        let _ = err();
        let _ = handled();
        let _ = rejected(503);
        let _ = std::panic::catch_unwind(panics);
        let _ = outer();
        let _ = http_503();
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (_, captured_async) = runtime.block_on(capture_future(async {
        let _ = in_async(true).await;
        let _ = tokio::time::timeout(Duration::from_millis(10), never_finishes()).await;
    }));
    let calls: Vec<&Call> = captured
        .calls()
        .iter()
        .chain(captured_async.calls())
        .collect();
    let names: Vec<&str> = calls.iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "agree.ok",
            "agree.err",
            "agree.handled",
            "agree.rejected",
            "agree.panic",
            "agree.inner",
            "agree.outer",
            "agree.http",
            "agree.async",
            "agree.cancelled"
        ]
    );
    for call in &calls {
        agrees(call);
    }
    // What each outcome recorded, as the conventions ask.
    let by_name = |n: &str| *calls.iter().find(|c| c.name() == n).expect(n);
    assert_eq!(by_name("agree.ok").status(), &Status::Unset);
    assert_eq!(by_name("agree.err").error_type(), Some("timeout"));
    assert_eq!(
        by_name("agree.err")
            .record()
            .and_then(|r| r.attribute("exception.stacktrace"))
            .map(|v| v.to_string()),
        Some("caused by (0): no answer in 2s\n".to_owned())
    );
    assert!(by_name("agree.handled").record().is_some());
    assert_eq!(by_name("agree.rejected").error_type(), Some("503"));
    assert_eq!(by_name("agree.panic").error_type(), Some("panic"));
    assert_eq!(by_name("agree.inner").parent(), Some("agree.outer"));
    assert_eq!(
        by_name("agree.inner").record().map(|r| r.severity()),
        Some(opentelemetry::logs::Severity::Error)
    );
    assert_eq!(by_name("agree.async").status(), &Status::error(""));
    // Later arguments (a protocol flag, `metric_attributes`) are captured as
    // the runtime records them.
    let http = by_name("agree.http");
    assert_eq!(http.error_type(), Some("503"));
    assert_eq!(
        http.metric_attribute("http.response.status_code"),
        Some(&opentelemetry::Value::I64(503))
    );
    assert_eq!(
        http.metric_attribute("agree.route"),
        Some(&opentelemetry::Value::from("/items"))
    );
    assert_eq!(
        http.span_attribute("agree.route"),
        Some(&opentelemetry::Value::from("/items"))
    );
    assert!(!by_name("agree.cancelled").metric_recorded());
}

/// A call the sampler drops is captured all the same; the exporter gets no
/// span for it, but the same point and record.
#[test]
fn sampled_out_calls_are_captured() {
    telemetry();
    let not_sampled = SpanContext::new(
        TraceId::from(7_u128),
        SpanId::from(7_u64),
        TraceFlags::NOT_SAMPLED,
        true,
        TraceState::NONE,
    );
    let _parent = Context::current()
        .with_remote_span_context(not_sampled)
        .attach();
    let (_, captured) = capture(sampled_out);
    let call = captured.call("agree.sampled_out");
    assert_eq!(call.error_type(), Some("timeout"));
    assert_eq!(call.status(), &Status::error("the store timed out"));
    assert!(telemetry().spans_named("agree.sampled_out").is_empty());
    let points = telemetry().points(
        "function.duration",
        &[("code.function.name", "capture_sdk::sampled_out")],
    );
    assert_eq!(
        points[0].get("error.type"),
        call.metric_attribute("error.type")
            .map(|v| v.to_string())
            .as_deref()
    );
    let logs = telemetry().logs_named("agree.sampled_out.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(
        Some(logs[0].severity.expect("severity")),
        call.record().map(|r| r.severity())
    );
}

#[instrument_errors(name = "agree.parallel", attributes("agree.thread" = i64::from(t)))]
fn parallel(t: u32) -> Result<(), StoreError> {
    Ok(())
}

/// With the providers installed too, parallel captures see their own calls.
#[test]
fn parallel_captures_with_providers() {
    telemetry();
    let handles: Vec<_> = (0..4u32)
        .map(|t| {
            std::thread::spawn(move || {
                let ((), captured) = capture(|| {
                    for _ in 0..50 {
                        let _ = parallel(t);
                    }
                });
                assert_eq!(captured.calls().len(), 50);
                assert!(captured
                    .calls()
                    .iter()
                    .all(|c| c.span_attribute("agree.thread")
                        == Some(&opentelemetry::Value::I64(i64::from(t)))));
            })
        })
        .collect();
    for h in handles {
        h.join().expect("passed");
    }
    assert_eq!(telemetry().spans_named("agree.parallel").len(), 200);
}
