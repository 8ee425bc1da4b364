use instrument_errors::instrument_errors;

struct Reply {
    code: u16,
}

// Returns a bool instead of an `Option` of the error.type.
#[instrument_errors(error_if = |r: &Reply| r.code >= 500)]
fn send(code: u16) -> Result<Reply, std::io::Error> {
    Ok(Reply { code })
}

// `Option<u16>`: the error.type must be a string.
fn server_error(r: &Reply) -> Option<u16> {
    (r.code >= 500).then_some(r.code)
}

#[instrument_errors(error_if = server_error)]
fn send_path(code: u16) -> Result<Reply, std::io::Error> {
    Ok(Reply { code })
}

fn main() {
    let _ = send(200);
    let _ = send_path(200);
}
