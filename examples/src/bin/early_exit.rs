//! A `main` that returns early through `?`, as real programs do, with its
//! providers held in a [`ShutdownGuard`]: everything recorded before the
//! error, and the error itself, still reaches the collector.
//!
//! ```sh
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run -p instrument-errors-examples --bin early_exit
//! ```
//!
//! It makes one call before the providers exist (start-up), installs them,
//! makes `IE_EARLY_EXIT_CALLS` calls (default 10), then fails to read a
//! configuration file that does not exist and leaves `main` through `?`,
//! with exit status 1. The batch span and log processors (5 s delay) and the
//! periodic metric reader (60 s interval) have exported nothing by then:
//! only the guard's shutdown delivers it. `examples/tests/early_exit.rs`
//! runs it against an in-process OTLP receiver and counts what arrived.
//!
//! [`ShutdownGuard`]: instrument_errors_examples::telemetry::ShutdownGuard

use std::error::Error;

use instrument_errors::instrument_errors;
use instrument_errors_examples::telemetry::{OtlpSettings, Pipeline};

/// One step of the work.
#[instrument_errors(name = "early_exit.step")]
fn step(n: u32) -> Result<u32, std::num::ParseIntError> {
    n.to_string().parse()
}

/// Reads the configuration; the file does not exist.
#[instrument_errors(name = "early_exit.load")]
fn load(path: &str) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn main() -> Result<(), Box<dyn Error>> {
    // Start-up, before the providers exist: nothing to record to yet.
    step(0)?;

    let settings = OtlpSettings::from_env().ok_or("set OTEL_EXPORTER_OTLP_ENDPOINT")??;
    let pipeline = Pipeline::otlp(&settings)?;
    pipeline.install(false)?;
    // Dropped on every way out of `main`: shuts the providers down.
    let _telemetry = pipeline.guard();

    let calls: u32 = std::env::var("IE_EARLY_EXIT_CALLS")
        .ok()
        .map_or(Ok(10), |v| v.parse())?;
    for n in 1..=calls {
        step(n)?;
    }
    let config = load("/nonexistent/instrument-errors/early_exit.toml")?;
    println!("unreachable: {config}");
    Ok(())
}
