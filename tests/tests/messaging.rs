//! Messages keep their trace (issue 22): a producer injects its context into
//! the message's headers through the global propagator; a consumer
//! continues it with `parent = ...` or links it with `links = ...`. The
//! links and the parent are given at span creation: the sampler sees them.
//! Own binary: the propagator and the sampler are process-wide.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, in_memory_logger, Telemetry};
use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceId,
    Tracer as _,
};
use opentelemetry::{global, Context, KeyValue};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, Sampler, SamplingResult, SdkTracerProvider, ShouldSample, SpanData,
};
use tokio::sync::mpsc;
use tracing_subscriber::layer::SubscriberExt as _;

/// What the sampler was shown for each span: name, parent span context,
/// links.
#[derive(Debug, Clone)]
struct Shown {
    name: String,
    parent: Option<SpanContext>,
    links: Vec<SpanContext>,
}

static SHOWN: Mutex<Vec<Shown>> = Mutex::new(Vec::new());

/// Always on, noting what it is shown.
#[derive(Debug, Clone)]
struct Noting;

impl ShouldSample for Noting {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        SHOWN.lock().unwrap().push(Shown {
            name: name.to_owned(),
            parent: parent_context
                .map(|cx| cx.span().span_context().clone())
                .filter(SpanContext::is_valid),
            links: links.iter().map(|l| l.span_context.clone()).collect(),
        });
        Sampler::AlwaysOn.should_sample(
            parent_context,
            trace_id,
            name,
            span_kind,
            attributes,
            links,
        )
    }
}

fn shown(name: &str) -> Vec<Shown> {
    SHOWN
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.name == name)
        .cloned()
        .collect()
}

fn telemetry() -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(|| {
        global::set_text_map_propagator(TraceContextPropagator::new());
        let spans = InMemorySpanExporter::default();
        let tracer_provider = SdkTracerProvider::builder()
            .with_sampler(Noting)
            .with_simple_exporter(spans.clone())
            .build();
        global::set_tracer_provider(tracer_provider.clone());
        let metrics = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        global::set_meter_provider(meter_provider.clone());
        let (logs, logger_provider) = in_memory_logger();
        let subscriber =
            tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&logger_provider));
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        Telemetry {
            spans,
            metrics,
            logs,
            tracer_provider,
            meter_provider,
            logger_provider,
        }
    })
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

// ---------------------------------------------------------------- the app

#[derive(Debug)]
struct Message {
    headers: HashMap<String, String>,
    body: u32,
}

#[derive(Debug, thiserror::Error, ErrorType)]
enum OrderError {
    #[error("the order is invalid")]
    Invalid,
}

/// Puts the current context (the producer's span) into the headers.
#[instrument_errors(name = "msg.publish", kind = producer)]
async fn publish(
    queue: &mpsc::Sender<Message>,
    body: u32,
) -> Result<(), mpsc::error::SendError<Message>> {
    let mut headers = HashMap::new();
    global::get_text_map_propagator(|p| p.inject(&mut headers));
    queue.send(Message { headers, body }).await
}

fn context_of(message: &Message) -> Context {
    global::get_text_map_propagator(|p| p.extract(&message.headers))
}

fn link_to(message: &Message) -> Link {
    Link::with_context(context_of(message).span().span_context().clone())
}

#[instrument_errors(name = "msg.step")]
async fn step(body: u32) -> Result<(), OrderError> {
    if body == 0 {
        Err(OrderError::Invalid)
    } else {
        Ok(())
    }
}

/// Continues the producer's trace.
#[instrument_errors(name = "msg.process", kind = consumer, parent = context_of(message))]
async fn process(message: &Message) -> Result<(), OrderError> {
    step(message.body).await
}

/// The same, synchronous, with the context by reference (what is tested
/// here, hence the allow).
#[allow(clippy::needless_borrows_for_generic_args)]
#[instrument_errors(name = "msg.process_sync", kind = consumer, parent = &context_of(message))]
fn process_sync(message: &Message) -> Result<(), OrderError> {
    if message.body == 0 {
        Err(OrderError::Invalid)
    } else {
        Ok(())
    }
}

/// Links every message of the batch.
#[instrument_errors(name = "msg.batch", kind = consumer, links = batch.iter().map(link_to))]
async fn process_batch(batch: &[Message]) -> Result<(), OrderError> {
    for message in batch {
        step(message.body).await?;
    }
    Ok(())
}

/// Links given as a `Vec`, synchronously.
#[instrument_errors(name = "msg.batch_sync", kind = consumer, links = batch.iter().map(link_to).collect::<Vec<_>>())]
fn process_batch_sync(batch: &[Message]) -> usize {
    batch.len()
}

fn the(name: &str) -> SpanData {
    telemetry().span(name)
}

/// Trace id and span id.
fn ids(span: &SpanData) -> (TraceId, SpanId) {
    of(&span.span_context)
}

