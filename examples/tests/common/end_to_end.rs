//! The end-to-end run, the same for both protocols: the example's services
//! export through [`Pipeline::otlp`] (the example's own setup) to the
//! loopback [`Receiver`], which is down at start, then up (the wire is
//! checked), then slow, then stopped mid-run and started again.
//!
//! One run per process: the OpenTelemetry globals, the per-call-site
//! instruments and the live-heap counter are process-wide.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use instrument_errors_examples::scenario::{Services, STEPS};
use instrument_errors_examples::telemetry::{OtlpSettings, Pipeline, Protocol};
use opentelemetry::global;
use opentelemetry::trace::{TraceContextExt as _, TraceId, Tracer as _};
use opentelemetry_otlp::RetryPolicy;
use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_semantic_conventions::attribute::{
    CODE_FUNCTION_NAME, ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_TYPE,
};

use super::{did_not_hang, string_attribute, Received, Receiver, WireSpan};

#[global_allocator]
static ALLOCATOR: instrument_errors_tests::LiveHeap = instrument_errors_tests::LiveHeap::new();

/// The capacity of the span and log batch queues in this run.
const QUEUE: usize = 256;
/// Calls made while the collector is unreachable, in rounds of the
/// scenario's 7 synchronous calls (9 spans, 2 log records per round): about
/// 36 000 spans, which held in memory would take well over [`SLACK`].
const ROUNDS: usize = 4_000;
/// Live-heap growth allowed over those rounds: the bounded queues (at most
/// [`QUEUE`] spans and records each, plus a batch being exported) and
/// transient buffers of the exporters. Measured: about 0.1 MB (gRPC) and
/// nothing (HTTP); with a queue of 100 000, which holds the whole backlog,
/// about 8.7 MB, which fails the test.
const SLACK: isize = 4 << 20;
/// A generous "did not hang" bound for flushes and runs.
const HANG: Duration = Duration::from_secs(60);
/// How long to wait for data to arrive once the receiver is up.
const ARRIVAL: Duration = Duration::from_secs(30);

/// Spans of one run of the scenario: 17 instrumented spans (`handle_get`
/// and `place_order` nest) under the test's root span.
const SPANS_PER_RUN: usize = 17;

/// The whole run for `protocol`.
pub fn run(protocol: Protocol) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let _entered = runtime.enter();
    let handle = runtime.handle().clone();
    let received = Received::new();

    // A free loopback port with nothing listening on it.
    let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port");

    let service_name = format!("instrument-errors-e2e-{}", protocol.as_str());
    let mut settings = OtlpSettings::new(protocol);
    settings.endpoint = Some(format!("http://{addr}"));
    settings.service_name = Some(service_name.clone());
    settings.timeout = Some(Duration::from_millis(1_000));
    settings.retry_policy = Some(
        RetryPolicy::recommended()
            .with_max_retries(1)
            .with_initial_delay(Duration::from_millis(50)),
    );
    settings.batch_delay = Some(Duration::from_millis(100));
    settings.max_queue_size = Some(QUEUE);
    settings.metric_interval = Some(Duration::from_millis(200));
    let pipeline = Pipeline::otlp(&settings).expect("OTLP exporters");
    pipeline
        .install(std::env::var_os("IE_E2E_DEBUG").is_some())
        .expect("the only tracing subscriber");

    // 1. The receiver is down at start: every call returns what it returns
    //    without the attribute, flushes return, memory stays bounded.
    for _ in 0..3 {
        run_scenario(&handle, "e2e.down");
    }
    bounded_memory_while_down(&handle);
    // Empties the full queues (their export fails), so that the next run's
    // spans are not dropped for a full queue.
    flush(&pipeline);

    // 2. The receiver comes up: export starts; the wire is checked.
    let receiver = Receiver::start(&handle, protocol, addr, received.clone());
    let trace = run_scenario(&handle, "e2e.up");
    flush(&pipeline);
    wait_for_run(&received, trace, "after the receiver came up");
    check_wire(&received, trace, &service_name);

    // 3. The receiver answers slowly (3s, the exporters' timeout is 1s):
    //    calls do not wait for it; flushes return; once it is fast again,
    //    export goes on.
    received.set_delay(Duration::from_secs(3));
    let before = received.requests();
    let slow = handle.clone();
    did_not_hang("calls while the receiver is slow", HANG, move || {
        for _ in 0..3 {
            run_scenario(&slow, "e2e.slow");
        }
    });
    flush(&pipeline);
    assert!(
        received.wait_until(ARRIVAL, |r| r.requests() > before),
        "the exporters reached the slow receiver"
    );
    received.set_delay(Duration::ZERO);
    let trace = run_scenario(&handle, "e2e.fast_again");
    flush(&pipeline);
    wait_for_run(&received, trace, "after the receiver was slow");

    // 4. The receiver stops mid-run (while calls are being made and
    //    exported) and comes back on the same port.
    let calls = handle.clone();
    let calls = std::thread::spawn(move || {
        for _ in 0..5 {
            run_scenario(&calls, "e2e.stopped");
        }
    });
    receiver.stop();
    did_not_hang("calls while the receiver stops", HANG, move || calls.join())
        .expect("every call returned what it returns without the attribute");
    flush(&pipeline);
    let receiver = Receiver::start(&handle, protocol, addr, received.clone());
    let trace = run_scenario(&handle, "e2e.restarted");
    flush(&pipeline);
    wait_for_run(&received, trace, "after the receiver restarted");

    let shutdown = pipeline.clone();
    did_not_hang("shutdown", HANG, move || shutdown.shutdown())
        .expect("all three providers shut down cleanly with the receiver up");
    receiver.stop();
}

