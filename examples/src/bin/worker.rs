//! A tokio worker: a producer publishes orders on a channel, a consumer
//! processes them with retries, and a batch consumer processes several at
//! once. Every function is annotated with `#[instrument_errors]`; the trace
//! goes through the messages:
//!
//! * the producer (`kind = producer`) injects its span's context into each
//!   message's headers through the global propagator (W3C `traceparent`);
//! * the consumer (`kind = consumer`) continues that trace with
//!   `parent = context_of(&message)`: its span is a child of the producer's;
//! * the batch consumer links every message it processes with
//!   `links = ...`, as the messaging conventions ask for batches;
//! * retries: each attempt is its own operation (`orders process attempt`),
//!   the loop another (`orders process`). A busy attempt that is retried
//!   fails on its own span and duration point and is logged at `WARN`
//!   (handled by the loop); the operation records only its final outcome.
//!
//! Run it with `cargo run -p instrument-errors-examples --bin worker`. It
//! prints each message's outcome, then the spans (with their parent and
//! links), the duration points and the exception log records, read from
//! the SDK's in-memory exporters.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use instrument_errors::{instrument_errors, ErrorType};
use opentelemetry::logs::AnyValue;
use opentelemetry::trace::{Link, TraceContextExt as _};
use opentelemetry::{global, Context};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tokio::sync::mpsc;
use tracing_subscriber::layer::SubscriberExt as _;

/// A message on the channel: its headers carry the producer's trace context.
#[derive(Debug)]
struct Message {
    headers: HashMap<String, String>,
    order: u32,
}

#[derive(Debug, ErrorType)]
enum OrderError {
    /// The store is busy: worth retrying.
    Busy,
    /// The order cannot be processed, however often it is tried.
    Invalid,
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderError::Busy => f.write_str("the store is busy"),
            OrderError::Invalid => f.write_str("the order is invalid"),
        }
    }
}

impl std::error::Error for OrderError {}

/// Publishes an order, with the current context (this span's) in the
/// message's headers.
#[instrument_errors(name = "orders publish", kind = producer)]
async fn publish(
    queue: &mpsc::Sender<Message>,
    order: u32,
) -> Result<(), mpsc::error::SendError<Message>> {
    let mut headers = HashMap::new();
    global::get_text_map_propagator(|propagator| propagator.inject(&mut headers));
    queue.send(Message { headers, order }).await
}

/// The context the producer put in the message's headers.
fn context_of(message: &Message) -> Context {
    global::get_text_map_propagator(|propagator| propagator.extract(&message.headers))
}

/// A link to the span that produced the message.
fn link_to(message: &Message) -> Link {
    Link::with_context(context_of(message).span().span_context().clone())
}

/// How many times each order was tried, to make some orders busy once.
static TRIES: [AtomicU32; 16] = [const { AtomicU32::new(0) }; 16];

/// One attempt at an order: order 2 is busy at its first attempt, order 3
/// is always busy, order 4 is invalid.
#[instrument_errors(name = "orders process attempt")]
async fn attempt(order: u32) -> Result<(), OrderError> {
    let tried = TRIES[order as usize % 16].fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2)).await;
    match order {
        2 if tried == 0 => Err(OrderError::Busy),
        3 => Err(OrderError::Busy),
        4 => Err(OrderError::Invalid),
        _ => Ok(()),
    }
}

/// Up to three attempts, retrying only `Busy`.
async fn with_retries(order: u32) -> Result<(), OrderError> {
    let mut tries: u32 = 0;
    loop {
        tries += 1;
        match attempt(order).await {
            Err(OrderError::Busy) if tries < 3 => {
                tokio::time::sleep(Duration::from_millis(5 * u64::from(tries))).await;
            }
            outcome => return outcome,
        }
    }
}

/// Processes one message, in the producer's trace.
#[instrument_errors(
    name = "orders process",
    kind = consumer,
    parent = context_of(message),
    attributes("messaging.destination.name" = "orders"),
)]
async fn process(message: &Message) -> Result<(), OrderError> {
    with_retries(message.order).await
}

