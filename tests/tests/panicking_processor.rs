//! A span processor that panics when spans end must not cost an exception
//! record: a record pending from a call below (or made pending by the failing
//! call itself) is still emitted exactly once, and the calls return what they
//! would without the attribute. Its own binary: it installs the global
//! providers.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use instrument_errors::instrument_errors;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, Span, SpanData, SpanProcessor};
use tracing_subscriber::layer::SubscriberExt as _;

static RECORDS: AtomicUsize = AtomicUsize::new(0);

/// Counts the exception events.
struct Count;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().name().ends_with(".exception") {
            RECORDS.fetch_add(1, SeqCst);
        }
    }
}

/// Panics when a span whose name starts with `boom` ends.
#[derive(Debug)]
struct Panicky;

impl SpanProcessor for Panicky {
    fn on_start(&self, _: &mut Span, _: &opentelemetry::Context) {}
    fn on_end(&self, span: SpanData) {
        assert!(
            !span.name.starts_with("boom"),
            "the span processor panicked"
        );
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}

#[derive(Debug, PartialEq)]
struct Failed;

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("failed")
    }
}

impl std::error::Error for Failed {}

#[instrument_errors]
fn inner() -> Result<(), Failed> {
    Err(Failed)
}

#[instrument_errors(name = "boom_outer")]
fn outer() -> Result<(), Failed> {
    inner()?;
    Ok(())
}

#[instrument_errors(name = "boom_mid")]
fn mid() -> Result<(), Failed> {
    Err(Failed)
}

#[instrument_errors]
fn wrap() -> Result<(), Failed> {
    mid()?;
    Ok(())
}

fn records_of(call: impl FnOnce() -> Result<(), Failed>) -> usize {
    let before = RECORDS.load(SeqCst);
    assert_eq!(call(), Err(Failed));
    RECORDS.load(SeqCst) - before
}

#[test]
fn records_survive_a_panicking_span_processor() {
    let provider = SdkTracerProvider::builder()
        .with_span_processor(Panicky)
        .build();
    opentelemetry::global::set_tracer_provider(provider);
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Count))
        .expect("the only subscriber");
    // The pending record from `inner` passes through `boom_outer`, whose span
    // end panics.
    assert_eq!(records_of(outer), 1);
    // `boom_mid` makes its record pending, then its span end panics.
    assert_eq!(records_of(wrap), 1);
}
