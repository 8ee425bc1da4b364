//! The SDK installed with a parent-based ratio sampler,
//! `ParentBased(TraceIdRatioBased(0.0))`: every root span goes through the
//! ratio decision and is sampled out. The floor is
//! `metric_alone`.

mod common;

use common::{ops, Mode};
use opentelemetry_sdk::trace::Sampler;

fn main() {
    let _providers = ops::install_sdk(
        Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.0))),
        ops::Spans::Batch,
    );
    if common::side_modes("parent_ratio") {
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
        common::compare(&mut c, "parent_ratio/sync", mode, &ops::SYNC, variants);
        common::compare(&mut c, "parent_ratio/async", mode, &ops::ASYNC, variants);
    }
    c.final_summary();
}
