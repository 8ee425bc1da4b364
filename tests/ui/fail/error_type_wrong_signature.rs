use instrument_errors::instrument_errors;

#[derive(Debug)]
struct StoreError {
    code: u16,
}

// A number is not a `Cow<'static, str>`.
fn code(e: &StoreError) -> u16 {
    e.code
}

#[instrument_errors(error_type = code)]
fn by_path(id: u32) -> Result<u32, StoreError> {
    Ok(id)
}

// Takes two arguments.
#[instrument_errors(error_type = |e: &StoreError, extra: u8| format!("{}{extra}", e.code))]
fn by_closure(id: u32) -> Result<u32, StoreError> {
    Ok(id)
}

fn main() {
    let _ = by_path(1);
    let _ = by_closure(1);
}
