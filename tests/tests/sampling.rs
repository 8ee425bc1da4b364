//! A span sampled out (`ParentBased(TraceIdRatioBased(0.0))`): nothing is
//! exported for it, its span context (trace id, not-sampled flag) is the
//! current context while the body runs so that nested calls stay sampled out
//! in the same trace, the duration is still recorded, and neither the span's
//! attributes nor (with no log record to write) the error message are
//! computed; the sampler sees `code.function.name`. Own binary: the sampler
//! is process-wide.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use instrument_errors::{instrument_errors, ErrorType};
use opentelemetry::trace::{Link, SpanContext, SpanKind, TraceContextExt as _, TraceId};
use opentelemetry::{global, Context, KeyValue};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, Sampler, SamplingResult, SdkTracerProvider, ShouldSample,
};

/// The `code.function.name` of every span the sampler was asked about.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// `ParentBased(TraceIdRatioBased(0.0))`, noting what it is shown.
#[derive(Debug, Clone)]
struct Noting(Sampler);

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
        if let Some(kv) = attributes
            .iter()
            .find(|kv| kv.key.as_str() == "code.function.name")
        {
            SEEN.lock().unwrap().push(kv.value.to_string());
        }
        self.0
            .should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}

struct Sdk {
    spans: InMemorySpanExporter,
    tracer_provider: SdkTracerProvider,
    metrics: InMemoryMetricExporter,
    meter_provider: SdkMeterProvider,
}

fn sdk() -> &'static Sdk {
    static SDK: OnceLock<Sdk> = OnceLock::new();
    SDK.get_or_init(|| {
        let spans = InMemorySpanExporter::default();
        let tracer_provider = SdkTracerProvider::builder()
            .with_sampler(Noting(Sampler::ParentBased(Box::new(
                Sampler::TraceIdRatioBased(0.0),
            ))))
            .with_simple_exporter(spans.clone())
            .build();
        global::set_tracer_provider(tracer_provider.clone());
        let metrics = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        global::set_meter_provider(meter_provider.clone());
        Sdk {
            spans,
            tracer_provider,
            metrics,
            meter_provider,
        }
    })
}

impl Sdk {
    fn exported_spans(&self) -> usize {
        let _ = self.tracer_provider.force_flush();
        self.spans.get_finished_spans().expect("spans").len()
    }

    /// Count of the `function.duration` points of `function` with `error_type`.
    fn count(&self, function: &str, error_type: Option<&str>) -> u64 {
        self.meter_provider.force_flush().expect("flush");
        let exported = self.metrics.get_finished_metrics().expect("metrics");
        let Some(latest) = exported.last() else {
            return 0;
        };
        let mut count = 0;
        for scope in latest.scope_metrics() {
            for m in scope.metrics().filter(|m| m.name() == "function.duration") {
                let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() else {
                    panic!("not an f64 histogram");
                };
                for dp in h.data_points() {
                    let get = |key: &str| {
                        dp.attributes()
                            .find(|kv| kv.key.as_str() == key)
                            .map(|kv| kv.value.to_string())
                    };
                    if get("code.function.name").as_deref() == Some(function)
                        && get("error.type").as_deref() == error_type
                    {
                        count += dp.count();
                    }
                }
            }
        }
        count
    }
}

static DISPLAYED: AtomicUsize = AtomicUsize::new(0);
static ATTRIBUTES: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, ErrorType)]
enum Error {
    #[error_type("timeout")]
    TimedOut,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        DISPLAYED.fetch_add(1, Ordering::SeqCst);
        f.write_str("timed out")
    }
}

fn attribute_value() -> i64 {
    ATTRIBUTES.fetch_add(1, Ordering::SeqCst);
    7
}

fn current() -> SpanContext {
    Context::current().span().span_context().clone()
}

#[instrument_errors(attributes("op.value" = attribute_value()))]
fn outer() -> Result<(SpanContext, SpanContext), Error> {
    Ok((current(), inner()?))
}

#[instrument_errors]
fn inner() -> Result<SpanContext, Error> {
    Ok(current())
}

#[instrument_errors(log = false, attributes("op.value" = attribute_value()))]
fn failing() -> Result<(), Error> {
    Err(Error::TimedOut)
}

#[test]
fn sampled_out_calls_record_the_metric_and_keep_the_trace() {
    let sdk = sdk();
    let (outer_cx, inner_cx) = outer().expect("ok");
    assert!(outer_cx.is_valid(), "the sampled-out span is current");
    assert!(!outer_cx.is_sampled());
    assert!(inner_cx.is_valid());
    assert!(!inner_cx.is_sampled(), "a nested call stays sampled out");
    assert_eq!(
        inner_cx.trace_id(),
        outer_cx.trace_id(),
        "in the same trace"
    );
    assert_ne!(inner_cx.span_id(), outer_cx.span_id());
    assert_eq!(current(), SpanContext::empty_context(), "restored after");

    assert!(failing().is_err());

    assert_eq!(sdk.exported_spans(), 0, "nothing exported");
    assert_eq!(ATTRIBUTES.load(Ordering::SeqCst), 0, "no attribute work");
    assert_eq!(DISPLAYED.load(Ordering::SeqCst), 0, "no message formatted");
    let path = module_path!();
    assert_eq!(sdk.count(&format!("{path}::outer"), None), 1);
    assert_eq!(sdk.count(&format!("{path}::inner"), None), 1);
    assert_eq!(sdk.count(&format!("{path}::failing"), Some("timeout")), 1);
    // `code.function.name` is given at creation, where samplers see it.
    assert_eq!(
        *SEEN.lock().unwrap(),
        [
            format!("{path}::outer"),
            format!("{path}::inner"),
            format!("{path}::failing")
        ]
    );
}
