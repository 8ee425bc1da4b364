//! End to end over OTLP/gRPC: the example's services export through the
//! example's own OTLP setup to a tonic receiver on loopback. See
//! `common/end_to_end.rs` for what is checked; one test per process, as the
//! OpenTelemetry globals and the instruments each call site keeps are
//! process-wide.

mod common;

use instrument_errors_examples::telemetry::Protocol;

#[test]
fn grpc_wire_and_faults() {
    common::end_to_end::run(Protocol::Grpc);
}
