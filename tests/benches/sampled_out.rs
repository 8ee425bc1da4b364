//! The SDK installed with `Sampler::AlwaysOff`: spans are sampled out, the
//! metric is still recorded. The floor is `metric_alone`.

mod common;

use common::{ops, Mode};
use opentelemetry_sdk::trace::Sampler;

fn main() {
    let _providers = ops::install_sdk(Sampler::AlwaysOff, ops::Spans::Batch);
    if common::side_modes("always_off") {
        return;
    }
    let mut c = common::criterion();
    let variants: &[&str] = &[
        "bare",
        "metric_alone",
        "hand_written",
        "instrument_errors",
        "tracing_instrument",
    ];
    for mode in [Mode::Success, Mode::Failure] {
        common::compare(&mut c, "always_off/sync", mode, &ops::SYNC, variants);
        common::compare(&mut c, "always_off/async", mode, &ops::ASYNC, variants);
    }
    c.final_summary();
}