fn of(cx: &SpanContext) -> (TraceId, SpanId) {
    (cx.trace_id(), cx.span_id())
}

/// Publishes `bodies` from inside an application span of its own (a
/// request handler, say) and returns the messages received.
fn publish_all(bodies: &[u32]) -> (Vec<Message>, TraceId) {
    block_on(async {
        let (queue, mut inbox) = mpsc::channel(16);
        let tracer = global::tracer("messaging-test");
        let root = tracer.start("msg.request");
        let trace = root.span_context().trace_id();
        let cx = Context::current_with_span(root);
        for &body in bodies {
            opentelemetry::trace::FutureExt::with_context(publish(&queue, body), cx.clone())
                .await
                .expect("room on the channel");
        }
        cx.span().end();
        drop(queue);
        let mut received = Vec::new();
        while let Some(m) = inbox.recv().await {
            received.push(m);
        }
        (received, trace)
    })
}

#[test]
fn the_consumer_continues_the_producers_trace() {
    let t = telemetry();
    let (messages, trace) = publish_all(&[1, 0]);
    assert!(messages[0].headers.contains_key("traceparent"));

    // Consumed outside any context (another runtime, no current span).
    let outcomes: Vec<_> = block_on(async {
        let mut results = Vec::new();
        for m in &messages {
            results.push(process(m).await);
        }
        results
    });
    assert!(outcomes[0].is_ok());
    assert!(matches!(outcomes[1], Err(OrderError::Invalid)));

    let publishes: Vec<SpanData> = t
        .spans_named("msg.publish")
        .into_iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .collect();
    assert_eq!(publishes.len(), 2);
    let processes = t.spans_named("msg.process");
    assert_eq!(processes.len(), 2);
    for (publish, process) in publishes.iter().zip(&processes) {
        assert_eq!(publish.span_context.trace_id(), trace);
        assert_eq!(publish.span_kind, SpanKind::Producer);
        // A child of the producer's span, in its trace, remote parent.
        assert_eq!(process.span_kind, SpanKind::Consumer);
        assert_eq!(process.span_context.trace_id(), trace);
        assert_eq!(process.parent_span_id, publish.span_context.span_id());
        assert!(process.parent_span_is_remote);
    }
    // The consumer's span is the current context in its body.
    let steps: Vec<SpanData> = t
        .spans_named("msg.step")
        .into_iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .collect();
    assert_eq!(steps.len(), 2);
    for (process, step) in processes.iter().zip(&steps) {
        assert_eq!(step.parent_span_id, process.span_context.span_id());
        assert_eq!(step.span_context.trace_id(), trace);
    }
    // The failure is recorded as usual, and its record is in the trace.
    assert!(matches!(processes[1].status, Status::Error { .. }));
    assert_eq!(
        attr(&processes[1], "error.type")
            .map(|v| v.to_string())
            .as_deref(),
        Some("invalid")
    );
    let logs = t.logs_named("msg.step.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].trace_id, Some(trace));
    assert_eq!(logs[0].span_id, Some(steps[1].span_context.span_id()));
    // The sampler saw the producer's span as the parent.
    let seen = shown("msg.process");
    assert_eq!(seen.len(), 2);
    for (s, publish) in seen.iter().zip(&publishes) {
        assert_eq!(s.parent.as_ref().map(of), Some(ids(publish)));
        // Remote: it came through the headers.
        assert!(s.parent.as_ref().is_some_and(SpanContext::is_remote));
    }

    // Synchronous, `&Context`.
    assert!(process_sync(&messages[0]).is_ok());
    let sync = the("msg.process_sync");
    assert_eq!(sync.span_context.trace_id(), trace);
    assert_eq!(sync.parent_span_id, publishes[0].span_context.span_id());
}

#[test]
fn a_batch_links_every_message() {
    let t = telemetry();
    let (messages, trace) = publish_all(&[7, 8, 9]);
    assert!(block_on(process_batch(&messages)).is_ok());
    assert_eq!(process_batch_sync(&messages), 3);

    let publishes: Vec<SpanData> = t
        .spans_named("msg.publish")
        .into_iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .collect();
    assert_eq!(publishes.len(), 3);
    for name in ["msg.batch", "msg.batch_sync"] {
        let batch = the(name);
        // Its own trace: linked, not a child.
        assert_ne!(batch.span_context.trace_id(), trace);
        assert_eq!(batch.parent_span_id, SpanId::INVALID);
        let linked: Vec<_> = batch.links.iter().map(|l| of(&l.span_context)).collect();
        let expected: Vec<_> = publishes.iter().map(ids).collect();
        assert_eq!(linked, expected, "{name}");
        // Given at creation: the sampler saw them.
        let seen = shown(name);
        assert_eq!(seen.len(), 1);
        let seen_links: Vec<_> = seen[0].links.iter().map(of).collect();
        assert_eq!(seen_links, expected, "{name}");
        assert_eq!(seen[0].parent, None);
    }
}
