//! The example as a user runs it (`cargo run -p instrument-errors-examples`):
//! without OTLP configuration it prints the readable report; with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` it exports spans, metrics and logs to that
//! collector over `OTEL_EXPORTER_OTLP_PROTOCOL` (both protocols, and the
//! default), with `service.name` from `OTEL_SERVICE_NAME`, and loses nothing
//! of its short run.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::Duration;

use common::{did_not_hang, string_attribute, Received, Receiver};
use instrument_errors_examples::scenario::STEPS;
use instrument_errors_examples::telemetry::Protocol;
use opentelemetry_semantic_conventions::attribute::ERROR_TYPE;

/// The example with a clean environment plus `vars`.
fn example(vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_instrument-errors-examples"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OTEL_") || key == "IE_EXAMPLE_RAW" {
            command.env_remove(key);
        }
    }
    command.envs(vars.iter().copied()).args(args);
    let output = did_not_hang("the example", Duration::from_secs(60), move || {
        command.output().expect("the example runs")
    });
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn report_by_default() {
    let output = example(&[], &[]);
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    // Every call with its result.
    for step in STEPS {
        assert!(
            stdout.contains(&format!("{}  =>  {}", step.call, step.expected)),
            "{stdout}"
        );
    }
    // What the failing read recorded: status, error.type, point, log record.
    for line in [
        r#"acme.resource.get (Client): status Error "no such resource", error.type not_found"#,
        "metric point: function.duration {code.function.name=instrument_errors_examples::store::Store::get, error.type=not_found}",
        "exception log: ERROR acme.resource.get.exception",
        "exception log: DEBUG acme.resource.create.exception",
        "exception log: WARN acme.health.exception",
        "exception log: ERROR shop.order.place.exception",
        "acme.health (Internal): status Error, error.type 503",
        "metric point: none (the future was cancelled: no duration)",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
    // Short: no raw exporter dump unless asked for.
    assert!(stdout.lines().count() < 120, "{stdout}");
    assert!(!stdout.contains("Spans"), "{stdout}");

    let raw = example(&[], &["--raw"]);
    let raw = String::from_utf8(raw.stdout).expect("UTF-8");
    assert!(raw.len() > stdout.len() * 2, "--raw adds the raw data");
    let env_raw = example(&[("IE_EXAMPLE_RAW", "1")], &[]);
    assert!(
        env_raw.stdout.len() > stdout.len() * 2,
        "IE_EXAMPLE_RAW=1 too"
    );
}

fn exports_over(protocol_var: Option<&str>, receiver_protocol: Protocol) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let received = Received::new();
    let any_port: SocketAddr = ([127, 0, 0, 1], 0).into();
    let receiver = Receiver::start(
        runtime.handle(),
        receiver_protocol,
        any_port,
        received.clone(),
    );
    let endpoint = receiver.endpoint();
    let mut vars = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SERVICE_NAME", "example-under-test"),
    ];
    if let Some(protocol) = protocol_var {
        vars.push(("OTEL_EXPORTER_OTLP_PROTOCOL", protocol));
    }
    let output = example(&vars, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("exported over OTLP"), "{stdout}");

    // The providers were shut down before exit: everything arrived.
    let spans = received.spans();
    assert_eq!(spans.len(), 17, "{spans:#?}");
    assert!(spans
        .iter()
        .all(|s| s.service_name.as_deref() == Some("example-under-test")));
    assert_eq!(received.logs().len(), 5);
    let points = received.points();
    assert!(points
        .iter()
        .any(|p| p.metric == "shop.order.place.duration"
            && string_attribute(&p.point.attributes, ERROR_TYPE).as_deref() == Some("timeout")));
    receiver.stop();
}

#[test]
fn exports_over_grpc() {
    exports_over(Some("grpc"), Protocol::Grpc);
}

#[test]
fn exports_over_http_protobuf() {
    exports_over(Some("http/protobuf"), Protocol::HttpProtobuf);
}

#[test]
fn exports_over_http_protobuf_by_default() {
    exports_over(None, Protocol::HttpProtobuf);
}
