//! Nothing lost at exit: `examples/src/bin/early_exit.rs` leaves `main`
//! through `?` long before its batch processors or its metric reader would
//! export, and its first instrumented function was first called before the
//! providers existed. Run against an in-process OTLP receiver, everything
//! recorded after the providers were installed arrives: the guard shut them
//! down on the way out.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::{did_not_hang, string_attribute, Received, Receiver};
use instrument_errors_examples::telemetry::Protocol;
use opentelemetry_semantic_conventions::attribute::{CODE_FUNCTION_NAME, ERROR_TYPE};

const CALLS: usize = 25;

#[test]
fn a_question_mark_in_main_loses_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let received = Received::new();
    let any_port: SocketAddr = ([127, 0, 0, 1], 0).into();
    let receiver = Receiver::start(
        runtime.handle(),
        Protocol::HttpProtobuf,
        any_port,
        received.clone(),
    );

    let mut command = Command::new(env!("CARGO_BIN_EXE_early_exit"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OTEL_") {
            command.env_remove(key);
        }
    }
    command
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
        .env("IE_EARLY_EXIT_CALLS", CALLS.to_string());
    let output = did_not_hang("early_exit", Duration::from_secs(60), move || {
        command.output().expect("early_exit runs")
    });
    // It did leave through `?`: `main` returned the io error.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("Error: Os"), "{stderr}");
    assert!(stderr.contains("NotFound"), "{stderr}");

    // Spans: every step after the installation (not the one before it,
    // when there was nothing to record to) and the failed load.
    let spans = received.spans();
    let steps = spans
        .iter()
        .filter(|s| s.span.name == "early_exit.step")
        .count();
    assert_eq!(steps, CALLS, "{spans:#?}");
    let load: Vec<_> = spans
        .iter()
        .filter(|s| s.span.name == "early_exit.load")
        .collect();
    assert_eq!(load.len(), 1, "{spans:#?}");
    assert_eq!(
        string_attribute(&load[0].span.attributes, ERROR_TYPE).as_deref(),
        Some("std::io::ErrorKind::NotFound")
    );

    // Duration points: the periodic reader's first export would have come
    // after 60 s; the shutdown sent them.
    let count = |function: &str, error_type: Option<&str>| -> u64 {
        received
            .points()
            .iter()
            .filter(|p| {
                string_attribute(&p.point.attributes, CODE_FUNCTION_NAME).as_deref()
                    == Some(function)
                    && string_attribute(&p.point.attributes, ERROR_TYPE).as_deref() == error_type
            })
            .map(|p| p.point.count)
            .sum()
    };
    assert_eq!(count("early_exit::step", None), CALLS as u64);
    assert_eq!(
        count("early_exit::load", Some("std::io::ErrorKind::NotFound")),
        1
    );

    // The exception log record of the error `main` returned.
    let logs = received.logs();
    assert_eq!(logs.len(), 1, "{logs:#?}");
    assert_eq!(logs[0].record.event_name, "early_exit.load.exception");
    receiver.stop();
}
