#![deny(unused_must_use)]

use instrument_errors::instrument_errors;

// `#[must_use]` (like every other attribute on the function) is kept: ignoring
// the result of the instrumented function is still reported.
#[instrument_errors]
#[must_use = "the id is the only handle to the new resource"]
fn create(name: &str) -> usize {
    name.len()
}

fn main() {
    create("a");
}
