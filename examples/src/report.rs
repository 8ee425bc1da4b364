//! The readable report: runs the scenario against in-memory exporters and
//! prints, for every call, what each of its spans recorded: the operation,
//! span status, `error.type`, the attributes of its duration point, and the
//! severity of its exception log record.

use std::fmt::Write as _;

use opentelemetry::trace::{SpanId, Status};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_semantic_conventions::attribute::{CODE_FUNCTION_NAME, ERROR_TYPE};

use crate::scenario::{Services, STEPS};
use crate::telemetry::{InMemory, Pipeline};

/// One point of a duration histogram, as flushed after a step.
struct Point {
    metric: String,
    attributes: Vec<(String, String)>,
    count: u64,
}

impl Point {
    fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Runs the scenario on `services` with `pipeline` installed, reading what
/// each call recorded from `memory`; returns the report.
pub fn run(pipeline: &Pipeline, memory: &InMemory, services: &Services) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "What each call recorded (span name and kind, span status, error.type;\n\
         its point on the duration histogram; its exception log record):\n"
    );
    for step in STEPS {
        let result = step.run(services);
        let _ = pipeline.tracer_provider.force_flush();
        let _ = pipeline.meter_provider.force_flush();
        let _ = pipeline.logger_provider.force_flush();
        let mut spans = memory.spans.get_finished_spans().unwrap_or_default();
        memory.spans.reset();
        let mut points = points(memory);
        memory.metrics.reset();
        let logs = memory.logs.get_emitted_logs().unwrap_or_default();
        memory.logs.reset();

        let _ = writeln!(out, "{}  =>  {result}", step.call);
        spans.sort_by_key(|s| s.start_time);
        for span in &spans {
            let depth = depth(span, &spans);
            let indent = "  ".repeat(depth + 1);
            let error_type = attribute(&span.attributes, ERROR_TYPE);
            let status = match &span.status {
                Status::Unset => "Unset".to_owned(),
                Status::Ok => "Ok".to_owned(),
                Status::Error { description } if description.is_empty() => "Error".to_owned(),
                Status::Error { description } => format!("Error {description:?}"),
            };
            let _ = writeln!(
                out,
                "{indent}{} ({:?}): status {status}, error.type {}",
                span.name,
                span.span_kind,
                error_type.as_deref().unwrap_or("-"),
            );
            let function = attribute(&span.attributes, CODE_FUNCTION_NAME);
            let point = take_point(&mut points, function.as_deref(), error_type.as_deref());
            let point = match point {
                Some(p) => {
                    let attributes: Vec<String> = p
                        .attributes
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    format!("{} {{{}}}", p.metric, attributes.join(", "))
                }
                None => "none (the future was cancelled: no duration)".to_owned(),
            };
            let _ = writeln!(out, "{indent}  metric point: {point}");
            let log = logs
                .iter()
                .find(|l| {
                    l.record.trace_context().map(|c| c.span_id) == Some(span.span_context.span_id())
                })
                .map(|l| {
                    format!(
                        "{} {}",
                        l.record.severity_text().unwrap_or("?"),
                        l.record.event_name().unwrap_or("?")
                    )
                });
            let _ = writeln!(
                out,
                "{indent}  exception log: {}",
                log.as_deref().unwrap_or("-")
            );
        }
        let _ = writeln!(out);
    }
    out
}

/// The nesting depth of `span` among `spans`.
fn depth(span: &SpanData, spans: &[SpanData]) -> usize {
    let mut depth = 0;
    let mut parent = span.parent_span_id;
    while parent != SpanId::INVALID {
        match spans.iter().find(|s| s.span_context.span_id() == parent) {
            Some(p) => {
                depth += 1;
                parent = p.parent_span_id;
            }
            None => break,
        }
    }
    depth
}

fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| match &kv.value {
            Value::String(s) => s.as_str().to_owned(),
            other => other.to_string(),
        })
}

/// The histogram points flushed since the last reset.
fn points(memory: &InMemory) -> Vec<Point> {
    let mut points = Vec::new();
    for resource in memory.metrics.get_finished_metrics().unwrap_or_default() {
        for scope in resource.scope_metrics() {
            for metric in scope.metrics() {
                let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = metric.data() else {
                    continue;
                };
                for p in histogram.data_points() {
                    let mut attributes: Vec<(String, String)> = p
                        .attributes()
                        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                        .collect();
                    attributes.sort();
                    points.push(Point {
                        metric: metric.name().to_owned(),
                        attributes,
                        count: p.count(),
                    });
                }
            }
        }
    }
    points
}

/// The point a span's call recorded: the default histogram's point with the
/// span's `code.function.name`, else a named histogram's point (which has no
/// `code.function.name`), with the same `error.type`.
fn take_point<'p>(
    points: &'p mut [Point],
    function: Option<&str>,
    error_type: Option<&str>,
) -> Option<&'p Point> {
    let index = points
        .iter()
        .position(|p| {
            p.count > 0
                && p.get(ERROR_TYPE) == error_type
                && function.is_some()
                && p.get(CODE_FUNCTION_NAME) == function
        })
        .or_else(|| {
            points.iter().position(|p| {
                p.count > 0
                    && p.get(ERROR_TYPE) == error_type
                    && p.get(CODE_FUNCTION_NAME).is_none()
            })
        })?;
    points[index].count -= 1;
    Some(&points[index])
}
