//! The core behaviour on synchronous functions, read back from the real SDK.

use std::borrow::Cow;
use std::fmt;

use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, error_description, telemetry};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;

#[derive(Debug, ErrorType)]
enum StoreError {
    #[error_type("timeout")]
    TimedOut,
    NotFound,
    AlreadyExists,
    Backend {
        code: u16,
    },
}

impl StoreError {
    fn code(&self) -> String {
        match self {
            StoreError::Backend { code } => format!("backend_{code}"),
            _ => "other".to_owned(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::TimedOut => f.write_str("the store timed out after 5s"),
            StoreError::NotFound => f.write_str("no such resource"),
            StoreError::AlreadyExists => f.write_str("resource exists"),
            StoreError::Backend { code } => write!(f, "backend answered {code}"),
        }
    }
}

impl std::error::Error for StoreError {}

fn is_already_exists(e: &StoreError) -> bool {
    matches!(e, StoreError::AlreadyExists)
}

#[instrument_errors(name = "sync.success")]
fn succeed(x: u32) -> Result<u32, StoreError> {
    Ok(x + 1)
}

#[test]
fn success_leaves_status_unset_and_no_error_type() {
    let t = telemetry();
    assert_eq!(succeed(1).unwrap(), 2);
    let span = t.span("sync.success");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(&span, "error.type"), None);
    assert_eq!(
        attr(&span, "code.function.name"),
        Some(Value::from("sync::succeed"))
    );
    assert_eq!(span.span_kind, SpanKind::Internal);
    assert_eq!(span.instrumentation_scope.name(), "instrument-errors-tests");
    assert_eq!(
        span.instrumentation_scope.version(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    let points = t.points(
        "function.duration",
        &[("code.function.name", "sync::succeed")],
    );
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].count, 1);
    assert_eq!(points[0].get("error.type"), None);
    assert_eq!(points[0].unit, "s");
    assert_eq!(points[0].scope, "instrument-errors-tests");
    assert_eq!(
        points[0].bounds,
        vec![0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
    );
}

#[instrument_errors(
    name = "acme.resource.create",
    kind = client,
    metric = "acme.resource.create.duration",
    ok_if = is_already_exists,
    attributes("acme.resource.id" = id, "acme.resource.size" = id.len()),
)]
fn create(id: &str) -> Result<(), StoreError> {
    match id {
        "exists" => Err(StoreError::AlreadyExists),
        "slow" => Err(StoreError::TimedOut),
        "gone" => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

#[test]
fn failure_sets_status_error_type_and_metric() {
    let t = telemetry();
    assert!(matches!(create("slow"), Err(StoreError::TimedOut)));
    assert!(matches!(create("gone"), Err(StoreError::NotFound)));
    assert!(matches!(create("exists"), Err(StoreError::AlreadyExists)));
    assert!(create("fine").is_ok());

    let spans = t.spans_named("acme.resource.create");
    assert_eq!(spans.len(), 4);
    let by_id = |id: &str| {
        spans
            .iter()
            .find(|s| attr(s, "acme.resource.id") == Some(Value::from(id.to_owned())))
            .unwrap_or_else(|| panic!("span for {id}"))
    };
    let slow = by_id("slow");
    assert_eq!(slow.span_kind, SpanKind::Client);
    assert_eq!(
        error_description(slow).as_deref(),
        Some("the store timed out after 5s")
    );
    assert_eq!(attr(slow, "error.type"), Some(Value::from("timeout")));
    assert_eq!(attr(slow, "acme.resource.size"), Some(Value::I64(4)));
    let gone = by_id("gone");
    assert_eq!(attr(gone, "error.type"), Some(Value::from("not_found")));
    assert_eq!(error_description(gone).as_deref(), Some("no such resource"));
    for handled in [by_id("exists"), by_id("fine")] {
        assert_eq!(handled.status, Status::Unset);
        assert_eq!(attr(handled, "error.type"), None);
    }

    let points = t.points("acme.resource.create.duration", &[]);
    let count = |error_type: Option<&str>| {
        points
            .iter()
            .filter(|p| p.get("error.type") == error_type)
            .map(|p| p.count)
            .sum::<u64>()
    };
    assert_eq!(count(None), 2, "{points:?}");
    assert_eq!(count(Some("timeout")), 1);
    assert_eq!(count(Some("not_found")), 1);
    // a named metric carries error.type only
    assert!(points.iter().all(|p| p.get("code.function.name").is_none()));
}

#[derive(Debug)]
struct Opaque;

#[instrument_errors(name = "sync.type_name")]
fn opaque() -> Result<(), Opaque> {
    Err(Opaque)
}

#[test]
fn without_error_type_the_type_name_is_used_and_no_description() {
    let t = telemetry();
    assert!(opaque().is_err());
    let span = t.span("sync.type_name");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("sync::Opaque")));
    // Opaque has no Display: status Error without description
    assert_eq!(error_description(&span).as_deref(), Some(""));
    let points = t.points(
        "function.duration",
        &[("code.function.name", "sync::opaque")],
    );
    assert_eq!(points[0].get("error.type"), Some("sync::Opaque"));
}

