#![deny(dead_code)]

use instrument_errors::instrument_errors;

// Issue 10, point 9: an unused instrumented function is reported as on the
// plain function, at its name.
#[instrument_errors]
fn never_called() -> u8 {
    1
}

fn main() {}
