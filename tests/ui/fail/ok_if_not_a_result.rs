use instrument_errors::instrument_errors;

// `ok_if` and `error_type` are about errors: a function that does not return
// a `Result` has none (`error_if` is what applies to it).
#[instrument_errors(ok_if = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound)]
fn count(n: u32) -> u32 {
    n + 1
}

#[instrument_errors(error_type = |_: &String| "bad")]
fn name(n: u32) -> Option<String> {
    Some(n.to_string())
}

fn main() {
    let _ = count(1);
    let _ = name(1);
}
