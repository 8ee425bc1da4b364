use instrument_errors::instrument_errors;
use opentelemetry::trace::SpanContext;

// A span context is not a link: `Link::with_context(cx)` is.
#[instrument_errors(kind = consumer, links = contexts.iter().cloned())]
fn process_batch(contexts: &[SpanContext]) -> usize {
    contexts.len()
}

// One link is not an iterator of links: `[link]` is.
#[instrument_errors(kind = consumer, links = opentelemetry::trace::Link::with_context(cx.clone()))]
fn process_one(cx: &SpanContext) {}

// A context is given as `parent`, not as a link.
#[instrument_errors(kind = consumer, links = opentelemetry::Context::current())]
fn process_current() {}

// `parent` takes a Context, not a SpanContext.
#[instrument_errors(kind = consumer, parent = cx.clone())]
fn process_child(cx: &SpanContext) {}

fn main() {}