/// Runs the scenario once under a root span named `root`, checking every
/// result; returns the trace id.
fn run_scenario(handle: &tokio::runtime::Handle, root: &'static str) -> TraceId {
    let services = Services::new(handle.clone());
    global::tracer("e2e").in_span(root, |cx| {
        for step in STEPS {
            assert_eq!(step.run(&services), step.expected, "{}", step.call);
        }
        cx.span().span_context().trace_id()
    })
}

/// Flushes the three providers; each returns, exported or not.
fn flush(pipeline: &Pipeline) {
    let pipeline = pipeline.clone();
    did_not_hang("force_flush", HANG, move || {
        let _ = pipeline.tracer_provider.force_flush();
        let _ = pipeline.meter_provider.force_flush();
        let _ = pipeline.logger_provider.force_flush();
    });
}

fn bounded_memory_while_down(handle: &tokio::runtime::Handle) {
    let round = |handle: &tokio::runtime::Handle| {
        let services = Services::new(handle.clone());
        for step in STEPS.iter().filter(|s| !s.is_async) {
            assert_eq!(step.run(&services), step.expected, "{}", step.call);
        }
    };
    // Warm-up: fills the queues and builds every lazily built structure.
    for _ in 0..ROUNDS / 4 {
        round(handle);
    }
    let start = ALLOCATOR.live();
    let rounds = handle.clone();
    did_not_hang("calls while the receiver is down", HANG, move || {
        for _ in 0..ROUNDS {
            round(&rounds);
        }
    });
    let growth = ALLOCATOR.live() - start;
    eprintln!("live heap growth over {ROUNDS} rounds with the receiver down: {growth} bytes");
    assert!(
        growth < SLACK,
        "live heap grew by {growth} bytes over {ROUNDS} rounds with the receiver down (allowed: {SLACK})"
    );
}

fn spans_of(received: &Received, trace: TraceId) -> Vec<WireSpan> {
    received
        .spans()
        .into_iter()
        .filter(|s| s.span.trace_id == trace.to_bytes())
        .collect()
}

/// Exception log records per run: four exceptions and one handled error.
const LOGS_PER_RUN: usize = 5;

fn wait_for_run(received: &Arc<Received>, trace: TraceId, when: &str) {
    let arrived = received.wait_until(ARRIVAL, |r| {
        spans_of(r, trace).len() > SPANS_PER_RUN
            && r.logs()
                .iter()
                .filter(|l| l.record.trace_id == trace.to_bytes())
                .count()
                == LOGS_PER_RUN
    });
    assert!(
        arrived,
        "export resumed {when}: {} spans of the run arrived ({} in all, {} requests)",
        spans_of(received, trace).len(),
        received.spans().len(),
        received.requests(),
    );
}

