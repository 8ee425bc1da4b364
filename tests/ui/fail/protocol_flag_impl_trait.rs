use axum::response::IntoResponse;
use http::StatusCode;
use instrument_errors::instrument_errors;

// `impl IntoResponse` hides the status the flag reads.
#[instrument_errors(kind = server, http)]
async fn handler() -> impl IntoResponse {
    (StatusCode::OK, "hello")
}

// Inside a `Result` too.
#[instrument_errors(kind = server, http)]
async fn handler_result() -> Result<impl IntoResponse, (StatusCode, String)> {
    Ok("hello")
}

fn main() {
    let _ = handler();
    let _ = handler_result();
}
