use http::StatusCode;
use instrument_errors::instrument_errors;

// A flag classifies a server's or a client's result: `internal` is neither.
#[instrument_errors(kind = internal, http)]
fn internal() -> StatusCode {
    StatusCode::OK
}

// Without `kind`, the operation is `internal` too.
#[instrument_errors(grpc)]
fn no_kind() -> Result<tonic::Response<()>, tonic::Status> {
    Ok(tonic::Response::new(()))
}

// The flag already decides which statuses are failures.
#[instrument_errors(kind = server, http, error_if = instrument_errors::http::server_error)]
fn with_error_if() -> StatusCode {
    StatusCode::OK
}

// A flag takes no value, and only one is given.
#[instrument_errors(kind = client, http = true)]
fn with_value() -> StatusCode {
    StatusCode::OK
}

#[instrument_errors(kind = client, http, grpc)]
fn two_flags() -> StatusCode {
    StatusCode::OK
}

fn main() {
    let _ = internal();
    let _ = no_kind();
    let _ = with_error_if();
    let _ = with_value();
    let _ = two_flags();
}
