//! No OpenTelemetry provider, but a global `tracing` subscriber (`fmt`,
//! writing to a sink): an application that only logs. `#[instrument_errors]`
//! then records no span and no metric but still emits its exception events
//! (`log = false` makes it inert again): the cost of that mode.

mod common;

use common::{ops, Mode};

fn main() {
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
    if common::side_modes("logs_only") {
        return;
    }
    let mut c = common::criterion();
    let variants: &[&str] = &["bare", "instrument_errors", "instrument_errors_no_log"];
    for mode in [Mode::Success, Mode::Failure] {
        common::compare(&mut c, "logs_only/sync", mode, &ops::SYNC, variants);
        common::compare(&mut c, "logs_only/async", mode, &ops::ASYNC, variants);
    }
    c.final_summary();
}
