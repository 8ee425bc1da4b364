use instrument_errors::instrument_errors;

// A `u16` is not a response: the helpers need a status type.
#[instrument_errors(kind = server, error_if = instrument_errors::http::server_error)]
fn handle(code: u16) -> u16 {
    code
}

#[instrument_errors(
    kind = client,
    result_attributes = instrument_errors::http::response_attributes
)]
fn call(code: u16) -> Result<u16, std::io::Error> {
    Ok(code)
}

fn main() {
    let _ = handle(200);
    let _ = call(200);
}