#[instrument_errors(name = "sync.error_type", error_type = |e: &StoreError| e.code())]
fn backend(code: u16) -> Result<(), StoreError> {
    Err(StoreError::Backend { code })
}

#[instrument_errors(name = "sync.error_type_path", error_type = StoreError::code)]
fn backend_path(code: u16) -> Result<(), StoreError> {
    Err(StoreError::Backend { code })
}

#[test]
fn error_type_argument_overrides() {
    let t = telemetry();
    let _ = backend(503);
    let _ = backend_path(504);
    let span = t.span("sync.error_type");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("backend_503")));
    assert_eq!(
        error_description(&span).as_deref(),
        Some("backend answered 503")
    );
    let span = t.span("sync.error_type_path");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("backend_504")));
    let points = t.points(
        "function.duration",
        &[("code.function.name", "sync::backend")],
    );
    assert_eq!(points[0].get("error.type"), Some("backend_503"));
}

#[derive(Debug)]
struct Reply {
    code: u16,
}

#[instrument_errors(
    name = "sync.error_if",
    error_if = |r: &Reply| (r.code >= 500).then(|| r.code.to_string()),
)]
fn call(code: u16) -> Result<Reply, StoreError> {
    Ok(Reply { code })
}

#[instrument_errors(name = "sync.error_if_plain", error_if = |n: &i32| (*n < 0).then_some("negative"))]
fn plain(n: i32) -> i32 {
    n
}

#[test]
fn error_if_turns_ok_values_into_failures() {
    let t = telemetry();
    assert_eq!(call(503).unwrap().code, 503);
    assert_eq!(call(200).unwrap().code, 200);
    let spans = t.spans_named("sync.error_if");
    assert_eq!(spans.len(), 2);
    let failed: Vec<_> = spans.iter().filter(|s| s.status != Status::Unset).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(attr(failed[0], "error.type"), Some(Value::from("503")));
    let points = t.points("function.duration", &[("code.function.name", "sync::call")]);
    assert_eq!(points.iter().map(|p| p.count).sum::<u64>(), 2);
    assert!(points.iter().any(|p| p.get("error.type") == Some("503")));

    assert_eq!(plain(-1), -1);
    assert_eq!(plain(1), 1);
    let spans = t.spans_named("sync.error_if_plain");
    assert_eq!(
        spans
            .iter()
            .filter_map(|s| attr(s, "error.type"))
            .collect::<Vec<_>>(),
        vec![Value::from("negative")]
    );
}

#[instrument_errors(name = "sync.sensitive", description = false)]
fn sensitive() -> Result<(), StoreError> {
    Err(StoreError::TimedOut)
}

#[test]
fn description_false_keeps_the_message_out() {
    let t = telemetry();
    let _ = sensitive();
    let span = t.span("sync.sensitive");
    assert_eq!(error_description(&span).as_deref(), Some(""));
    assert_eq!(attr(&span, "error.type"), Some(Value::from("timeout")));
}

