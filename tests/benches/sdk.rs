//! The SDK installed (batch span processor, periodic reader, both exporting
//! nowhere), every span sampled: bare, hand-written, `#[instrument_errors]`
//! and `#[tracing::instrument(err)]` + tracing-opentelemetry side by side.

mod common;

use common::{ops, Mode};
use opentelemetry_sdk::trace::Sampler;

fn main() {
    let _providers = ops::install_sdk(Sampler::AlwaysOn, ops::Spans::Batch);
    if common::side_modes("sdk") {
        return;
    }
    let mut c = common::criterion();
    let all: &[&str] = &[];
    for mode in Mode::ALL {
        common::compare(&mut c, "sdk/sync", mode, &ops::SYNC, all);
    }
    for mode in Mode::ALL {
        common::compare(&mut c, "sdk/async", mode, &ops::ASYNC, all);
    }
    // Type-erased errors (issue 11): success must cost what it did, failure
    // adds the chain walk.
    for mode in [Mode::Success, Mode::Failure] {
        common::compare(&mut c, "sdk/erased", mode, &ops::ERASED, all);
    }
    let threaded = [
        ops::SYNC[1], // hand_written
        ops::SYNC[3], // instrument_errors
    ];
    common::threads(&mut c, "sdk", &threaded, &[1, 2]);
    c.final_summary();
}
