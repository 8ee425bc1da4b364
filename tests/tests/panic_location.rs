//! Issue 19: a panic's record says where the panic happened, with
//! backtraces off, through the panic hook the runtime installs once; the
//! application's own hook still runs; no stale location is ever attached.
//!
//! Backtrace capture is decided once per process, and the hook is installed
//! once per process, so this binary has one test that runs the steps in
//! order, with `RUST_LIB_BACKTRACE=0` set before anything else.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use instrument_errors::instrument_errors;
use instrument_errors_tests::telemetry;

/// The location of the panic in [`boom`].
const BOOM_LINE: u32 = line!() + 4;

#[instrument_errors(name = "loc.boom")]
fn boom() -> u32 {
    panic!("boom {}", std::hint::black_box(42))
}

/// `unwrap` on `None` panics in core, with the caller's location.
const UNWRAP_LINE: u32 = line!() + 4;

#[instrument_errors(name = "loc.unwrap")]
fn unwraps(v: Option<u32>) -> u32 {
    v.unwrap()
}

/// Catches a panic of its own, then re-raises another payload with
/// `resume_unwind`, which does not run the hook.
#[instrument_errors(name = "loc.resumed")]
fn resumed() -> u32 {
    let caught = catch_unwind(|| panic!("caught inside"));
    assert!(caught.is_err());
    resume_unwind(Box::new(String::from("resumed payload")))
}

/// Re-raises the very panic it caught: the location is that panic's.
const RERAISED_LINE: u32 = line!() + 4;

#[instrument_errors(name = "loc.reraised")]
fn reraised() -> u32 {
    let payload = catch_unwind(|| panic!("first and only")).unwrap_err();
    resume_unwind(payload)
}

/// A payload that is not a string: no location (it could not be told from
/// another one's).
#[instrument_errors(name = "loc.any")]
fn any_payload() -> u32 {
    std::panic::panic_any(7u8)
}

#[instrument_errors(name = "loc.during_unwind")]
fn first_called_while_panicking() -> Result<u32, std::io::Error> {
    Ok(1)
}

struct CallsOnDrop;
impl Drop for CallsOnDrop {
    fn drop(&mut self) {
        // The first call of any instrumented function in this process,
        // made while the thread is panicking: `set_hook` would panic (and
        // abort the process) here; the hook is installed later.
        assert_eq!(first_called_while_panicking().unwrap(), 1);
    }
}

/// What the application's own hook saw.
static APP_HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);
static APP_HOOK_SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn stacktrace(event: &str) -> Option<String> {
    let logs = telemetry().logs_named(event);
    assert_eq!(logs.len(), 1, "{event}: {logs:?}");
    logs[0].get("exception.stacktrace").map(str::to_owned)
}

#[test]
fn a_panics_record_holds_its_location() {
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    // The application's hook, set before any instrumented call.
    std::panic::set_hook(Box::new(|info| {
        APP_HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        APP_HOOK_SEEN.lock().unwrap().push(at.unwrap_or_default());
        eprintln!("the application's hook: {info}");
    }));
    telemetry();

    // 1. Never installed while a thread panics.
    let unwound = catch_unwind(|| {
        let _d = CallsOnDrop;
        panic!("outside any instrumented call")
    });
    assert!(unwound.is_err(), "the process is still here");
    assert_eq!(APP_HOOK_CALLS.load(Ordering::SeqCst), 1);

    // 2. The location of the `panic!` line, with backtraces off; the
    //    application's hook still runs, once, and sees the panic.
    let payload = catch_unwind(boom).unwrap_err();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("boom 42"),
        "the same payload continues"
    );
    assert_eq!(APP_HOOK_CALLS.load(Ordering::SeqCst), 2);
    let file = Location::caller().file();
    assert_eq!(
        APP_HOOK_SEEN.lock().unwrap().last().unwrap(),
        &format!("{file}:{BOOM_LINE}")
    );
    let st = stacktrace("loc.boom.exception").expect("a location");
    assert_eq!(st, format!("panicked at {file}:{BOOM_LINE}:5"));

    // 3. `unwrap` on `None`: the caller's line, not core's.
    assert!(catch_unwind(|| unwraps(None)).is_err());
    let st = stacktrace("loc.unwrap.exception").expect("a location");
    assert_eq!(st, format!("panicked at {file}:{UNWRAP_LINE}:7"));

    // 4. `resume_unwind` of another payload: no location, none stale.
    let payload = catch_unwind(resumed).unwrap_err();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("resumed payload")
    );
    assert_eq!(stacktrace("loc.resumed.exception"), None);

    // 5. A panic caught outside any instrumented call earlier, then one
    //    re-raised: its own location.
    let _ = catch_unwind(|| panic!("caught elsewhere"));
    assert!(catch_unwind(reraised).is_err());
    let st = stacktrace("loc.reraised.exception").expect("its location");
    assert!(
        st.starts_with(&format!("panicked at {file}:{RERAISED_LINE}:")),
        "{st}"
    );

    // 6. A non-string payload: no location.
    assert!(catch_unwind(any_payload).is_err());
    assert_eq!(stacktrace("loc.any.exception"), None);

    // 7. The application replaces the hook later without chaining: panics
    //    are still recorded, without location.
    let replaced = AtomicUsize::new(0);
    let replaced: &'static AtomicUsize = Box::leak(Box::new(replaced));
    std::panic::set_hook(Box::new(move |_| {
        replaced.fetch_add(1, Ordering::SeqCst);
    }));
    let _ = catch_unwind(AssertUnwindSafe(unwraps_again));
    assert_eq!(replaced.load(Ordering::SeqCst), 1);
    let logs = telemetry().logs_named("loc.replaced.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].get("exception.type"), Some("panic"));
    assert_eq!(logs[0].get("exception.stacktrace"), None);
    let _ = std::panic::take_hook();
}

#[instrument_errors(name = "loc.replaced")]
fn unwraps_again() -> u32 {
    std::hint::black_box(None::<u32>).unwrap()
}