#[instrument_errors(name = "sync.panic")]
fn explode(n: u32) -> Result<u32, StoreError> {
    if n > 0 {
        panic!("exploded with {n}");
    }
    Ok(n)
}

#[test]
fn panics_are_recorded_and_continue_unchanged() {
    let t = telemetry();
    let payload = std::panic::catch_unwind(|| explode(7)).expect_err("panics");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("exploded with 7")
    );
    let span = t.span("sync.panic");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("panic")));
    assert_eq!(error_description(&span).as_deref(), Some("exploded with 7"));
    let points = t.points(
        "function.duration",
        &[("code.function.name", "sync::explode")],
    );
    assert_eq!(points[0].get("error.type"), Some("panic"));
}

type MyResult<T> = Result<T, StoreError>;

mod shadow {
    pub type Outcome<T> = std::io::Result<T>;
}

#[instrument_errors(name = "sync.alias.io")]
fn io_alias() -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "missing file",
    ))
}

#[instrument_errors(name = "sync.alias.anyhow")]
fn anyhow_alias() -> anyhow::Result<()> {
    anyhow::bail!("anyhow failed")
}

#[instrument_errors(name = "sync.alias.user")]
fn user_alias() -> MyResult<()> {
    Err(StoreError::NotFound)
}

#[instrument_errors(name = "sync.alias.nested")]
fn nested_alias() -> shadow::Outcome<u8> {
    Err(std::io::Error::other("nested"))
}

#[test]
fn result_aliases_are_results() {
    let t = telemetry();
    let _ = io_alias();
    let _ = anyhow_alias();
    let _ = user_alias();
    let _ = nested_alias();
    let io = t.span("sync.alias.io");
    assert_eq!(
        attr(&io, "error.type"),
        Some(Value::from("std::io::ErrorKind::NotFound"))
    );
    assert_eq!(error_description(&io).as_deref(), Some("missing file"));
    let any = t.span("sync.alias.anyhow");
    // A bare message: no type to tell (issue 11), never the wrapper's name.
    assert_eq!(attr(&any, "error.type"), Some(Value::from("_OTHER")));
    assert_eq!(error_description(&any).as_deref(), Some("anyhow failed"));
    let user = t.span("sync.alias.user");
    assert_eq!(attr(&user, "error.type"), Some(Value::from("not_found")));
    let nested = t.span("sync.alias.nested");
    assert_eq!(error_description(&nested).as_deref(), Some("nested"));
}

#[instrument_errors(name = "sync.nest.inner")]
fn inner() -> Result<(), StoreError> {
    Err(StoreError::NotFound)
}

#[instrument_errors(name = "sync.nest.outer")]
fn outer() -> Result<(), StoreError> {
    inner()?;
    Ok(())
}

#[test]
fn nested_calls_nest_and_both_fail() {
    let t = telemetry();
    let _ = outer();
    let inner = t.span("sync.nest.inner");
    let outer = t.span("sync.nest.outer");
    assert_eq!(inner.parent_span_id, outer.span_context.span_id());
    assert_eq!(inner.span_context.trace_id(), outer.span_context.trace_id());
    assert_eq!(attr(&outer, "error.type"), Some(Value::from("not_found")));
    assert_eq!(attr(&inner, "error.type"), Some(Value::from("not_found")));
}

#[test]
fn the_span_is_a_child_of_the_current_context() {
    use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
    let t = telemetry();
    let tracer = opentelemetry::global::tracer("test");
    tracer.in_span("sync.parent", |_cx| {
        let _ = succeed_child();
    });
    let parent = t.span("sync.parent");
    let child = t.span("sync.child");
    assert_eq!(child.parent_span_id, parent.span_context.span_id());
    let _ = opentelemetry::Context::current()
        .span()
        .span_context()
        .is_valid();
}

