//! No provider installed (the OpenTelemetry no-op globals, no `tracing`
//! subscriber): the cost of instrumentation when nothing listens.

mod common;

use common::{ops, Mode};

fn main() {
    if common::side_modes("no_provider") {
        return;
    }
    let mut c = common::criterion();
    let variants: &[&str] = &[
        "bare",
        "hand_written",
        "instrument_errors",
        "tracing_instrument",
    ];
    for mode in [Mode::Success, Mode::Failure] {
        common::compare(&mut c, "no_provider/sync", mode, &ops::SYNC, variants);
        common::compare(&mut c, "no_provider/async", mode, &ops::ASYNC, variants);
    }
    let threaded = [ops::SYNC[0], ops::SYNC[3]]; // bare, instrument_errors
    common::threads(&mut c, "no_provider", &threaded, &[1, 2]);
    c.final_summary();
}
