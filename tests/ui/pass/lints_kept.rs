//! Issue 10, point 9: the function's own lints behave as on the plain
//! function: an unused instrumented function is dead code, so `#[expect]`
//! is fulfilled (an unfulfilled expectation would fail under `deny`).

#![deny(warnings)]

use instrument_errors::instrument_errors;

#[expect(dead_code)]
#[instrument_errors]
fn never_called() -> u8 {
    1
}

#[expect(dead_code)]
#[instrument_errors]
async fn never_awaited() -> Result<u8, std::io::Error> {
    Ok(1)
}

fn main() {}
