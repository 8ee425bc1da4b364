//! Issue 12: the cost of an exception record whose fate is decided above the
//! frame it escaped first. The SDK as in `sdk_drop.rs` (every span sampled,
//! dropped on the caller's thread; `tracing` subscriber with the
//! tracing-opentelemetry layer).
//!
//! * `instrument_errors`: one frame; a failure's record is emitted at once
//!   (outermost), as before issue 12;
//! * `instrument_errors_nested`: an instrumented function calling another;
//!   the inner failure's record is pending (a copy that owns its message and
//!   span context) until it escapes the outer call;
//! * `instrument_errors_nested_server`: the same with a `kind = server`
//!   outer function (the record is emitted at `ERROR` there);
//! * `instrument_errors_handled_by_caller`: the outer function handles the
//!   inner failure and returns `Ok` (the record is emitted then, at `WARN`);
//! * `instrument_errors_ok_if`: an error that `ok_if` accepts (a `DEBUG`
//!   record).
//!
//! On success every nested variant makes two instrumented calls.

mod common;

use common::{ops, Mode};
use instrument_errors::instrument_errors;
use opentelemetry_sdk::trace::Sampler;

#[instrument_errors]
fn inner(fail: bool) -> Result<u64, ops::OpError> {
    ops::body(fail)
}

#[instrument_errors]
fn nested(fail: bool) -> Result<u64, ops::OpError> {
    inner(fail)
}

#[instrument_errors(kind = server)]
fn nested_server(fail: bool) -> Result<u64, ops::OpError> {
    inner(fail)
}

#[instrument_errors]
fn handled_by_caller(fail: bool) -> Result<u64, ops::OpError> {
    Ok(inner(fail).unwrap_or(0))
}

#[instrument_errors(ok_if = |_: &ops::OpError| true)]
fn ok_if(fail: bool) -> Result<u64, ops::OpError> {
    ops::body(fail)
}

const VARIANTS: [(&str, ops::Op); 5] = [
    ("instrument_errors", ops::instrumented),
    ("instrument_errors_nested", nested),
    ("instrument_errors_nested_server", nested_server),
    ("instrument_errors_handled_by_caller", handled_by_caller),
    ("instrument_errors_ok_if", ok_if),
];

fn main() {
    let _providers = ops::install_sdk(Sampler::AlwaysOn, ops::Spans::DropAtEnd);
    let mut c = common::criterion();
    for mode in [Mode::Success, Mode::Failure] {
        common::compare(&mut c, "nested/sync", mode, &VARIANTS, &[]);
    }
    c.final_summary();
}
