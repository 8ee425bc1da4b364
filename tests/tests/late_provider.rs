//! The provider rule (see `instrument_errors::__private::CallSite` and the
//! crate docs, "Providers"): tracer and meter are resolved at a function's
//! first call and kept. A function first called before the providers are
//! installed records nothing, even after they are; a function first called
//! after records normally.
//!
//! This is its own test binary, and has a single test, so that the
//! OpenTelemetry globals are still unset when `before_and_after` starts.

use instrument_errors::{instrument_errors, CODE_FUNCTION_NAME, DEFAULT_METRIC, ERROR_TYPE};
use instrument_errors_tests::{attr, telemetry};
use opentelemetry::Value;

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

#[instrument_errors(name = "late.late")]
fn late(fail: bool) -> Result<u32, Failed> {
    if fail {
        Err(Failed)
    } else {
        Ok(2)
    }
}

#[test]
fn before_and_after() {
    // Before any provider: the call works and resolves `early`'s call site
    // against the no-op globals.
    assert_eq!(early(false).unwrap(), 1);
    assert!(early(true).is_err());

    let t = telemetry();

    // `early` keeps what it found at its first call: still nothing recorded.
    assert_eq!(early(false).unwrap(), 1);
    assert!(early(true).is_err());
    // `late` is first called now: recorded.
    assert_eq!(late(false).unwrap(), 2);
    assert!(late(true).is_err());

    assert!(t.spans_named("late.early").is_empty());
    let early_name = "late_provider::early";
    assert!(t
        .points(DEFAULT_METRIC, &[(CODE_FUNCTION_NAME, early_name)])
        .is_empty());

    let spans = t.spans_named("late.late");
    assert_eq!(spans.len(), 2);
    assert_eq!(
        attr(&spans[0], CODE_FUNCTION_NAME),
        Some(Value::from("late_provider::late"))
    );
    assert_eq!(attr(&spans[0], ERROR_TYPE), None);
    assert_eq!(
        attr(&spans[1], ERROR_TYPE),
        Some(Value::from("late_provider::Failed"))
    );
    let points = t.points(
        DEFAULT_METRIC,
        &[(CODE_FUNCTION_NAME, "late_provider::late")],
    );
    let count = |error_type: Option<&str>| {
        points
            .iter()
            .filter(|p| p.get(ERROR_TYPE) == error_type)
            .map(|p| p.count)
            .sum::<u64>()
    };
    assert_eq!(count(None), 1, "{points:?}");
    assert_eq!(count(Some("late_provider::Failed")), 1, "{points:?}");
    // Everything exported came from `late`.
    let all = t.points(DEFAULT_METRIC, &[]);
    assert!(
        all.iter()
            .all(|p| p.get(CODE_FUNCTION_NAME) == Some("late_provider::late")),
        "{all:?}"
    );
}