fn check_wire(received: &Received, trace: TraceId, service_name: &str) {
    let spans = spans_of(received, trace);
    let instrumented: Vec<&WireSpan> = spans
        .iter()
        .filter(|s| s.scope.name == "instrument-errors-examples")
        .collect();
    assert_eq!(instrumented.len(), SPANS_PER_RUN, "{spans:#?}");
    for s in &instrumented {
        assert_eq!(s.service_name.as_deref(), Some(service_name));
        assert_eq!(s.scope.version, env!("CARGO_PKG_VERSION"));
        let status = s.span.status.clone().unwrap_or_default();
        let error_type = string_attribute(&s.span.attributes, ERROR_TYPE);
        // error.type exactly on failures; Unset (never Ok) on successes.
        match status.code() {
            StatusCode::Error => assert!(error_type.is_some(), "{s:#?}"),
            StatusCode::Unset => assert!(error_type.is_none(), "{s:#?}"),
            StatusCode::Ok => panic!("status Ok is never set: {s:#?}"),
        }
        assert!(
            string_attribute(&s.span.attributes, CODE_FUNCTION_NAME)
                .is_some_and(|f| f.starts_with("instrument_errors_examples::")),
            "{s:#?}"
        );
    }
    let named = |name: &str| -> Vec<&WireSpan> {
        instrumented
            .iter()
            .copied()
            .filter(|s| s.span.name == name)
            .collect()
    };
    let summary = |s: &WireSpan| {
        let status = s.span.status.clone().unwrap_or_default();
        (
            status.code(),
            status.message,
            string_attribute(&s.span.attributes, ERROR_TYPE),
        )
    };
    let expect = |name: &str, want: &[(StatusCode, &str, Option<&str>)]| {
        let mut got: Vec<_> = named(name).into_iter().map(summary).collect();
        let mut want: Vec<_> = want
            .iter()
            .map(|(c, m, e)| (*c, m.to_string(), e.map(str::to_owned)))
            .collect();
        got.sort_by_key(|g| format!("{g:?}"));
        want.sort_by_key(|w| format!("{w:?}"));
        assert_eq!(got, want, "spans named {name}");
    };
    use StatusCode::{Error, Unset};
    expect(
        "acme.resource.create",
        &[(Unset, "", None), (Unset, "", None)],
    );
    expect(
        "acme.resource.get",
        &[
            (Unset, "", None),
            (Error, "no such resource", Some("not_found")),
        ],
    );
    expect(
        "GET /resources/{id}",
        &[
            (Unset, "", None),
            (Error, "no such resource", Some("not_found")),
        ],
    );
    expect(
        "acme.health",
        &[
            (Unset, "", None),
            (Error, "", Some("503")),
            (Error, "the store did not answer within 2s", Some("timeout")),
        ],
    );
    expect(
        "shop.order.place",
        &[
            (Unset, "", None),
            (Error, "no such item", Some("not_found")),
            (
                Error,
                "the payment provider did not answer within 50ms",
                Some("timeout"),
            ),
        ],
    );
    expect(
        "shop.inventory.reserve",
        &[
            (Unset, "", None),
            (Unset, "", None),
            (Error, "no such item", Some("not_found")),
        ],
    );
    // The piano's charge was cancelled by the timeout: Unset, no error.type.
    expect(
        "shop.payment.charge",
        &[(Unset, "", None), (Unset, "", None)],
    );
    let failing = |name: &str, error_type: &str| -> &WireSpan {
        named(name)
            .into_iter()
            .find(|s| {
                let status = s.span.status.clone().unwrap_or_default();
                status.code() == Error
                    && string_attribute(&s.span.attributes, ERROR_TYPE).as_deref()
                        == Some(error_type)
            })
            .expect("a failing span")
    };
    assert_eq!(
        failing("acme.resource.get", "not_found")
            .span
            .parent_span_id,
        failing("GET /resources/{id}", "not_found").span.span_id,
        "the store's span is a child of the handler's"
    );
    assert_eq!(
        failing("GET /resources/{id}", "not_found").span.kind(),
        SpanKind::Server
    );
    assert_eq!(
        failing("acme.resource.get", "not_found").span.kind(),
        SpanKind::Client
    );

    // Exception log records: once per exception, tied to the span it
    // escaped first (its trace id and span id), at the highest severity of
    // the frames it escaped; and one DEBUG record for the handled error.
    let logs: Vec<_> = received
        .logs()
        .into_iter()
        .filter(|l| l.record.trace_id == trace.to_bytes())
        .collect();
    let mut events: Vec<&str> = logs.iter().map(|l| l.record.event_name.as_str()).collect();
    events.sort_unstable();
    assert_eq!(
        events,
        [
            "acme.health.exception",
            "acme.resource.create.exception",
            "acme.resource.get.exception",
            "shop.inventory.reserve.exception",
            "shop.order.place.exception",
        ],
        "{logs:#?}"
    );
    let (handled, logs): (Vec<_>, Vec<_>) = logs
        .into_iter()
        .partition(|l| l.record.event_name == "acme.resource.create.exception");
    let handled = &handled[0];
    assert_eq!(handled.record.severity_number(), SeverityNumber::Debug);
    assert_eq!(
        string_attribute(&handled.record.attributes, EXCEPTION_TYPE).as_deref(),
        Some("already_exists")
    );
    for log in &logs {
        let span_name = log.record.event_name.trim_end_matches(".exception");
        let exception_type = string_attribute(&log.record.attributes, EXCEPTION_TYPE);
        let span = failing(span_name, exception_type.as_deref().unwrap_or("?"));
        assert_eq!(log.record.span_id, span.span.span_id, "{log:#?}");
        assert_eq!(log.record.trace_id, span.span.trace_id, "{log:#?}");
        // WARN for the internal function's error returned to the caller;
        // ERROR for those that escaped a server operation.
        let (severity, text) = if span_name == "acme.health" {
            (SeverityNumber::Warn, "WARN")
        } else {
            (SeverityNumber::Error, "ERROR")
        };
        assert_eq!(log.record.severity_number(), severity, "{log:#?}");
        assert_eq!(log.record.severity_text, text, "{log:#?}");
        let (_, message, error_type) = summary(span);
        assert_eq!(exception_type, error_type, "{log:#?}");
        assert_eq!(
            string_attribute(&log.record.attributes, EXCEPTION_MESSAGE),
            Some(message),
            "{log:#?}"
        );
    }

    // Duration histograms: unit `s`, the conventions' buckets, error.type
    // on failures' points only, the instrumentation scope.
    let arrived = received.wait_until(ARRIVAL, |r| {
        r.points().iter().any(|p| {
            p.metric == "shop.order.place.duration"
                && string_attribute(&p.point.attributes, ERROR_TYPE).as_deref() == Some("timeout")
        })
    });
    assert!(arrived, "the duration points arrived");
    let points = received.points();
    for p in &points {
        assert_eq!(p.unit, "s", "{p:#?}");
        assert_eq!(p.scope.name, "instrument-errors-examples", "{p:#?}");
        assert_eq!(
            p.point.explicit_bounds,
            instrument_errors::DURATION_BOUNDARIES,
            "{p:#?}"
        );
        assert_eq!(
            p.point.bucket_counts.iter().sum::<u64>(),
            p.point.count,
            "{p:#?}"
        );
    }
    let has_point = |metric: &str, function: Option<&str>, error_type: Option<&str>| {
        points.iter().any(|p| {
            p.metric == metric
                && p.point.count > 0
                && string_attribute(&p.point.attributes, CODE_FUNCTION_NAME).as_deref() == function
                && string_attribute(&p.point.attributes, ERROR_TYPE).as_deref() == error_type
                && p.point.attributes.len()
                    == usize::from(function.is_some()) + usize::from(error_type.is_some())
        })
    };
    let get = Some("instrument_errors_examples::store::Store::get");
    assert!(has_point("function.duration", get, None), "{points:#?}");
    assert!(
        has_point("function.duration", get, Some("not_found")),
        "{points:#?}"
    );
    let health = Some("instrument_errors_examples::store::Store::health");
    assert!(
        has_point("function.duration", health, Some("503")),
        "{points:#?}"
    );
    assert!(
        has_point("acme.resource.create.duration", None, None),
        "{points:#?}"
    );
    assert!(
        has_point("shop.order.place.duration", None, None),
        "{points:#?}"
    );
    assert!(
        has_point("shop.order.place.duration", None, Some("not_found")),
        "{points:#?}"
    );
    // A cancelled future records no error.type, on any point.
    let charge = "instrument_errors_examples::async_service::charge";
    assert!(!points.iter().any(|p| {
        string_attribute(&p.point.attributes, CODE_FUNCTION_NAME).as_deref() == Some(charge)
            && string_attribute(&p.point.attributes, ERROR_TYPE).is_some()
    }));
}
