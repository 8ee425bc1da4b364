//! Issue 19: with backtraces on, a panic's `exception.stacktrace` starts at
//! the panicking frame: no frames of this crate, of std's panic machinery or
//! of `catch_unwind`. One test: backtrace capture is decided once per
//! process (`RUST_LIB_BACKTRACE=1`, set before anything else).

use std::panic::catch_unwind;

use instrument_errors::instrument_errors;
use instrument_errors_tests::telemetry;

const PANIC_LINE: u32 = line!() + 3;
#[inline(never)]
fn deep_in_the_store(key: u32) -> u32 {
    panic!("no row for key {key}")
}

#[instrument_errors(name = "bt.handler")]
fn handler(key: u32) -> u32 {
    deep_in_the_store(key) + 1
}

#[instrument_errors(name = "bt.async")]
async fn async_handler(key: u32) -> u32 {
    tokio::task::yield_now().await;
    deep_in_the_store(key)
}

fn check(st: &str) {
    let file = std::panic::Location::caller().file();
    let mut lines = st.lines();
    assert_eq!(
        lines.next(),
        Some(format!("panicked at {file}:{PANIC_LINE}:5").as_str()),
        "{st}"
    );
    assert_eq!(
        lines.next().map(str::trim),
        Some("0: panic_backtrace::deep_in_the_store"),
        "the first frame is the panicking function:\n{st}"
    );
    for hidden in [
        "instrument_errors::",
        "catch_unwind",
        "std::panicking",
        "core::panicking",
        "rust_begin_unwind",
        "__rust_try",
    ] {
        assert!(!st.contains(hidden), "{hidden} in\n{st}");
    }
    assert!(
        st.contains("panic_backtrace::handler") || st.contains("panic_backtrace::async_handler"),
        "{st}"
    );
}

#[test]
fn with_backtraces_on_the_stack_trace_starts_at_the_panicking_frame() {
    std::env::set_var("RUST_LIB_BACKTRACE", "1");
    let t = telemetry();
    assert!(catch_unwind(|| handler(7)).is_err());
    let logs = t.logs_named("bt.handler.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    let st = logs[0].get("exception.stacktrace").expect("a stack trace");
    check(st);
    assert_eq!(
        logs[0].body.as_deref(),
        Some("bt.handler failed: no row for key 7")
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let joined = rt.block_on(async { tokio::spawn(async_handler(8)).await });
    assert!(joined.unwrap_err().is_panic());
    let logs = t.logs_named("bt.async.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    check(logs[0].get("exception.stacktrace").expect("a stack trace"));
}