/// Processes a batch: one span, linked to every message's producer.
#[instrument_errors(
    name = "orders process batch",
    kind = consumer,
    links = batch.iter().map(link_to),
    attributes("messaging.batch.message_count" = batch.len() as i64),
)]
async fn process_batch(batch: &[Message]) -> Result<(), OrderError> {
    for message in batch {
        with_retries(message.order).await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    global::set_meter_provider(meter_provider.clone());
    let logs = InMemoryLogExporter::default();
    let logger_provider = SdkLoggerProvider::builder()
        .with_simple_exporter(logs.clone())
        .build();
    let subscriber =
        tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&logger_provider));
    instrument_errors::tracing::subscriber::set_global_default(subscriber)
        .expect("no other subscriber");

    // One message at a time: orders 1 to 4.
    let (queue, mut inbox) = mpsc::channel::<Message>(16);
    let consumer = tokio::spawn(async move {
        let mut outcomes = Vec::new();
        while let Some(message) = inbox.recv().await {
            outcomes.push((message.order, process(&message).await));
        }
        outcomes
    });
    for order in 1..=4 {
        publish(&queue, order).await.expect("the consumer runs");
    }
    drop(queue);
    for (order, outcome) in consumer.await.expect("the consumer") {
        match outcome {
            Ok(()) => println!("order {order}: processed"),
            Err(e) => println!("order {order}: failed: {e}"),
        }
    }

    // A batch: orders 5 and 6, linked to their producers.
    let (queue, mut inbox) = mpsc::channel::<Message>(16);
    for order in [5, 6] {
        publish(&queue, order).await.expect("the channel has room");
    }
    drop(queue);
    let mut batch = Vec::new();
    while let Some(message) = inbox.recv().await {
        batch.push(message);
    }
    match process_batch(&batch).await {
        Ok(()) => println!("batch of {}: processed", batch.len()),
        Err(e) => println!("batch of {}: failed: {e}", batch.len()),
    }

    let _ = tracer_provider.force_flush();
    let finished = spans.get_finished_spans().expect("spans");
    print_spans(&finished);
    meter_provider.force_flush().expect("flush metrics");
    print_points(&metrics);
    let _ = logger_provider.force_flush();
    println!("\n===== exception log records =====");
    for log in logs.get_emitted_logs().expect("logs") {
        let record = &log.record;
        // Only this program's exception records, not the SDK's own events.
        if !record
            .event_name()
            .is_some_and(|n| n.ends_with(".exception"))
        {
            continue;
        }
        let attribute = |key: &str| {
            record
                .attributes_iter()
                .find(|(k, _)| k.as_str() == key)
                .map_or_else(
                    || "-".to_owned(),
                    |(_, v)| match v {
                        AnyValue::String(s) => s.to_string(),
                        other => format!("{other:?}"),
                    },
                )
        };
        let span = record
            .trace_context()
            .and_then(|t| {
                finished
                    .iter()
                    .find(|s| s.span_context.span_id() == t.span_id)
            })
            .map_or("-", |s| &s.name);
        println!(
            "{:<32} {:<6} exception.type={:<10} span={}",
            record.event_name().unwrap_or("-"),
            record.severity_text().unwrap_or("-"),
            attribute("exception.type"),
            span,
        );
    }
    let _ = tracer_provider.shutdown();
    let _ = meter_provider.shutdown();
    let _ = logger_provider.shutdown();
}

fn print_spans(finished: &[SpanData]) {
    println!("\n===== spans =====");
    let name_of = |id| {
        finished
            .iter()
            .find(|s| s.span_context.span_id() == id)
            .map_or("-", |s| s.name.as_ref())
    };
    for span in finished {
        let error_type = span
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "error.type")
            .map_or_else(|| "-".to_owned(), |kv| kv.value.to_string());
        let links: Vec<&str> = span
            .links
            .iter()
            .map(|l| name_of(l.span_context.span_id()))
            .collect();
        let trace = span.span_context.trace_id().to_string();
        println!(
            "{:<24} {:<8} trace={} parent={:<24} links={:<36} status={:<32} error.type={}",
            span.name,
            format!("{:?}", span.span_kind),
            &trace[..8],
            name_of(span.parent_span_id),
            format!("{links:?}"),
            format!("{:?}", span.status),
            error_type,
        );
    }
}

fn print_points(metrics: &InMemoryMetricExporter) {
    println!("\n===== duration points =====");
    let exported = metrics.get_finished_metrics().expect("metrics");
    for scope in exported.last().into_iter().flat_map(|m| m.scope_metrics()) {
        for metric in scope.metrics() {
            let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = metric.data() else {
                continue;
            };
            for point in histogram.data_points() {
                let attribute = |key: &str| {
                    point
                        .attributes()
                        .find(|kv| kv.key.as_str() == key)
                        .map_or_else(|| "-".to_owned(), |kv| kv.value.to_string())
                };
                println!(
                    "{:<18} {:<60} error.type={:<8} count={}",
                    metric.name(),
                    attribute("code.function.name"),
                    attribute("error.type"),
                    point.count()
                );
            }
        }
    }
}
