//! The instrument-errors example, one command, two modes.
//!
//! ```sh
//! cargo run -p instrument-errors-examples
//! ```
//!
//! * **Without OTLP configuration** (`OTEL_EXPORTER_OTLP_ENDPOINT` unset), it
//!   records into the SDK's in-memory exporters and prints, for every call,
//!   what was recorded: span name and kind, span status, `error.type`, the
//!   duration point's attributes, the exception log record's severity. Add
//!   `--raw` (or set `IE_EXAMPLE_RAW=1`) to also print the raw data, as
//!   `opentelemetry-stdout`'s exporters write it.
//! * **With `OTEL_EXPORTER_OTLP_ENDPOINT`** set, spans, metrics and logs go
//!   to that OTLP collector, over `OTEL_EXPORTER_OTLP_PROTOCOL` (`grpc` or
//!   `http/protobuf`, the default), with `service.name` from
//!   `OTEL_SERVICE_NAME` (default `instrument-errors-example`). The three
//!   providers are flushed and shut down before exit.
//!
//! ```sh
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run -p instrument-errors-examples
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
//!     cargo run -p instrument-errors-examples
//! ```

use std::process::ExitCode;

use instrument_errors_examples::report;
use instrument_errors_examples::scenario::{Services, STEPS};
use instrument_errors_examples::telemetry::{OtlpSettings, Pipeline};

fn main() -> ExitCode {
    let raw = std::env::args().skip(1).any(|a| a == "--raw")
        || std::env::var("IE_EXAMPLE_RAW").is_ok_and(|v| !v.is_empty() && v != "0");
    // The async order service runs on this runtime; with OTLP/gRPC the
    // exporters' connection task does too, so it outlives the shutdown.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let _entered = runtime.enter();
    let services = Services::new(runtime.handle().clone());

    let result = match OtlpSettings::from_env() {
        None => {
            let (pipeline, memory) = Pipeline::in_memory(raw);
            install(&pipeline);
            // Shuts the providers down however `main` ends.
            let telemetry = pipeline.guard();
            print!("{}", report::run(telemetry.pipeline(), &memory, &services));
            println!(
                "In-memory exporters. `--raw` (or IE_EXAMPLE_RAW=1) also prints the raw data;\n\
                 set OTEL_EXPORTER_OTLP_ENDPOINT (and OTEL_EXPORTER_OTLP_PROTOCOL=grpc|http/protobuf)\n\
                 to export to an OTLP collector instead."
            );
            telemetry.shutdown()
        }
        Some(Err(message)) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
        Some(Ok(settings)) => {
            let pipeline = match Pipeline::otlp(&settings) {
                Ok(pipeline) => pipeline,
                Err(e) => {
                    eprintln!("cannot build the OTLP exporters: {e}");
                    return ExitCode::FAILURE;
                }
            };
            install(&pipeline);
            let telemetry = pipeline.guard();
            for step in STEPS {
                println!("{}  =>  {}", step.call, step.run(&services));
            }
            let result = telemetry.shutdown();
            if result.is_ok() {
                println!(
                    "Spans, metrics and logs exported over OTLP ({}) to {}.",
                    settings.protocol.as_str(),
                    std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").unwrap_or_default()
                );
            }
            result
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("telemetry shutdown: {e}");
            ExitCode::FAILURE
        }
    }
}

fn install(pipeline: &Pipeline) {
    pipeline
        .install(true)
        .expect("no other global tracing subscriber is installed");
}
