//! Issue 10, point 1: inner attributes stay first in the body and keep
//! applying to it (tracing#2294).

#![deny(warnings)]

use instrument_errors::instrument_errors;

#[deny(unused_variables)]
#[instrument_errors]
fn allowed_inside() {
    #![allow(unused_variables)]
    let i = 42;
}

#[instrument_errors]
async fn allowed_inside_async() -> u8 {
    #![allow(unused_variables, clippy::let_unit_value)]
    let unused = ();
    1
}

fn main() {
    allowed_inside();
    drop(allowed_inside_async());
}
