use instrument_errors::instrument_errors;

#[derive(Debug)]
struct StoreError;

// Takes the error by value instead of by reference.
fn is_handled(e: StoreError) -> bool {
    let _ = e;
    true
}

#[instrument_errors(ok_if = is_handled)]
fn by_path(id: u32) -> Result<u32, StoreError> {
    Ok(id)
}

// Returns a string instead of a bool.
#[instrument_errors(ok_if = |e: &StoreError| format!("{e:?}"))]
fn by_closure(id: u32) -> Result<u32, StoreError> {
    Ok(id)
}

// Expects another error type.
#[instrument_errors(ok_if = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound)]
fn wrong_error(id: u32) -> Result<u32, StoreError> {
    Ok(id)
}

fn main() {
    let _ = by_path(1);
    let _ = by_closure(1);
    let _ = wrong_error(1);
}
