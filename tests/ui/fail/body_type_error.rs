use std::fmt::Display;

use instrument_errors::instrument_errors;

// Issue 10, point 9: a type error in the body is reported as on the plain
// function.
#[instrument_errors]
async fn not_display() -> impl Display {
    ("",)
}

#[instrument_errors]
fn not_display_sync() -> impl Display {
    ("",)
}

fn main() {
    drop(not_display());
    let _ = not_display_sync();
}
