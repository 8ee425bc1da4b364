//! Issue 17: the cost of the `http` flag against the helpers it replaces
//! (`error_if = server_error` with `result_attributes = response_attributes`)
//! and against no classification at all, the SDK installed with every span
//! sampled and dropped at its end (as `sdk_drop.rs`). Side by side in one
//! run; `IE_BENCH_PROFILE=<variant>:<success|failure>:<calls>` runs one
//! variant that many times and exits, for callgrind.

mod common;

use std::hint::black_box;

use common::{ops, Mode};
use http::StatusCode;
use instrument_errors::instrument_errors;
use opentelemetry_sdk::trace::Sampler;

#[inline(never)]
fn status(fail: bool) -> StatusCode {
    if black_box(fail) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

/// No classification: a span and a duration point.
#[instrument_errors(name = "bench.plain", kind = server)]
fn plain(fail: bool) -> StatusCode {
    status(fail)
}

/// The helpers of issue 14.
#[instrument_errors(
    name = "bench.helpers",
    kind = server,
    error_if = instrument_errors::http::server_error,
    result_attributes = instrument_errors::http::response_attributes,
)]
fn helpers(fail: bool) -> StatusCode {
    status(fail)
}

/// The flag of issue 17 (which also puts the status on the duration point).
#[instrument_errors(name = "bench.flag", kind = server, http)]
fn flag(fail: bool) -> StatusCode {
    status(fail)
}

/// The flag on a `Result` whose `Err` carries the status.
#[instrument_errors(name = "bench.flag_result", kind = server, http)]
fn flag_result(fail: bool) -> Result<&'static str, (StatusCode, &'static str)> {
    let status = status(fail);
    if status.is_server_error() {
        Err((status, "unavailable"))
    } else {
        Ok("ok")
    }
}

/// A named variant: its call.
type Variant = (&'static str, fn(bool));

const VARIANTS: [Variant; 4] = [
    ("plain", |f| {
        black_box(plain(f));
    }),
    ("helpers", |f| {
        black_box(helpers(f));
    }),
    ("flag", |f| {
        black_box(flag(f));
    }),
    ("flag_result", |f| {
        let _ = black_box(flag_result(f));
    }),
];

fn main() {
    let _providers = ops::install_sdk(Sampler::AlwaysOn, ops::Spans::DropAtEnd);
    if let Ok(spec) = std::env::var("IE_BENCH_PROFILE") {
        let mut parts = spec.split(':');
        let name = parts.next().unwrap_or_default();
        let fail = parts.next() == Some("failure");
        let calls: u64 = parts
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1_000_000);
        let op = VARIANTS
            .iter()
            .find(|(n, _)| *n == name)
            .expect("variant")
            .1;
        for _ in 0..calls {
            op(fail);
        }
        return;
    }
    let mut c = common::criterion();
    for mode in [Mode::Success, Mode::Failure] {
        let mut group = c.benchmark_group(format!("flags/{mode:?}"));
        for (name, op) in VARIANTS {
            group.bench_function(name, |b| {
                let mut n = 0u64;
                b.iter(|| {
                    n = n.wrapping_add(1);
                    op(black_box(mode.fails(n)));
                });
            });
        }
        group.finish();
    }
    c.final_summary();
}
