//! Issue 10, point 9: the lints of an instrumented function behave as on the
//! plain function. Every `#[expect]` below must be fulfilled: under `cargo
//! clippy -- -D warnings` (CI) an unfulfilled expectation is an error, so a
//! lint the expansion hid would fail the build. rustc's own lints
//! (`dead_code`) are checked by `cargo test` as well.

#![warn(clippy::pedantic)]

use instrument_errors::instrument_errors;

#[derive(Debug)]
pub struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

/// Returns a `Result` without an `# Errors` section.
#[expect(clippy::missing_errors_doc)]
#[instrument_errors]
pub fn missing_errors_doc(x: u8) -> Result<u8, Failed> {
    if x > 1 {
        Ok(x)
    } else {
        Err(Failed)
    }
}

/// Returns a value nobody is told to use.
#[expect(clippy::must_use_candidate)]
#[instrument_errors]
pub fn must_use_candidate(x: u8) -> u8 {
    x.wrapping_add(1)
}

/// May panic without a `# Panics` section.
#[expect(clippy::missing_panics_doc, clippy::must_use_candidate)]
#[instrument_errors]
pub fn missing_panics_doc(x: Option<u8>) -> u8 {
    x.unwrap()
}

/// Returns a `Result` from an `async fn` without an `# Errors` section.
#[expect(clippy::missing_errors_doc)]
#[instrument_errors]
pub async fn async_missing_errors_doc(x: u8) -> Result<u8, Failed> {
    if x > 1 {
        Ok(x)
    } else {
        Err(Failed)
    }
}

#[expect(dead_code)]
#[instrument_errors]
fn never_called() -> u8 {
    1
}

#[test]
fn the_functions_still_run() {
    assert_eq!(missing_errors_doc(2).ok(), Some(2));
    assert_eq!(must_use_candidate(2), 3);
    assert_eq!(missing_panics_doc(Some(1)), 1);
    drop(async_missing_errors_doc(1));
}
