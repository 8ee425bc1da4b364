use instrument_errors::instrument_errors;
use opentelemetry::KeyValue;

struct Reply {
    code: u16,
}

// Returns one `KeyValue`, not an iterator of them.
#[instrument_errors(result_attributes = |r: &Reply| KeyValue::new("acme.code", i64::from(r.code)))]
fn send(code: u16) -> Reply {
    Reply { code }
}

// Takes the `Ok` value, but `result_attributes` sees the whole `Result`.
fn reply_attributes(r: &Reply) -> Vec<KeyValue> {
    vec![KeyValue::new("acme.code", i64::from(r.code))]
}

#[instrument_errors(result_attributes = reply_attributes)]
fn send_path(code: u16) -> Result<Reply, std::io::Error> {
    Ok(Reply { code })
}

// Not a function at all.
#[instrument_errors(result_attributes = "http.response.status_code")]
fn send_literal(code: u16) -> Reply {
    Reply { code }
}

fn main() {
    let _ = send(200);
    let _ = send_path(200);
    let _ = send_literal(200);
}
