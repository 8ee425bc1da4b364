//! The SDK installed, every span sampled, each finished span dropped on the
//! caller's thread (no batch worker competing for the CPU): the deterministic
//! version of `sdk.rs`, for the ratios against the hand-written code.

mod common;

use common::{ops, Mode};
use opentelemetry_sdk::trace::Sampler;

fn main() {
    let _providers = ops::install_sdk(Sampler::AlwaysOn, ops::Spans::DropAtEnd);
    if common::side_modes("sdk_drop") {
        return;
    }
    let mut c = common::criterion();
    let variants: &[&str] = &[
        "hand_written",
        "instrument_errors",
        "instrument_errors_no_log",
        "tracing_instrument",
    ];
    for mode in [Mode::Success, Mode::Failure] {
        common::compare(&mut c, "sdk_drop/sync", mode, &ops::SYNC, variants);
        common::compare(&mut c, "sdk_drop/async", mode, &ops::ASYNC, variants);
    }
    // Thread scaling without the batch worker as a third busy thread: what is
    // left is the calls themselves and the state they share in the SDK.
    let threaded = [
        ops::SYNC[1], // hand_written
        ops::SYNC[3], // instrument_errors
        ops::SYNC[4], // instrument_errors_no_log
    ];
    common::threads(&mut c, "sdk_drop", &threaded, &[1, 2]);
    c.final_summary();
}