#[instrument_errors(name = "sync.child")]
fn succeed_child() -> Result<(), StoreError> {
    Ok(())
}

#[derive(Debug, Clone, Copy)]
struct Code(u16);

impl ErrorType for Code {
    fn error_type(&self) -> Cow<'static, str> {
        Cow::Owned(self.0.to_string())
    }
}

#[instrument_errors(name = "sync.manual_error_type")]
fn manual(code: u16) -> Result<(), Code> {
    Err(Code(code))
}

#[test]
fn manual_error_type_impl() {
    let t = telemetry();
    let _ = manual(418);
    let span = t.span("sync.manual_error_type");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("418")));
}

fn panicking_ok_if(_: &StoreError) -> bool {
    panic!("the classifier is broken")
}

#[instrument_errors(name = "sync.panicking_classifier", ok_if = panicking_ok_if)]
fn classified_by_a_panicking_closure() -> Result<u8, StoreError> {
    Err(StoreError::NotFound)
}

#[test]
fn a_panicking_classifier_does_not_change_the_result() {
    let t = telemetry();
    // The classifier's panic is reported by the panic hook, then contained.
    assert!(matches!(
        classified_by_a_panicking_closure(),
        Err(StoreError::NotFound)
    ));
    let span = t.span("sync.panicking_classifier");
    assert_eq!(span.status, Status::Unset);
}

#[instrument_errors(name = "sync.timed", metric = "sync.timed.duration")]
fn timed(fail: bool) -> Result<(), StoreError> {
    std::thread::sleep(std::time::Duration::from_millis(2));
    if fail {
        Err(StoreError::TimedOut)
    } else {
        Ok(())
    }
}

#[test]
fn span_and_metric_point_have_the_same_duration() {
    let t = telemetry();
    timed(false).unwrap();
    timed(true).unwrap_err();
    let spans = t.spans_named("sync.timed");
    assert_eq!(spans.len(), 2);
    let points = t.points("sync.timed.duration", &[]);
    for (span, error_type) in spans.iter().zip([None, Some("timeout")]) {
        let span_seconds = span
            .end_time
            .duration_since(span.start_time)
            .expect("the span ends after it starts")
            .as_secs_f64();
        let point = points
            .iter()
            .find(|p| p.get("error.type") == error_type)
            .expect("a point per outcome");
        assert_eq!(point.count, 1);
        // One measurement, two views of it: exactly equal, not just close.
        assert_eq!(span_seconds, point.sum, "{error_type:?}");
        assert!(span_seconds >= 0.002);
    }
}

#[instrument_errors(name = "sync.wall")]
fn wall(sleep_ms: u64) -> Result<(), StoreError> {
    std::thread::sleep(std::time::Duration::from_millis(sleep_ms));
    Ok(())
}

/// The span's start is the call's monotonic start placed on the wall clock
/// by a per-thread anchor (taken again every 100 ms): its timestamps are
/// those of the wall clock, for calls close together and far apart.
#[test]
fn span_timestamps_are_on_the_wall_clock() {
    use std::time::{Duration, SystemTime};
    let t = telemetry();
    // Room for the jitter of reading two clocks one after the other (and
    // for a thread preempted while it reads them, on a loaded machine).
    let slack = Duration::from_millis(20);
    let mut windows = Vec::new();
    // Two calls within the anchor's 100 ms, then one after it.
    for sleep_ms in [1, 1, 150] {
        std::thread::sleep(Duration::from_millis(sleep_ms));
        let before = SystemTime::now();
        wall(2).unwrap();
        windows.push((before, SystemTime::now()));
    }
    let spans = t.spans_named("sync.wall");
    assert_eq!(spans.len(), 3);
    for (span, (before, after)) in spans.iter().zip(windows) {
        assert!(span.start_time + slack >= before, "{span:?} {before:?}");
        assert!(span.end_time <= after + slack, "{span:?} {after:?}");
        let d = span.end_time.duration_since(span.start_time).unwrap();
        assert!(d >= Duration::from_millis(2), "{d:?}");
    }
}
