//! The instrument-errors example: two small services annotated with
//! `#[instrument_errors]`, the OpenTelemetry setup that exports what they
//! record (in memory for a readable report, or over OTLP), and the report.
//!
//! Run it with `cargo run -p instrument-errors-examples` (see `main.rs` for
//! the options). The end-to-end tests in `examples/tests/` call the same
//! services with providers built by [`telemetry::Pipeline::otlp`].

#![warn(missing_docs)]

pub mod async_service;
pub mod report;
pub mod scenario;
pub mod store;
pub mod telemetry;

/// The README's Rust snippets, compiled as doctests (this crate has every
/// dependency they use).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
